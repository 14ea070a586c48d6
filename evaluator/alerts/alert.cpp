#include "evaluator/alerts/alert.hpp"

#include <fmt/format.h>

#include "common/time_format.hpp"

namespace ste::eval {

// Numbers use fmt's "{}": the shortest text that round-trips, so 80.0 reads "80" and 93.2 reads
// "93.2", never "93.200000000000003".
std::string alert_message(const Rule& rule, const std::string& device, double value,
                          std::optional<double> mean, std::optional<double> stddev) {
  switch (rule.condition) {
    case Condition::above_threshold:
      return fmt::format("{} {} above {} on {}", rule.metric, value, rule.threshold, device);
    case Condition::below_threshold:
      return fmt::format("{} {} below {} on {}", rule.metric, value, rule.threshold, device);
    case Condition::deviation_from_mean:
      if (mean && stddev) {
        return fmt::format("{} {} deviates from mean {} by more than {} stddev (stddev {}) on {}",
                           rule.metric, value, *mean, rule.threshold, *stddev, device);
      }
      return fmt::format("{} {} deviates from the mean by more than {} stddev on {}", rule.metric,
                         value, rule.threshold, device);
    case Condition::no_data: {
      // `value` is how long the device or series has been silent, in minutes.
      const auto minutes = static_cast<long long>(value);
      const char* unit = minutes == 1 ? "minute" : "minutes";
      if (rule.metric == "*") {
        return fmt::format("{} sent no reading for {} {} (silent_minutes {})", device, minutes,
                           unit, rule.silent_minutes);
      }
      return fmt::format("{} sent no {} reading for {} {} (silent_minutes {})", device, rule.metric,
                         minutes, unit, rule.silent_minutes);
    }
  }
  return fmt::format("{} {} on {}", rule.metric, value, device);
}

std::string_view episode_status_name(EpisodeStatus s) {
  switch (s) {
    case EpisodeStatus::pending:
      return "pending";
    case EpisodeStatus::firing:
      return "firing";
    case EpisodeStatus::resolved:
      return "resolved";
    case EpisodeStatus::cancelled:
      return "cancelled";
  }
  return "pending";
}

std::optional<EpisodeStatus> parse_episode_status(std::string_view s) {
  for (auto st : {EpisodeStatus::pending, EpisodeStatus::firing, EpisodeStatus::resolved,
                  EpisodeStatus::cancelled}) {
    if (episode_status_name(st) == s) return st;
  }
  return std::nullopt;
}

namespace {
void time_field(JsonWriter& w, const char* name, const std::optional<TimePoint>& t) {
  w.key(name);
  if (t) {
    w.value(format_rfc3339_ms(*t));
  } else {
    w.null();
  }
}
}  // namespace

void write_alert_fields(JsonWriter& w, const Alert& a) {
  w.field("id", a.id);
  w.field("rule_id", a.rule_id);
  w.field("tenant", a.tenant);
  w.field("device", a.device);
  w.field("metric", a.metric);
  w.field("condition", condition_name(a.condition));
  w.field("threshold", a.threshold);
  w.field("value", a.value);
  w.field("reading_ts", format_rfc3339_ms(a.reading_ts));
  w.field("mean", a.mean);
  w.field("stddev", a.stddev);
  w.field("severity", severity_name(a.severity));
  w.field("message", a.message);
  w.field("created_at", format_rfc3339_ms(a.created_at));
  w.field("status", episode_status_name(a.status));
  w.field("started_at", format_rfc3339_ms(a.started_at));
  time_field(w, "fired_at", a.fired_at);
  time_field(w, "resolved_at", a.resolved_at);
  w.field("resolve_reason", a.resolve_reason);
  w.field("last_value", a.last_value);
  w.field("last_reading_ts", format_rfc3339_ms(a.last_reading_ts));
  w.field("peak_value", a.peak_value);
  time_field(w, "acked_at", a.acked_at);
  w.field("acked_by", a.acked_by);
  w.field("ack_comment", a.ack_comment);
  w.key("silenced_by").begin_array();
  for (const auto& s : a.silenced_by) w.value(s);
  w.end_array();
  w.field("flapping", a.flapping);
  w.field("notified", a.notified);
  w.field("version", static_cast<std::int64_t>(a.version));
}

std::string alert_to_json(const Alert& a) {
  JsonWriter w;
  w.begin_object();
  write_alert_fields(w, a);
  w.end_object();
  return w.take();
}

}  // namespace ste::eval
