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

double minutes_silent(const Activity& a, TimePoint now) {
  return std::chrono::duration<double, std::ratio<60>>(now - silent_since(a)).count();
}

TimePoint watched_since(std::optional<TimePoint> running_since, std::optional<TimePoint> last_run,
                        TimePoint now, std::chrono::seconds max_gap) {
  if (!running_since || !last_run || now - *last_run > max_gap) return now;
  return *running_since;
}

NoDataGuard no_data_guard(std::chrono::system_clock::duration watched_for,
                          std::chrono::minutes silent_minutes,
                          std::optional<std::int64_t> sensors_pending, std::int64_t max_lag) {
  if (watched_for < silent_minutes) {
    return {NoDataHold::starting,
            fmt::format("the evaluators have watched for no data for {} s without a break, less "
                        "than the rule's silent_minutes ({}): silence before that is unknown",
                        std::chrono::duration_cast<std::chrono::seconds>(watched_for).count(),
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

NoDataStep decide_no_data(std::optional<TimePoint> open_silent_since, const Activity& a,
                          TimePoint now, std::chrono::minutes silent_minutes, NoDataHold hold) {
  if (open_silent_since) {
    const bool heard = a.last_received && *a.last_received > *open_silent_since;
    return heard ? NoDataStep::resolve : NoDataStep::nothing;
  }
  if (hold == NoDataHold::none && is_silent(a, now, silent_minutes)) return NoDataStep::fire;
  return NoDataStep::nothing;
}

}  // namespace ste::eval
