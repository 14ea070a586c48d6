#pragma once
/// BatchFlusher: the writer threads. Each waits until the BatchBuffer is due (woken by a full
/// buffer or by the event loop's interval timer), swaps the batch out, and outside any lock:
/// writes it in one statement (retried once after 100 ms), publishes its summary on
/// `ste.batches.flushed`, then acks the source messages. A batch that still fails is handed back
/// to JetStream (nak with delay: nothing lost, memory freed) or, in core mode, dropped and counted.
/// Each thread owns its PostgreSQL connection. stop() drains the buffer before returning.
#include <atomic>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "common/clock.hpp"
#include "common/nats_client.hpp"
#include "common/pg_connection.hpp"
#include "ingester/batch_buffer.hpp"
#include "ingester/batch_writer.hpp"
#include "ingester/inflight_gate.hpp"
#include "ingester/ingest_metrics.hpp"

namespace ste::ingest {

class BatchFlusher {
 public:
  BatchFlusher(const Clock& clock, std::string database_url, NatsClient& nats, BatchBuffer& buffer,
               InflightGate& inflight, IngestMetrics& metrics, bool jetstream,
               WriteMethod write_method);
  ~BatchFlusher();

  /// Opens one connection per writer (throws PgError if the database is unreachable) and starts.
  void start(int writers);
  /// Wakes a writer if the buffer is due (called by the interval timer and on a full buffer).
  void kick();
  /// Writes everything still buffered, then joins the writers.
  void stop();
  /// False after a batch failed to write, true again after the next success.
  bool database_ok() const { return db_ok_; }

 private:
  void writer_loop(int index);
  void process(Batch&& batch, PgConnection& db, int index);
  bool write_with_retry(const Batch& batch, PgConnection& db, int index);
  void settle(Batch& batch, bool ok);

  const Clock& clock_;
  std::string database_url_;
  NatsClient& nats_;
  BatchBuffer& buffer_;
  InflightGate& inflight_;
  IngestMetrics& metrics_;
  bool jetstream_;
  WriteMethod write_method_;
  std::mutex nats_mu_;  // summary publish + acks, one writer at a time
  std::mutex wake_mu_;
  std::condition_variable wake_cv_;
  bool stopping_ = false;  // guarded by wake_mu_
  std::atomic<bool> db_ok_{true};
  std::vector<std::unique_ptr<PgConnection>> connections_;
  std::vector<std::thread> threads_;
};

}  // namespace ste::ingest
