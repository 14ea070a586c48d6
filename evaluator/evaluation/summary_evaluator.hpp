#pragma once
/// SummaryEvaluator: one summary against the current rules (docs/ALERTING.md §1). Each (rule,
/// tuple) gets a verdict (tuple_verdict.hpp: crosses, clears) in memory; the deviation statistics
/// for every candidate of the summary come from one set-based query, and which fingerprints have
/// an open episode from another (only asked for tuples that do not cross). A crossing, or a tuple
/// of a fingerprint with an open episode, is applied through the EvaluationStore (transitions,
/// cooldown, timeline and outbox rows in one transaction under the fingerprint's advisory lock);
/// each fired or resolved transition is published on `ste.alerts.<tenant>` through the Publisher
/// once it is committed. A summary without crossings or open episodes costs one round trip.
/// Window statistics are asked once per (series, minute, window) per instance: identical requests
/// of one summary are sent once, and answers are kept in a WindowStatsCache for the later
/// summaries of the same minute (see docs/DESIGN.md §5); only the misses reach the store.
/// Thread-safe if the collaborators are (they are): any number of workers share one instance,
/// each with its own EvaluationStore; the window cache has its own lock and the enabled flag is
/// atomic.
#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <vector>

#include "common/pg_connection.hpp"
#include "common/publisher.hpp"
#include "evaluator/evaluation/eval_metrics.hpp"
#include "evaluator/evaluation/evaluation_store.hpp"
#include "evaluator/evaluation/rule_cache.hpp"
#include "evaluator/evaluation/summary_parser.hpp"
#include "evaluator/evaluation/window_stats_cache.hpp"

namespace ste::eval {

/// How `tuple` stands against `rule`: the verdict (crosses, clears) and the reading that would
/// open an episode; and whether a deviation rule had too few buckets to decide anything.
struct Judgement {
  EpisodeInput input;
  bool too_few_buckets = false;
};

/// Deviation rules need the window statistics of the tuple's min and max minutes (nullptr =
/// none: too few buckets, nothing is decided). Pure; the SummaryEvaluator and the episode
/// timer's catch-up judge tuples the same way.
Judgement judge_tuple(const Rule& rule, const Tuple& tuple, const WindowStats* min_stats,
                      const WindowStats* max_stats);

class SummaryEvaluator {
 public:
  /// The rules in force now (RuleCache::current() in the service; a fixed RuleSet in tests).
  using CurrentRules = std::function<std::shared_ptr<const RuleSet>()>;

  /// `targets` is used only by evaluate(summary, db), for the outbox rows of new alerts.
  SummaryEvaluator(CurrentRules rules, Publisher& events, EvalMetrics& metrics,
                   TargetsFor targets = {})
      : rules_(std::move(rules)),
        events_(events),
        metrics_(metrics),
        targets_(std::move(targets)) {}
  SummaryEvaluator(RuleCache& cache, Publisher& events, EvalMetrics& metrics,
                   TargetsFor targets = {})
      : SummaryEvaluator([&cache] { return cache.current(); }, events, metrics,
                         std::move(targets)) {}

  /// Throws PgError when the store fails (the caller hands the summary back for redelivery;
  /// transitions already committed stay, and re-applying their tuples is a no-op). An alert
  /// event that cannot be published is counted and logged, not thrown: the transition is stored
  /// and its deliveries are queued.
  void evaluate(const Summary& summary, EvaluationStore& store);
  /// evaluate() on `db` through PgEvaluationStore with the targets given at construction.
  void evaluate(const Summary& summary, PgConnection& db) {
    PgEvaluationStore store(db, targets_);
    evaluate(summary, store);
  }

  /// With the cache disabled every distinct request of a summary is queried (the cold path, for
  /// measurement); identical requests within one summary are still sent once. Enabled by default.
  void set_window_cache_enabled(bool enabled) { window_cache_enabled_.store(enabled); }

 private:
  /// A device clock may run up to the ingester's max_future (5 min) ahead, and the newest minute
  /// any request names drives the cache's eviction: keeping only m and m - 1 would let one fast
  /// device turn every other series into a miss. Six minutes back covers it.
  static constexpr std::chrono::minutes kWindowCacheLookback{6};

  void apply(const EpisodeInput& input, EvaluationStore& store);
  /// One WindowStats per request, in request order: duplicates asked once, cache hits not asked,
  /// the rest in one round trip (none if nothing is missing). Throws PgError.
  std::vector<WindowStats> window_stats(const std::vector<StatsRequest>& requests,
                                        EvaluationStore& store);

  CurrentRules rules_;
  Publisher& events_;
  EvalMetrics& metrics_;
  TargetsFor targets_;
  WindowStatsCache window_cache_{WindowStatsCache::kDefaultMaxEntries, kWindowCacheLookback};
  std::atomic<bool> window_cache_enabled_{true};
};

}  // namespace ste::eval
