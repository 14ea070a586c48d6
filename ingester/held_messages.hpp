#pragma once
/// HeldMessages: the source messages the ingester holds but has not settled — the BatchBuffer's
/// pending batch, and each writer's batch while it is written and summarised — and the
/// in-progress signals that keep JetStream from redelivering them meanwhile (in_progress.hpp says
/// when: held kInProgressAfter, then again every kInProgressAfter). JetStream mode only.
///
/// Lifecycle: a writer hold()s its batch before writing it and release()s it before settling any
/// of its messages; the progress thread calls signal_due() every kInProgressTick.
///
/// Thread-safety: hold()/release() from writer threads (a slot each), signal_due() from the
/// progress thread. `mu_` guards the slots and is held for a whole signal round, so once
/// release() returned no signal can reach the writer's messages: it may settle and free them.
/// The BatchBuffer's own lock is taken inside only to copy its due pointers.
#include <nats/nats.h>

#include <cstddef>
#include <mutex>
#include <vector>

#include "common/clock.hpp"
#include "common/message_settler.hpp"
#include "ingester/batch_buffer.hpp"
#include "ingester/ingest_metrics.hpp"

namespace ste::ingest {

class HeldMessages {
 public:
  HeldMessages(const Clock& clock, BatchBuffer& buffer, MessageSettler& settler,
               IngestMetrics& metrics)
      : clock_(clock), buffer_(buffer), settler_(settler), metrics_(metrics) {}

  /// Writer `writer` holds `batch` (its messages, since the batch opened, signalled when the
  /// buffer last signalled it) until release(). `batch` must outlive the hold.
  void hold(int writer, const Batch& batch);
  /// After this the writer's messages are never signalled again (see the class note).
  void release(int writer);
  /// Tells the broker that every held message due for it is still in progress; returns how many
  /// signals were sent (a refused one is counted in ste_ingest_settle_failures_total{op}).
  std::size_t signal_due();

 private:
  struct Slot {
    const std::vector<natsMsg*>* messages = nullptr;  ///< null: nothing held
    MonoPoint since{};
    MonoPoint signalled{};
  };

  const Clock& clock_;
  BatchBuffer& buffer_;
  MessageSettler& settler_;
  IngestMetrics& metrics_;
  std::mutex mu_;
  std::vector<Slot> slots_;  // by writer index; guarded by mu_
};

}  // namespace ste::ingest
