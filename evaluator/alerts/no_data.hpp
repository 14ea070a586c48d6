#pragma once
/// NoData: the decisions of no-data rules (docs/ALERTING.md §4), pure. A device (rule metric "*")
/// or one of its series goes silent when the server time since it last *received* a reading
/// exceeds the rule's silent_minutes; received time is the ingester's clock, so a late batch of
/// old readings counts as activity and device clock skew cannot raise a false alarm. A device or
/// series never heard from is silent since max(device created, rule created), so a device
/// registered and then never heard from is caught. Two guards keep an outage from turning into
/// a storm: no no-data episode fires while the evaluator has run for less than the rule's
/// silent_minutes (it cannot know yet), or while the ingester's SENSORS backlog is above
/// STE_NODATA_MAX_LAG (readings are stored but not yet received into the tables).
/// Not wired yet: the timer's set-based query, the rule condition and the API come with the rest
/// of issue #16.
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

#include "common/clock.hpp"

namespace ste::eval {

struct Activity {
  std::optional<TimePoint> last_received;  ///< nullopt: never heard from
  TimePoint device_created{};
  TimePoint rule_created{};
};

/// Since when the device or series has been silent.
TimePoint silent_since(const Activity& a);

/// Silent for longer than `silent_minutes` at `now` (the boundary itself is not yet silent).
bool is_silent(const Activity& a, TimePoint now, std::chrono::minutes silent_minutes);

/// Why no-data episodes are held back now, if they are.
enum class NoDataHold { none, starting, backlog };

struct NoDataGuard {
  NoDataHold hold = NoDataHold::none;
  std::string reason;  ///< for the log line, empty when none
};

/// The guards for a rule with `silent_minutes`, given how long this evaluator has run and the
/// SENSORS consumer's pending messages (nullopt: unknown, e.g. NATS unreachable — held, since a
/// backlog cannot be ruled out). `max_lag` 0 disables the backlog guard.
NoDataGuard no_data_guard(std::chrono::steady_clock::duration uptime,
                          std::chrono::minutes silent_minutes,
                          std::optional<std::int64_t> sensors_pending, std::int64_t max_lag);

/// What happens to a no-data fingerprint at one timer run.
enum class NoDataStep { nothing, fire, resolve };

/// An open episode resolves once the device or series is no longer silent (a reading arrived),
/// whatever the guards; a new one fires only when silent and not held.
NoDataStep decide_no_data(bool episode_open, bool silent, NoDataHold hold);

/// Logs a hold's reason once per change, not on every timer run: update() says whether the
/// hold differs from the last one seen (and remembers it). Not thread-safe: one per timer.
class NoDataHoldLog {
 public:
  bool update(NoDataHold hold) {
    const bool changed = hold != last_;
    last_ = hold;
    return changed;
  }

 private:
  NoDataHold last_ = NoDataHold::none;
};

}  // namespace ste::eval
