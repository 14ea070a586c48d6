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
  }
  return fmt::format("{} {} on {}", rule.metric, value, device);
}

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
}

std::string alert_to_json(const Alert& a) {
  JsonWriter w;
  w.begin_object();
  write_alert_fields(w, a);
  w.end_object();
  return w.take();
}

}  // namespace ste::eval
