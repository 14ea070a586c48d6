#pragma once
/// BatchFlusher: the writer threads. Each waits until the BatchBuffer is due (woken by a full
/// buffer or by the event loop's interval timer), swaps the batch out, and, outside any lock,
/// hands it to BatchCommit (batch_commit.hpp: write, retry, isolation, summary, settling) with
/// the BatchStore it owns. stop() drains the buffer before returning.
///
/// In JetStream mode a progress thread calls HeldMessages::signal_due() every kInProgressTick,
/// so messages held kInProgressAfter (buffered, or in a batch being written) are signalled in
/// progress.
///
/// Thread-safety: kick(), database_ok() from any thread; start()/stop() from one owner thread.
/// Message ownership: a swapped-out batch's messages are touched only by its writer, except by
/// the progress thread under HeldMessages' lock (see held_messages.hpp).
#include <condition_variable>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "common/clock.hpp"
#include "common/message_settler.hpp"
#include "common/publisher.hpp"
#include "ingester/batch_buffer.hpp"
#include "ingester/batch_commit.hpp"
#include "ingester/batch_store.hpp"
#include "ingester/held_messages.hpp"
#include "ingester/inflight_gate.hpp"
#include "ingester/ingest_metrics.hpp"

namespace ste::ingest {

class BatchFlusher {
 public:
  /// `stores` makes each writer's BatchStore; `publisher` carries the summaries and `settler`
  /// the verdicts (JetStreamSettler, or CoreSettler with options.jetstream false).
  BatchFlusher(const Clock& clock, BatchStoreFactory stores, Publisher& publisher,
               MessageSettler& settler, BatchBuffer& buffer, InflightGate& inflight,
               IngestMetrics& metrics, BatchCommit::Options options);
  ~BatchFlusher();

  /// Makes one store per writer (throws PgError if the database is unreachable) and starts.
  /// Throws std::runtime_error when the NATS server's max_payload leaves no room for summaries.
  void start(int writers);
  /// Wakes a writer if the buffer is due (called by the interval timer and on a full buffer).
  void kick();
  /// Writes everything still buffered, then joins the writers.
  void stop();
  /// False after a write failed for the database's reasons (not a batch's data), true again
  /// after the next success.
  bool database_ok() const { return commit_.database_ok(); }

 private:
  void writer_loop(int index);
  void progress_loop();

  BatchStoreFactory make_store_;
  Publisher& publisher_;
  BatchBuffer& buffer_;
  IngestMetrics& metrics_;
  const bool jetstream_;
  HeldMessages held_;
  BatchCommit commit_;
  std::mutex wake_mu_;
  std::condition_variable wake_cv_;
  std::condition_variable progress_cv_;
  bool stopping_ = false;                            // guarded by wake_mu_
  std::vector<std::unique_ptr<BatchStore>> stores_;  // one per writer
  std::vector<std::thread> threads_;
  std::thread progress_thread_;
};

}  // namespace ste::ingest
