#include "evaluator/alerts/retention_pruner.hpp"

#include <fmt/format.h>

#include "common/log.hpp"
#include "common/pg_transaction.hpp"
#include "common/time_format.hpp"

namespace ste::eval {

namespace {

constexpr std::int64_t kPruneLockKey = 0x5354'4550'5255;  // "STEPRU", arbitrary but fixed

// The alerts are taken oldest first through alerts_created (schema 004), closed episodes only:
// an episode still pending or firing is what is wrong now, however old. Deliveries, attempts
// and the timeline are found through their (tenant_id, ...) keys. Deleting them explicitly
// (rather than by the cascade) lets the statement count them.
constexpr const char* kPruneSql = R"SQL(
WITH doomed AS (
  SELECT a.tenant_id, a.id FROM alerts a
  WHERE a.created_at < $1::timestamptz
    AND a.status IN ('resolved', 'cancelled')
    AND NOT EXISTS (SELECT 1 FROM deliveries d
                    WHERE d.tenant_id = a.tenant_id AND d.alert_id = a.id AND d.status = 'pending')
  ORDER BY a.created_at
  LIMIT $2
  FOR UPDATE OF a SKIP LOCKED
), doomed_deliveries AS (
  SELECT d.tenant_id, d.id FROM deliveries d
  JOIN doomed ON d.tenant_id = doomed.tenant_id AND d.alert_id = doomed.id
), gone_attempts AS (
  DELETE FROM delivery_attempts t USING doomed_deliveries dd
  WHERE t.tenant_id = dd.tenant_id AND t.delivery_id = dd.id
  RETURNING 1
), gone_deliveries AS (
  DELETE FROM deliveries d USING doomed_deliveries dd
  WHERE d.tenant_id = dd.tenant_id AND d.id = dd.id RETURNING 1
), gone_events AS (
  DELETE FROM alert_events e USING doomed
  WHERE e.tenant_id = doomed.tenant_id AND e.alert_id = doomed.id RETURNING 1
), gone_alerts AS (
  DELETE FROM alerts a USING doomed WHERE a.tenant_id = doomed.tenant_id AND a.id = doomed.id
  RETURNING 1
)
SELECT (SELECT count(*) FROM gone_alerts), (SELECT count(*) FROM gone_deliveries),
       (SELECT count(*) FROM gone_attempts), (SELECT count(*) FROM gone_events)
)SQL";

}  // namespace

std::optional<TimePoint> retention_cutoff(TimePoint now, int retention_days) {
  if (retention_days <= 0) return std::nullopt;
  return now - std::chrono::days{retention_days};
}

bool prune_again(const PruneCounts& last, int batch_rows) {
  return !last.lock_busy && last.alerts >= batch_rows;
}

PruneCounts prune_batch(PgConnection& db, TimePoint cutoff, int batch_rows) {
  PruneCounts out;
  PgTransaction tx(db);
  if (!db.exec(fmt::format("SELECT pg_try_advisory_xact_lock({})", kPruneLockKey)).boolean(0, 0)) {
    out.lock_busy = true;
    return out;
  }
  auto r = db.exec(kPruneSql, {format_rfc3339_us(cutoff), std::to_string(batch_rows)});
  out.alerts = r.int64(0, 0);
  out.deliveries = r.int64(0, 1);
  out.attempts = r.int64(0, 2);
  tx.commit();
  return out;
}

RetentionPruner::RetentionPruner(PgPool& pool, const Clock& clock, RetentionConfig config,
                                 prometheus::Registry& registry)
    : pool_(pool),
      clock_(clock),
      config_(config),
      pruned_(prometheus::BuildCounter()
                  .Name("ste_retention_pruned_total")
                  .Help("Rows deleted by alert retention (STE_ALERT_RETENTION_DAYS), by table")
                  .Register(registry)),
      pruned_alerts_(pruned_.Add({{"table", "alerts"}})),
      pruned_deliveries_(pruned_.Add({{"table", "deliveries"}})),
      pruned_attempts_(pruned_.Add({{"table", "delivery_attempts"}})),
      // A failed run is logged by the task; the next run tries again: nothing is lost by waiting.
      task_("retention prune", config_.interval, [this] { run_once(); }) {}

void RetentionPruner::start() {
  if (config_.retention_days <= 0) return;
  task_.start();
}

void RetentionPruner::run_once() {
  const auto cutoff = retention_cutoff(clock_.now(), config_.retention_days);
  if (!cutoff) return;
  const auto started = std::chrono::steady_clock::now();
  PruneCounts total;
  int batches = 0;
  for (;;) {
    PruneCounts b;
    {
      auto db = pool_.acquire();
      b = prune_batch(*db, *cutoff, config_.batch_rows);
    }
    ++batches;
    total.alerts += b.alerts;
    total.deliveries += b.deliveries;
    total.attempts += b.attempts;
    pruned_alerts_.Increment(static_cast<double>(b.alerts));
    pruned_deliveries_.Increment(static_cast<double>(b.deliveries));
    pruned_attempts_.Increment(static_cast<double>(b.attempts));
    if (!prune_again(b, config_.batch_rows) || !task_.pause(config_.pause)) break;
  }
  if (total.alerts + total.deliveries + total.attempts == 0) return;
  log::info("retention pruned",
            {{"alerts", total.alerts},
             {"deliveries", total.deliveries},
             {"delivery_attempts", total.attempts},
             {"created_before", format_rfc3339_ms(*cutoff)},
             {"batches", batches},
             {"seconds",
              std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count()}});
}

}  // namespace ste::eval
