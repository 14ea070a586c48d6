#pragma once
/// The alert object (docs/DESIGN.md §5, docs/ALERTING.md §1): one episode of one rule on one
/// device, shared by the API, the NATS event on `ste.alerts.<tenant>` and webhook payloads; and
/// the human message. Pure.
#include <optional>
#include <string>
#include <vector>

#include "common/clock.hpp"
#include "common/json_writer.hpp"
#include "evaluator/alerts/episode_machine.hpp"
#include "evaluator/evaluation/rule.hpp"

namespace ste::eval {

struct Alert {
  std::string id;  ///< UUID
  std::string rule_id;
  std::string tenant;
  std::string device;
  std::string metric;
  Condition condition = Condition::above_threshold;
  double threshold = 0;
  double value = 0;
  TimePoint reading_ts{};
  std::optional<double> mean;
  std::optional<double> stddev;
  Severity severity = Severity::warning;
  std::string message;
  TimePoint created_at{};
  // The episode (ALERTING.md §1, §2). value/reading_ts above are the reading that opened it.
  EpisodeStatus status = EpisodeStatus::pending;
  TimePoint started_at{};  ///< data time of the first crossing
  std::optional<TimePoint> fired_at;
  std::optional<TimePoint> resolved_at;  ///< resolved or cancelled
  std::optional<std::string> resolve_reason;
  double last_value = 0;
  TimePoint last_reading_ts{};
  double peak_value = 0;
  std::optional<TimePoint> acked_at;
  std::optional<std::string> acked_by;
  std::optional<std::string> ack_comment;
  std::vector<std::string> silenced_by;
  /// Not serialized: the firing whole-device no-data episode of this device that mutes this
  /// one's notifications (built-in inhibition, docs/ALERTING.md §3).
  std::optional<std::string> inhibited_by;
  /// Whether an active silence or an inhibition mutes its notifications now.
  bool muted() const { return !silenced_by.empty() || inhibited_by.has_value(); }
  bool flapping = false;
  bool notified = false;  ///< its firing notification went out (not suppressed by the cooldown)
  int version = 1;
};

std::string_view episode_status_name(EpisodeStatus s);
std::optional<EpisodeStatus> parse_episode_status(std::string_view s);

/// e.g. "temperature 93.2 above 80 on boiler-7", "pressure 1.2 below 2 on pump-1",
/// "flow 40 deviates from mean 20 by more than 3 stddev (stddev 0.5) on meter-2", for no_data
/// (`value` = minutes silent) "boiler-7 sent no temperature reading for 31 minutes
/// (silent_minutes 30)" or, metric "*", "boiler-7 sent no reading for ...". Numbers are
/// written in their shortest round-trip form (80.0 -> "80").
std::string alert_message(const Rule& rule, const std::string& device, double value,
                          std::optional<double> mean, std::optional<double> stddev);

/// The alert object's fields, keys in the contract's order; numbers in their shortest round-trip
/// form; timestamps RFC 3339 UTC with milliseconds (truncated); mean and stddev null when absent.
/// The one serializer of the alert: the NATS event and webhooks (alert_to_json) and the API
/// (which adds `deliveries` to the same object for GET /api/alerts/{id}) all write it here, so
/// field names and formats cannot drift. Writes into an object `w` has begun.
void write_alert_fields(JsonWriter& w, const Alert& a);

/// The alert object as JSON: `{` write_alert_fields `}`.
std::string alert_to_json(const Alert& a);

}  // namespace ste::eval
