#pragma once
/// RetentionPruner: deletes alerts older than STE_ALERT_RETENTION_DAYS together with their
/// deliveries and delivery attempts, so those tables stop growing. Runs on its own thread (never
/// a summary worker's), at start and then every `interval`, in batches of `batch_rows` alerts, one
/// short transaction each with a pause between, so it never holds locks or a pool connection for
/// long. An alert that still has a `pending` delivery is kept until that delivery is final. Safe
/// with many evaluator instances: each batch takes a transaction-level advisory lock with
/// pg_try_advisory_xact_lock, and an instance that does not get it leaves the run to the one that
/// has it; the batch's rows are also taken FOR UPDATE SKIP LOCKED. Counts what it deleted in
/// ste_retention_pruned_total{table} and logs one line per run that deleted anything.
/// Thread-safety: start()/stop() from the owner; the rest runs on the pruner's thread (a
/// PeriodicTask). The
/// decisions (cutoff, whether to continue) are pure functions below.
#include <prometheus/counter.h>
#include <prometheus/registry.h>

#include <chrono>
#include <cstdint>
#include <optional>

#include "common/clock.hpp"
#include "common/periodic_task.hpp"
#include "common/pg_pool.hpp"

namespace ste::eval {

struct RetentionConfig {
  int retention_days = 90;             ///< STE_ALERT_RETENTION_DAYS; 0 = keep forever (no pruning)
  std::chrono::seconds interval{300};  ///< STE_RETENTION_INTERVAL_S: between runs
  int batch_rows = 1000;               ///< alerts per statement
  std::chrono::milliseconds pause{200};  ///< between batches of one run
};

/// What one batch deleted. `lock_busy`: another instance holds the pruning lock; nothing done.
struct PruneCounts {
  std::int64_t alerts = 0;
  std::int64_t deliveries = 0;
  std::int64_t attempts = 0;
  bool lock_busy = false;
};

/// Pure. Alerts created before the returned time are due for deletion; nullopt when
/// `retention_days` is 0 (keep forever) or negative.
std::optional<TimePoint> retention_cutoff(TimePoint now, int retention_days);

/// Pure. Whether a run goes on with another batch: only after a full batch (a shorter one
/// means nothing more was due) that was not refused the lock.
bool prune_again(const PruneCounts& last, int batch_rows);

/// One batch in one transaction: up to `batch_rows` alerts created before `cutoff` without a
/// pending delivery, oldest first, with their deliveries and attempts.
PruneCounts prune_batch(PgConnection& db, TimePoint cutoff, int batch_rows);

class RetentionPruner {
 public:
  RetentionPruner(PgPool& pool, const Clock& clock, RetentionConfig config,
                  prometheus::Registry& registry);
  ~RetentionPruner() = default;  // the task stops and joins its thread
  RetentionPruner(const RetentionPruner&) = delete;
  RetentionPruner& operator=(const RetentionPruner&) = delete;

  /// Starts the thread; does nothing when retention is off (retention_days 0).
  void start();
  void stop() { task_.stop(); }

 private:
  void run_once();

  PgPool& pool_;
  const Clock& clock_;
  RetentionConfig config_;
  prometheus::Family<prometheus::Counter>& pruned_;
  prometheus::Counter& pruned_alerts_;
  prometheus::Counter& pruned_deliveries_;
  prometheus::Counter& pruned_attempts_;
  PeriodicTask task_;
};

}  // namespace ste::eval
