#pragma once
/// NoData: the decisions of no-data rules (docs/ALERTING.md §4), pure. A device (rule metric "*")
/// or one of its series goes silent when the server time since it last *received* a reading
/// exceeds the rule's silent_minutes; received time is the ingester's clock, so a late batch of
/// old readings counts as activity and device clock skew cannot raise a false alarm. A device or
/// series never heard from is silent since max(device created, rule created), so a device
/// registered and then never heard from is caught. Two guards keep an outage from turning into
/// a storm: no no-data episode fires while the evaluators have watched for less than the rule's
/// silent_minutes (the no-data timer has not run without a break for that long: silence before
/// is unknown), or while the ingester's SENSORS backlog is above STE_NODATA_MAX_LAG (readings
/// are in the broker but not yet received into the tables). The timer applies these decisions
/// (no_data_sweep.hpp).
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

/// How long the device or series has been silent at `now`, in minutes (the alert's value).
double minutes_silent(const Activity& a, TimePoint now);

/// Since when no-data has been watched without a break, after a timer run at `now`: the stored
/// `running_since` while the previous run (`last_run`, by any instance) is at most `max_gap` ago;
/// otherwise (the first run ever, or after an outage of every evaluator) `now`.
TimePoint watched_since(std::optional<TimePoint> running_since, std::optional<TimePoint> last_run,
                        TimePoint now, std::chrono::seconds max_gap);

/// Why no-data episodes are held back now, if they are.
enum class NoDataHold { none, starting, backlog };

struct NoDataGuard {
  NoDataHold hold = NoDataHold::none;
  std::string reason;  ///< for the log line, empty when none
};

/// The guards for a rule with `silent_minutes`, given how long no-data has been watched
/// (watched_since) and the SENSORS consumer's pending messages (nullopt: unknown, e.g. NATS
/// unreachable — held, since a backlog cannot be ruled out). `max_lag` 0 disables the backlog
/// guard.
NoDataGuard no_data_guard(std::chrono::system_clock::duration watched_for,
                          std::chrono::minutes silent_minutes,
                          std::optional<std::int64_t> sensors_pending, std::int64_t max_lag);

/// What happens to a no-data fingerprint at one timer run.
enum class NoDataStep { nothing, fire, resolve };

/// `open_silent_since`: the open no-data episode's start (the silence it fired on), if one is
/// open. It resolves once a reading was received after that, whatever the guards and however
/// long ago (even if the device has been silent again since: the next run opens a new episode).
/// Without one, a new episode fires when silent for longer than `silent_minutes` and not held.
NoDataStep decide_no_data(std::optional<TimePoint> open_silent_since, const Activity& a,
                          TimePoint now, std::chrono::minutes silent_minutes, NoDataHold hold);

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
