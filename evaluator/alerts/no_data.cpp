#include "evaluator/alerts/no_data.hpp"

#include <fmt/format.h>

#include <algorithm>

namespace ste::eval {

TimePoint silent_since(const Activity& a) {
  if (a.last_received) return *a.last_received;
  return std::max(a.device_created, a.rule_created);
}

bool is_silent(const Activity& a, TimePoint now, std::chrono::minutes silent_minutes) {
  return now - silent_since(a) > silent_minutes;
}

NoDataGuard no_data_guard(std::chrono::steady_clock::duration uptime,
                          std::chrono::minutes silent_minutes,
                          std::optional<std::int64_t> sensors_pending, std::int64_t max_lag) {
  if (uptime < silent_minutes) {
    return {NoDataHold::starting,
            fmt::format("the evaluator has run {} s, less than the rule's silent_minutes ({}): a "
                        "device's silence before the start is unknown",
                        std::chrono::duration_cast<std::chrono::seconds>(uptime).count(),
                        silent_minutes.count())};
  }
  if (max_lag > 0 && (!sensors_pending || *sensors_pending > max_lag)) {
    return {NoDataHold::backlog,
            sensors_pending
                ? fmt::format("the ingester's SENSORS backlog is {} messages, above "
                              "STE_NODATA_MAX_LAG {}: readings may be waiting, not missing",
                              *sensors_pending, max_lag)
                : std::string("the ingester's SENSORS backlog is unknown (NATS unreachable)")};
  }
  return {};
}

NoDataStep decide_no_data(bool episode_open, bool silent, NoDataHold hold) {
  if (episode_open) return silent ? NoDataStep::nothing : NoDataStep::resolve;
  if (silent && hold == NoDataHold::none) return NoDataStep::fire;
  return NoDataStep::nothing;
}

}  // namespace ste::eval
