#pragma once
/// The evaluator's Prometheus metrics (thread-safe, prometheus-cpp).
#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include "evaluator/alerts/episode_machine.hpp"

namespace ste::eval {

struct EvalMetrics {
  explicit EvalMetrics(prometheus::Registry& registry);

  prometheus::Counter& summaries;  ///< summaries evaluated to the end
  prometheus::Counter& tuples;     ///< tuples evaluated
  prometheus::Counter& alerts_fired;
  prometheus::Counter& suppressed_cooldown;
  prometheus::Counter& already_stored;  ///< tuples not newer than their fingerprint has seen
  prometheus::Counter& rule_stale;      ///< tuples skipped: their rule changed since it was cached
  prometheus::Counter& opened;          ///< ste_eval_episode_transitions_total{transition=...}
  prometheus::Counter& fired;
  prometheus::Counter& cancelled;
  prometheus::Counter& resolved;
  prometheus::Counter& transition(EpisodeEvent::Kind k) {
    switch (k) {
      case EpisodeEvent::Kind::opened:
        return opened;
      case EpisodeEvent::Kind::fired:
        return fired;
      case EpisodeEvent::Kind::cancelled:
        return cancelled;
      case EpisodeEvent::Kind::resolved:
        return resolved;
    }
    return opened;
  }
  prometheus::Counter& skipped_few_buckets;  ///< deviation rules skipped: fewer than 5 buckets
  prometheus::Counter& errors_database;      ///< database unreachable/lost/timed out: handed back
  prometheus::Counter& errors_evaluation;    ///< failed for the summary's own reasons (retried,
                                             ///< then dead-lettered)
  prometheus::Counter& errors_bad_summary;   ///< undecodable summary (dead-lettered at once)
  prometheus::Counter& errors_dead_letter;   ///< a dead letter could not be published (nak'd)
  prometheus::Counter& errors_publish;       ///< alert stored but its NATS event not published
  prometheus::Counter& window_stats_hit;     ///< distinct window statistics found in the cache
  prometheus::Counter& window_stats_miss;    ///< distinct window statistics queried (cache on)
  prometheus::Histogram& eval_seconds;       ///< per summary
  prometheus::Gauge& rules;                  ///< enabled rules in the cache
  prometheus::Counter& dead_lettered_undecodable;  ///< ste_dead_lettered_total{STE_BATCHES,...}
  prometheus::Counter& dead_lettered_failed;       ///< ... reason="evaluation_failed"
  prometheus::Counter& ack_failures_ack;           ///< ste_eval_settle_failures_total{op="ack"}
  prometheus::Counter& ack_failures_nak;
  prometheus::Counter& ack_failures_term;
};

}  // namespace ste::eval
