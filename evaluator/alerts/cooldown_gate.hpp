#pragma once
/// The cooldown decision, pure: a rule fires at most once per device per cooldown_minutes,
/// counted from the last alert's created_at, both times from the database clock. The atomic part
/// (an advisory lock per rule/device inside the alert transaction) lives in store_alert()
/// (alert_store.hpp); this is the decision it takes under that lock.
#include <optional>

#include "common/clock.hpp"

namespace ste::eval {

enum class CooldownDecision { allow, suppress };

/// `last_alert_at` nullopt = the rule never fired for this device. A last alert "in the future"
/// (clock skew between transactions) counts as inside the cooldown.
CooldownDecision decide_cooldown(std::optional<TimePoint> last_alert_at, TimePoint now,
                                 int cooldown_minutes);

}  // namespace ste::eval
