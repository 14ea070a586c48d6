#pragma once
/// The evaluator's Prometheus metrics (thread-safe, prometheus-cpp).
#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

namespace ste::eval {

struct EvalMetrics {
  explicit EvalMetrics(prometheus::Registry& registry);

  prometheus::Counter& summaries;  ///< summaries evaluated to the end
  prometheus::Counter& tuples;     ///< tuples evaluated
  prometheus::Counter& alerts_fired;
  prometheus::Counter& suppressed_cooldown;
  prometheus::Counter& already_stored;       ///< re-evaluation of a summary that already fired
  prometheus::Counter& skipped_few_buckets;  ///< deviation rules skipped: fewer than 5 buckets
  prometheus::Counter& errors_database;      ///< summary handed back for redelivery
  prometheus::Counter& errors_bad_summary;   ///< undecodable summary, dropped
  prometheus::Counter& errors_publish;       ///< alert stored but its NATS event not published
  prometheus::Counter& window_stats_hit;     ///< distinct window statistics found in the cache
  prometheus::Counter& window_stats_miss;    ///< distinct window statistics queried (cache on)
  prometheus::Histogram& eval_seconds;       ///< per summary
  prometheus::Gauge& rules;                  ///< enabled rules in the cache
};

}  // namespace ste::eval
