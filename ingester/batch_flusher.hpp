#pragma once
/// BatchFlusher: the writer threads. Each waits until the BatchBuffer is due (woken by a full
/// buffer or by the event loop's interval timer), swaps the batch out, and outside any lock:
/// drops repeated keys (first wins), writes it in one statement (retried once after 100 ms),
/// publishes its summary on `ste.batches.flushed` (split into parts that fit the server's
/// max_payload, each JetStream-acked), then acks the source messages. A batch that still fails
/// is handed back to JetStream (nak with a back-off growing with its deliveries: nothing lost,
/// memory freed) or, in core mode, dropped and counted. A batch
/// that failed for its data (not a database outage) is written again one message at a time: the
/// good messages are stored, summarised and acked, a failing one is nak'd with back-off until its
/// deliveries are used, then dead-lettered with the SQL error. Each thread owns its PostgreSQL
/// connection. stop() drains the buffer
/// before returning.
///
/// In JetStream mode a progress thread tells JetStream, every kInProgressAfter, that messages
/// held that long (buffered, or in a batch being written) are still in progress.
///
/// Thread-safety: kick(), database_ok() from any thread; start()/stop() from one owner thread.
/// Message ownership: a swapped-out batch's messages are touched only by its writer, except by
/// the progress thread while it holds `held_mu_`; a writer takes `held_mu_` (unregistering its
/// batch) before it acks, naks or destroys any of them, so a signal never reaches a settled
/// message.
#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "common/clock.hpp"
#include "common/nats_client.hpp"
#include "common/pg_connection.hpp"
#include "common/redelivery.hpp"
#include "ingester/batch_buffer.hpp"
#include "ingester/batch_writer.hpp"
#include "ingester/inflight_gate.hpp"
#include "ingester/ingest_metrics.hpp"

namespace ste::ingest {

/// Room left in a NATS message for headers and protocol framing below max_payload.
inline constexpr std::size_t kSummaryHeadroom = 4096;
/// The smallest summary budget the ingester runs with: a tuple is under 1 KiB (names are
/// bounded by the ingest contract), so this always fits several.
inline constexpr std::size_t kMinSummaryBudget = 16 * 1024;

/// The bytes a summary part may take given the server's max_payload (0 when too small).
std::size_t summary_budget(std::int64_t max_payload);

class BatchFlusher {
 public:
  BatchFlusher(const Clock& clock, std::string database_url, NatsClient& nats, BatchBuffer& buffer,
               InflightGate& inflight, IngestMetrics& metrics, bool jetstream,
               WriteMethod write_method, RedeliveryPolicy redelivery = {});
  ~BatchFlusher();

  /// Opens one connection per writer (throws PgError if the database is unreachable) and starts.
  /// Throws std::runtime_error when the NATS server's max_payload leaves no room for summaries.
  void start(int writers);
  /// Wakes a writer if the buffer is due (called by the interval timer and on a full buffer).
  void kick();
  /// Writes everything still buffered, then joins the writers.
  void stop();
  /// False after a write failed for the database's reasons (not a batch's data), true again
  /// after the next success.
  bool database_ok() const { return db_ok_; }

 private:
  /// A writer's batch as the progress thread sees it (guarded by held_mu_).
  struct Held {
    const std::vector<natsMsg*>* messages = nullptr;  ///< null: nothing held
    TimePoint since{};
    TimePoint signalled{};
  };

  /// Why a batch's write failed (the last attempt's error).
  struct WriteFailure {
    std::string sqlstate;
    std::string error;
    bool environmental = true;  ///< the database's state, not the data (pg_error_is_environmental)
  };

  void writer_loop(int index);
  void progress_loop();
  void signal_in_progress();
  void process(Batch&& batch, PgConnection& db, int index);
  std::optional<WriteResult> write_with_retry(const Batch& batch, PgConnection& db, int index,
                                              WriteFailure& failure);
  /// A batch that failed for its data: written again one message at a time; the messages that
  /// store are summarised and acked, the failing ones nak'd with back-off or dead-lettered.
  void isolate(Batch& batch, PgConnection& db, int index, std::size_t held_readings);
  bool publish_summary(const Batch& batch);
  /// After this the progress thread no longer touches the writer's batch (see the class note).
  void unhold(int index);
  void ack(natsMsg* m);
  void nak(natsMsg* m, std::chrono::milliseconds delay);
  /// A message that failed: nak'd with the back-off of its delivery count, or dead-lettered on
  /// `ste.dead.SENSORS` when it failed for its own data and has used its deliveries.
  void fail_message(natsMsg* m, const WriteFailure& failure);
  /// The failure of message i of a batch, or nullptr when that message's readings are stored.
  using FailureOf = std::function<const WriteFailure*(std::size_t)>;
  /// Unregisters the writer's batch, then settles every message and frees them: a message with a
  /// failure goes to fail_message(), the others are acked when `ok` (stored and summarised) and
  /// nak'd for a quick redelivery otherwise (the summary was not published).
  void settle(Batch& batch, int index, bool ok, std::size_t held_readings,
              const FailureOf& failure_of = {});

  const Clock& clock_;
  std::string database_url_;
  NatsClient& nats_;
  BatchBuffer& buffer_;
  InflightGate& inflight_;
  IngestMetrics& metrics_;
  bool jetstream_;
  WriteMethod write_method_;
  RedeliveryPolicy redelivery_;
  AckResults ack_results_;
  std::mutex nats_mu_;  // summary publish + acks, one writer at a time
  std::mutex held_mu_;
  std::vector<Held> held_;  // one per writer; guarded by held_mu_
  std::mutex wake_mu_;
  std::condition_variable wake_cv_;
  std::condition_variable progress_cv_;
  bool stopping_ = false;  // guarded by wake_mu_
  std::atomic<bool> db_ok_{true};
  std::vector<std::unique_ptr<PgConnection>> connections_;
  std::vector<std::thread> threads_;
  std::thread progress_thread_;
};

}  // namespace ste::ingest
