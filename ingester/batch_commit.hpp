#pragma once
/// BatchCommit: what happens to one swapped-out batch, start to end, on the writer thread that
/// took it (docs/DESIGN.md §4): write it in one statement (retried once after
/// 100 ms); when it stored, make the summary describe the stored rows (repeated keys dropped only
/// when the write inserted fewer rows than the batch held), publish the summary's parts on
/// `ste.batches.flushed` (each under the server's max_payload, each JetStream-acked), and only
/// then ack the source messages. Otherwise:
/// - the summary publish failed: the messages are nak'd for a quick redelivery (nothing acked;
///   the readings are stored and the redelivery is absorbed by the idempotent write);
/// - the write failed twice for the database's reasons: every message is nak'd with the
///   redelivery back-off and never dead-lettered (an outage loses nothing);
/// - the write failed for its data: the batch is written again one message at a time; the
///   messages that store are summarised and acked, a failing one is nak'd with the back-off until
///   STE_MAX_DELIVERIES, then dead-lettered with the SQL error (a dead letter that cannot be
///   published is nak'd instead);
/// - core mode (no redelivery): a batch that cannot be written is dropped and counted.
///
/// The decisions are here; the effects go through ports (BatchStore, Publisher, MessageSettler)
/// and the 100-ms pause through an injected function, so tests drive a batch synchronously with
/// fakes. BatchFlusher owns the threads around it.
///
/// Thread-safety: run() from several writer threads at once, each with its own BatchStore and
/// writer index; database_ok() from any thread. `nats_mu_` serialises the summary publish and
/// the settling of one batch against the others' (cnats itself is thread-safe).
#include <atomic>
#include <chrono>
#include <cstddef>
#include <functional>
#include <mutex>
#include <optional>
#include <string>

#include "common/clock.hpp"
#include "common/message_settler.hpp"
#include "common/publisher.hpp"
#include "common/redelivery.hpp"
#include "ingester/batch_buffer.hpp"
#include "ingester/batch_store.hpp"
#include "ingester/held_messages.hpp"
#include "ingester/inflight_gate.hpp"
#include "ingester/ingest_metrics.hpp"

namespace ste::ingest {

/// Room left in a NATS message for headers and protocol framing below max_payload.
inline constexpr std::size_t kSummaryHeadroom = 4096;
/// The smallest summary budget the ingester runs with: a tuple is under 1 KiB (names are
/// bounded by the ingest contract), so this always fits several.
inline constexpr std::size_t kMinSummaryBudget = 16 * 1024;
/// The contract's single retry waits this long after a failed write.
inline constexpr Millis kWriteRetryDelay{100};

/// The bytes a summary part may take given the server's max_payload (0 when too small).
std::size_t summary_budget(std::int64_t max_payload);

class BatchCommit {
 public:
  /// Waits `d` (the pause before the retry). Real: a sleep; tests advance a ManualClock.
  using Pause = std::function<void(Millis d)>;

  struct Options {
    bool jetstream = true;  ///< false: core NATS, nothing to settle, a failed batch is dropped
    RedeliveryPolicy redelivery{};
    Pause pause;  ///< empty: std::this_thread::sleep_for
  };

  BatchCommit(const Clock& clock, Publisher& publisher, MessageSettler& settler,
              InflightGate& inflight, IngestMetrics& metrics, HeldMessages& held, Options options);

  /// Takes `batch` through write, summary and settling with `store`, as writer `writer`. Every
  /// message is settled (JetStream) and freed, and the batch's readings leave the in-flight gate,
  /// before it returns. Does not throw for the store's or the publisher's failures.
  /// Nothing it throws leaves it: an unexpected exception hands the batch's messages back for a
  /// quick redelivery (the error firewall of the writer threads).
  void run(Batch&& batch, BatchStore& store, int writer);

  /// False after a write failed for the database's reasons (not a batch's data), true again
  /// after the next success.
  bool database_ok() const { return db_ok_; }

 private:
  /// Why a batch's write failed (the last attempt's error).
  struct WriteFailure {
    std::string sqlstate;
    std::string error;
    bool environmental = true;  ///< the database's state, not the data (pg_error_is_environmental)
  };
  /// The failure of message i of a batch, or nullptr when that message's readings are stored.
  using FailureOf = std::function<const WriteFailure*(std::size_t)>;

  std::optional<WriteResult> write_with_retry(const Batch& batch, BatchStore& store, int writer,
                                              WriteFailure& failure);
  /// A batch that failed for its data: written again one message at a time; the messages that
  /// store are summarised and acked, the failing ones nak'd with back-off or dead-lettered.
  void isolate(Batch& batch, BatchStore& store, int writer, std::size_t held_readings);
  bool publish_summary(const Batch& batch);
  /// run() without the firewall.
  void commit(Batch& batch, BatchStore& store, int writer, std::size_t held_readings);
  /// Releases the writer's hold, then settles every message and frees them: a message with a
  /// failure goes to fail_message(), the others are acked when `ok` (stored and summarised) and
  /// nak'd for a quick redelivery otherwise (the summary was not published).
  void settle(Batch& batch, int writer, bool ok, std::size_t held_readings,
              const FailureOf& failure_of = {});
  void ack(natsMsg* m);
  void nak(natsMsg* m, std::chrono::milliseconds delay);
  /// A message that failed: nak'd with the back-off of its delivery count, or dead-lettered on
  /// `ste.dead.SENSORS` when it failed for its own data and has used its deliveries.
  void fail_message(natsMsg* m, const WriteFailure& failure);

  const Clock& clock_;
  Publisher& publisher_;
  MessageSettler& settler_;
  InflightGate& inflight_;
  IngestMetrics& metrics_;
  HeldMessages& held_;
  const bool jetstream_;
  const RedeliveryPolicy redelivery_;
  const Pause pause_;
  std::mutex nats_mu_;  // summary publish + settling, one writer at a time
  std::atomic<bool> db_ok_{true};
};

}  // namespace ste::ingest
