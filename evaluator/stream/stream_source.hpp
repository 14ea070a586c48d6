#pragma once
/// StreamSource: the NATS side of the live stream. Subscribes (core NATS, every instance hears
/// everything) to `ste.alerts.*` — each committed alert transition, published by whichever
/// evaluator made it — and to `ste.batches.flushed`, whose tuples carry each series' latest
/// reading, and hands both to the StreamHub. Summaries are parsed only while someone watches.
///
/// Thread-safety: cnats calls the two handlers on its own threads (one per subscription); the
/// SummaryParser is used by the batches handler only. Lifecycle: the constructor subscribes
/// (throws NatsError when it cannot); the destructor unsubscribes and waits for the handlers.
#include <nats/nats.h>

#include "common/nats_client.hpp"
#include "evaluator/evaluation/summary_parser.hpp"
#include "evaluator/stream/stream_hub.hpp"

namespace ste::stream {

class StreamSource {
 public:
  StreamSource(NatsClient& nats, StreamHub& hub);
  ~StreamSource();
  StreamSource(const StreamSource&) = delete;
  StreamSource& operator=(const StreamSource&) = delete;

 private:
  static void on_alert(natsConnection*, natsSubscription*, natsMsg* msg, void* self);
  static void on_summary(natsConnection*, natsSubscription*, natsMsg* msg, void* self);

  StreamHub& hub_;
  eval::SummaryParser parser_;
  natsSubscription* alerts_ = nullptr;
  natsSubscription* summaries_ = nullptr;
};

}  // namespace ste::stream
