#pragma once
/// What happens to a message whose device is new while the tenant's new-device cap is reached
/// (docs/DESIGN.md §3): in JetStream mode it waits — handed back with a delay until the next cap
/// window opens, plus jitter so a fleet does not come back at once — for at most `max_wait`
/// (STE_DEVICE_CAP_MAX_WAIT_SECONDS) and while fewer than `max_held` messages wait; otherwise it
/// is rejected with `device_limit`. So a real fleet coming online loses nothing, while a leaked
/// credential spraying random device keys can neither grow the devices table nor hold messages
/// (and the consumer's unacknowledged budget) for long. Core NATS has no redelivery: there it is
/// a rejection at once.
///
/// decide_over_cap() is pure. DeferralBook remembers, per stream sequence, when this process
/// first deferred a message, so the wait is measured from then (not from when the message was
/// stored: a backlog replayed after an outage still gets its full wait). Not thread-safe: one per
/// consuming thread.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>
#include <unordered_map>

#include "common/clock.hpp"

namespace ste::ingest {

struct DeferralPolicy {
  std::int64_t cap = 10000;                ///< new devices per tenant per window (0: none)
  Millis window{std::chrono::minutes{1}};  ///< the cap window
  Millis max_wait{std::chrono::minutes{10}};
  std::size_t max_held = 32768;  ///< messages waiting at once (per process)
  /// How long a book entry outlives its delay before it is presumed delivered elsewhere (another
  /// ingester instance) and dropped: the consumer's ack wait.
  Millis grace{std::chrono::seconds{30}};
};

enum class OverCap { defer, reject };

struct OverCapDecision {
  OverCap verdict = OverCap::reject;
  Millis delay{0};       ///< defer: the nak delay
  std::string_view why;  ///< reject: which bound, for the rejection's detail
};

/// The message's device is new and the window containing `now` is full (the next opens at
/// `next_window`). `waited`: since this process first deferred the message (0 on the first
/// time); `held`: messages waiting now; `jitter_seed`: any value that differs between messages
/// (e.g. stream sequence and delivery count mixed). Defers with delay = time to the next window
/// plus a jitter in [0, window/2], never past `max_wait` in total; rejects when it cannot
/// redeliver (core NATS), the cap is 0, `max_held` messages already wait, or the next window
/// opens after `max_wait` is used up.
OverCapDecision decide_over_cap(const DeferralPolicy& policy, bool can_redeliver, TimePoint now,
                                TimePoint next_window, Millis waited, std::size_t held,
                                std::uint64_t jitter_seed);

/// A well-mixed 64-bit value from the stream sequence and the delivery count (splitmix64).
std::uint64_t jitter_seed(std::uint64_t stream_sequence, std::uint64_t delivered);

/// The messages this process handed back for the cap and not yet seen again. Pure, not
/// thread-safe.
class DeferralBook {
 public:
  /// The message with stream sequence `seq` is back: forgets it and returns when this process
  /// first deferred it (nullopt when it never did, or the entry was purged).
  std::optional<TimePoint> take(std::uint64_t seq);
  /// Records a deferral; the entry is dropped at `expires` if the message never comes back here.
  void hold(std::uint64_t seq, TimePoint first_deferred, TimePoint expires);
  /// Drops expired entries, scanning at most once per second of `now`.
  void purge(TimePoint now);
  std::size_t held() const { return entries_.size(); }

 private:
  struct Entry {
    TimePoint first;
    TimePoint expires;
  };
  std::unordered_map<std::uint64_t, Entry> entries_;
  TimePoint last_purge_{};
};

}  // namespace ste::ingest
