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

#include "common/clock.hpp"

namespace ste {

/// natsSubscription_Fetch(list, sub, batch, wait, jerr) with the guard above: at most `batch`
/// messages (1 while messages are queued locally).
natsStatus fetch_messages(natsMsgList* list, natsSubscription* sub, int batch, Millis wait,
                          jsErrCode* jerr);

}  // namespace ste
