#pragma once
/// The alert object (docs/DESIGN.md §5), shared by the API, the NATS event on
/// `ste.alerts.<tenant>` and webhook payloads; and the human message. Pure.
#include <optional>
#include <string>

#include "common/clock.hpp"
#include "evaluator/rule.hpp"

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
};

/// e.g. "temperature 93.2 above 80 on boiler-7", "pressure 1.2 below 2 on pump-1",
/// "flow 40 deviates from mean 20 by more than 3 stddev (stddev 0.5) on meter-2". Numbers are
/// written in their shortest round-trip form (80.0 -> "80").
std::string alert_message(const Rule& rule, const std::string& device, double value,
                          std::optional<double> mean, std::optional<double> stddev);

/// The alert object as JSON, keys in the contract's order; timestamps RFC 3339 UTC (ms).
std::string alert_to_json(const Alert& a);

}  // namespace ste::eval
