#pragma once
/// When to tell JetStream that messages the ingester holds are still being worked on
/// (natsMsg_InProgress resets the consumer's 30-s ack wait). Without it, messages buffered or in a
/// batch whose write is slow (a frozen database until the statement timeout fires) are
/// redelivered while still held, and written twice. A message is signalled once it has been held
/// kInProgressAfter, and again every kInProgressAfter while still held; in the normal path
/// (settled within about a second) nothing is sent. Pure; the times are monotonic (Clock::mono()):
/// how long a message has been held must not jump when the host's clock is set.
#include <algorithm>
#include <chrono>

#include "common/clock.hpp"

namespace ste::ingest {

/// Well under the consumer's ack wait (30 s), so one late tick cannot let a message expire.
inline constexpr Millis kInProgressAfter{10'000};
/// How often the flusher looks for held messages that are due.
inline constexpr Millis kInProgressTick{1'000};

/// True when messages held since `held_since` and last signalled at `signalled` (a time before
/// `held_since`, e.g. MonoPoint{}, when never) are due for another in-progress signal at `now`.
inline bool in_progress_due(MonoPoint held_since, MonoPoint signalled, MonoPoint now,
                            Millis after = kInProgressAfter) {
  return now - std::max(held_since, signalled) >= after;
}

}  // namespace ste::ingest
