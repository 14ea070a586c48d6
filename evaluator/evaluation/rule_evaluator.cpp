#include "evaluator/evaluation/rule_evaluator.hpp"

#include <chrono>
#include <cmath>
#include <utility>

namespace ste::eval {

namespace {

Evaluation fire(Firing f) { return Evaluation{Outcome::fire, std::move(f)}; }

struct Candidate {
  double value;
  TimePoint ts;
  const WindowStats* stats;
  double deviation;
};

}  // namespace

TimePoint minute_start(TimePoint t) {
  // floor (not duration_cast, which truncates towards zero) so pre-epoch times round down too.
  // system_clock counts UTC without leap seconds, so its minutes are UTC minutes.
  return std::chrono::floor<std::chrono::minutes>(t);
}

Evaluation evaluate_threshold(const Rule& rule, const Tuple& tuple) {
  // Strict comparisons: a reading exactly at the threshold is not "above" it. A NaN threshold
  // never fires (every comparison is false).
  switch (rule.condition) {
    case Condition::above_threshold:
      if (tuple.max > rule.threshold) return fire(Firing{tuple.max, tuple.max_ts, {}, {}});
      return {};
    case Condition::below_threshold:
      if (tuple.min < rule.threshold) return fire(Firing{tuple.min, tuple.min_ts, {}, {}});
      return {};
    case Condition::deviation_from_mean:
    case Condition::no_data:
      // Programming error (the caller dispatches on the condition); never fire on it.
      return {};
  }
  return {};
}

Evaluation evaluate_deviation(const Rule& rule, const Tuple& tuple, const WindowStats& min_stats,
                              const WindowStats& max_stats) {
  // Programming error (the caller dispatches on the condition); never fire on it.
  if (rule.condition != Condition::deviation_from_mean) return {};

  const bool min_ok = min_stats.buckets >= kMinBuckets;
  const bool max_ok = max_stats.buckets >= kMinBuckets;
  if (!min_ok && !max_ok) return Evaluation{Outcome::too_few_buckets, std::nullopt};

  const Candidate lo{tuple.min, tuple.min_ts, &min_stats, std::abs(tuple.min - min_stats.mean)};
  const Candidate hi{tuple.max, tuple.max_ts, &max_stats, std::abs(tuple.max - max_stats.mean)};
  // Each candidate is measured against its own window; on a tie the peak is reported.
  const Candidate& c = !min_ok ? hi : !max_ok ? lo : (lo.deviation > hi.deviation ? lo : hi);

  const double stddev = c.stats->stddev;
  // A perfectly flat history (stddev 0) fires on any movement at all: `threshold × 0` would
  // otherwise be NaN for an infinite threshold and -0 for a negative one.
  const bool fires = stddev == 0 ? c.value != c.stats->mean : c.deviation > rule.threshold * stddev;
  if (!fires) return {};
  return fire(Firing{c.value, c.ts, c.stats->mean, stddev});
}

}  // namespace ste::eval
