#pragma once
/// SummaryEvaluator: one summary against the cached rules. Threshold rules are decided in memory;
/// the deviation statistics for every candidate of the summary come from one set-based query;
/// each firing is stored by store_alert() (cooldown under an advisory lock) and, after commit,
/// published on `ste.alerts.<tenant>`.
/// Window statistics are asked once per (series, minute, window) per instance: identical requests
/// of one summary are sent once, and answers are kept in a WindowStatsCache for the later
/// summaries of the same minute (see docs/DESIGN.md §5); only the misses reach PostgreSQL.
/// Thread-safe if the collaborators are (they are): any number of workers share one instance; the
/// window cache has its own lock and the enabled flag is atomic.
#include <atomic>
#include <chrono>
#include <functional>
#include <vector>

#include "common/nats_client.hpp"
#include "common/pg_connection.hpp"
#include "evaluator/alert_store.hpp"
#include "evaluator/eval_metrics.hpp"
#include "evaluator/rule_cache.hpp"
#include "evaluator/summary_parser.hpp"
#include "evaluator/window_stats_cache.hpp"

namespace ste::eval {

class SummaryEvaluator {
 public:
  /// Targets for a tenant's new alerts (the outbox rows to write).
  using TargetsFor =
      std::function<std::vector<DeliveryTarget>(std::int64_t tenant_id, PgConnection&)>;

  SummaryEvaluator(RuleCache& rules, NatsClient& nats, EvalMetrics& metrics, TargetsFor targets)
      : rules_(rules), nats_(nats), metrics_(metrics), targets_(std::move(targets)) {}

  /// Throws PgError when the database fails (the caller hands the summary back for redelivery;
  /// alerts already stored stay, and their re-evaluation is absorbed by the unique key).
  void evaluate(const Summary& summary, PgConnection& db);

  /// With the cache disabled every distinct request of a summary is queried (the cold path, for
  /// measurement); identical requests within one summary are still sent once. Enabled by default.
  void set_window_cache_enabled(bool enabled) { window_cache_enabled_.store(enabled); }

 private:
  /// A device clock may run up to the ingester's max_future (5 min) ahead, and the newest minute
  /// any request names drives the cache's eviction: keeping only m and m - 1 would let one fast
  /// device turn every other series into a miss. Six minutes back covers it.
  static constexpr std::chrono::minutes kWindowCacheLookback{6};

  void fire(const Rule& rule, const Tuple& tuple, const Firing& firing, PgConnection& db);
  /// One WindowStats per request, in request order: duplicates asked once, cache hits not asked,
  /// the rest in one round trip (none if nothing is missing). Throws PgError.
  std::vector<WindowStats> window_stats(const std::vector<StatsRequest>& requests,
                                        PgConnection& db);

  RuleCache& rules_;
  NatsClient& nats_;
  EvalMetrics& metrics_;
  TargetsFor targets_;
  WindowStatsCache window_cache_{WindowStatsCache::kDefaultMaxEntries, kWindowCacheLookback};
  std::atomic<bool> window_cache_enabled_{true};
};

}  // namespace ste::eval
