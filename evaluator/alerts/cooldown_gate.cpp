#include "evaluator/alerts/cooldown_gate.hpp"

#include <chrono>

namespace ste::eval {

CooldownDecision decide_cooldown(std::optional<TimePoint> last_alert_at, TimePoint now,
                                 int cooldown_minutes) {
  // No cooldown means no suppression at all, even for a last alert stamped after `now`.
  if (!last_alert_at || cooldown_minutes <= 0) return CooldownDecision::allow;
  // The boundary itself is outside the cooldown: "at most once per 15 minutes" lets a rule fire
  // again exactly 15 minutes later. A last alert after `now` (skew between transactions' clocks)
  // gives a negative elapsed time, so it counts as inside the cooldown.
  return now - *last_alert_at >= std::chrono::minutes{cooldown_minutes}
             ? CooldownDecision::allow
             : CooldownDecision::suppress;
}

}  // namespace ste::eval
