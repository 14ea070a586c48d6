#pragma once
/// fetch_messages(): natsSubscription_Fetch without the result-array overflow of cnats 3.4.1, the
/// version Debian 12 ships (fixed upstream in nats.c 3.9, PR #749).
///
/// The defect: when messages are already queued on the pull subscription (the remainder of an
/// earlier pull request that the server delivered after the earlier Fetch had timed out), Fetch
/// first takes them (`count`), then asks the server for `batch - count` more and — because it
/// overwrites its own `batch` with that difference — keeps collecting until `count` equals the
/// difference. With more than half the batch already queued that never happens: it collects until
/// the time-out, writing every further message past the end of the `batch`-sized array it
/// allocated. Under sustained load (the ingester at saturation) that corrupted the heap and crashed
/// the process (docs/operations.md, "Known library defects").
///
/// The guard: when anything is queued, fetch exactly one message. A Fetch of one cannot overflow
/// (it stops at one), and the queue is drained a message at a time without a network round trip;
/// a full batch is asked only of an empty queue, where the defect cannot start (it needs over half
/// the batch queued at the moment Fetch looks).
#include <nats/nats.h>

#include <cstdint>

#include "common/clock.hpp"

namespace ste {

/// How a fetch asks the server.
enum class FetchStyle {
  /// Return as soon as anything is there (natsSubscription_Fetch: a no-wait pull request first).
  /// For low latency at low volume: the evaluator's summaries.
  available,
  /// One pull request that the server holds until `batch` messages arrived or `wait` passed:
  /// at a steady trickle each request brings a full batch instead of the few messages published
  /// since the last one (pull requests cost the server far more than messages:
  /// bench/results, scenario 7).
  fill,
};

/// A fetch of at most `batch` messages (1 while messages are queued locally: the guard above)
/// within `wait`, in the given style. A filling fetch also stops at `max_bytes` of messages when
/// it is above 0 (it must exceed the largest message the server accepts, or that message could
/// never be fetched).
natsStatus fetch_messages(natsMsgList* list, natsSubscription* sub, int batch, Millis wait,
                          jsErrCode* jerr, FetchStyle style = FetchStyle::available,
                          std::int64_t max_bytes = 0);

}  // namespace ste
