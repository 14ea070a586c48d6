#pragma once
/// Redelivery decisions for JetStream messages a service could not finish (docs/DESIGN.md §4/§5).
///
/// A message handed back because of the *environment* (database away, connection lost, timeout)
/// is nak'd with `nak_delay` and never given up: an outage must lose nothing. A message that fails
/// for its *own* reasons is nak'd with the same back-off until `exhausted`, then dead-lettered
/// (common/dead_letter.hpp). The limit is service-side (STE_MAX_DELIVERIES) rather than the
/// consumer's MaxDeliver: on a work-queue stream a message that reached a server-side limit would
/// stay in the stream, never redelivered and never acked, and the server would also count the
/// redeliveries of an outage.
///
/// The policy functions are pure. `AckResults` is thread-safe.
#include <nats/nats.h>

#include <chrono>
#include <cstdint>
#include <mutex>
#include <string_view>

#include "common/clock.hpp"

namespace ste {

struct RedeliveryPolicy {
  int max_deliveries =
      5;  ///< STE_MAX_DELIVERIES: deliveries of a failing message, the last included
  std::chrono::milliseconds first_delay{1000};  ///< nak delay after the first delivery
  std::chrono::milliseconds max_delay{60000};   ///< the doubling stops here
};

/// The delay to nak with after delivery number `delivered` (1-based) failed: `first_delay`
/// doubled per earlier delivery, capped at `max_delay`. `delivered` < 1 counts as 1.
std::chrono::milliseconds nak_delay(const RedeliveryPolicy& policy, std::int64_t delivered);

/// True when delivery number `delivered` was the last one a message that fails for its own
/// reasons gets: it is dead-lettered instead of nak'd.
bool exhausted(const RedeliveryPolicy& policy, std::int64_t delivered);

/// Why handling a message failed: the environment (a dependency away; retried forever) or the
/// message itself (retried up to the limit, then dead-lettered).
enum class FailureCause { environment, message };

struct FailureAction {
  bool dead_letter = false;
  std::chrono::milliseconds delay{0};  ///< the nak delay when not dead-lettered
};

/// What to do after delivery number `delivered` failed for `cause`. Pure.
FailureAction after_failure(const RedeliveryPolicy& policy, FailureCause cause,
                            std::int64_t delivered);

/// The message's delivery count from its JetStream metadata (1 on the first delivery); 1 for a
/// message without JetStream metadata (core NATS).
std::int64_t delivery_count(natsMsg* msg);

/// Outcome accounting for natsMsg_Ack / Nak / NakWithDelay / InProgress / Term: a failure is
/// returned as false so the caller counts it, and logged at most once per `log_every` (a broken
/// connection fails every ack of a fetch). Thread-safe.
class AckResults {
 public:
  explicit AckResults(std::chrono::milliseconds log_every = std::chrono::seconds{5})
      : log_every_(log_every) {}
  /// True when `s` is NATS_OK; otherwise logs (throttled) `op` and the status and returns false.
  bool check(natsStatus s, std::string_view op, TimePoint now = SysClock::now());
  /// Whether a failure seen at `now` is logged (pure throttle; exposed for tests).
  bool should_log(TimePoint now);

 private:
  std::chrono::milliseconds log_every_;
  std::mutex mu_;
  TimePoint last_log_{};  // guarded by mu_
  bool logged_ = false;   // guarded by mu_
};

}  // namespace ste
