#include "evaluator/alerts/tuple_verdict.hpp"

#include <algorithm>
#include <cmath>

namespace ste::eval {

bool clear_threshold_valid(Condition condition, double threshold, double clear_threshold) {
  switch (condition) {
    case Condition::above_threshold:
      return clear_threshold <= threshold;
    case Condition::below_threshold:
      return clear_threshold >= threshold;
    case Condition::deviation_from_mean:
    case Condition::no_data:
      return false;
  }
  return false;
}

TupleVerdict threshold_verdict(Condition condition, double threshold,
                               std::optional<double> clear_threshold, const Tuple& t) {
  const double clear = clear_threshold.value_or(threshold);
  TupleVerdict v;
  v.first_ts = std::min({t.min_ts, t.max_ts, t.last_ts});
  v.last_ts = t.last_ts;
  switch (condition) {
    case Condition::above_threshold:
      v.any_crosses = t.max > threshold;
      v.all_cross = t.min > threshold;
      v.last_crosses = t.last > threshold;
      v.all_clear = t.max <= clear;
      v.last_clears = t.last <= clear;
      v.crossing_ts = t.max_ts;
      break;
    case Condition::below_threshold:
      v.any_crosses = t.min < threshold;
      v.all_cross = t.max < threshold;
      v.last_crosses = t.last < threshold;
      v.all_clear = t.min >= clear;
      v.last_clears = t.last >= clear;
      v.crossing_ts = t.min_ts;
      break;
    case Condition::deviation_from_mean:
    case Condition::no_data:  // decided from received times (no_data.hpp), never from readings
      break;
  }
  return v;
}

namespace {

struct Judged {
  bool crosses = false;
  bool clears = false;
  int side = 0;  ///< +1 above the mean, -1 below
  double deviation = 0;
};

Judged judge(double v, const WindowStats& s, double threshold) {
  if (s.buckets < kMinBuckets) return {};
  const double d = v - s.mean;
  const bool crosses = s.stddev == 0 ? v != s.mean : std::abs(d) > threshold * s.stddev;
  return {crosses, !crosses, d > 0 ? 1 : (d < 0 ? -1 : 0), std::abs(d)};
}

}  // namespace

TupleVerdict deviation_verdict(double threshold, const Tuple& t, const WindowStats& min_stats,
                               const WindowStats& max_stats) {
  TupleVerdict v;
  v.first_ts = std::min({t.min_ts, t.max_ts, t.last_ts});
  v.last_ts = t.last_ts;
  const Judged lo = judge(t.min, min_stats, threshold);
  const Judged hi = judge(t.max, max_stats, threshold);
  const bool last_in_min_minute = minute_start(t.last_ts) == minute_start(t.min_ts) &&
                                  minute_start(t.last_ts) != minute_start(t.max_ts);
  const Judged last = judge(t.last, last_in_min_minute ? min_stats : max_stats, threshold);
  v.any_crosses = lo.crosses || hi.crosses;
  v.all_cross = lo.crosses && hi.crosses && lo.side == hi.side;
  v.all_clear = lo.clears && hi.clears;
  v.last_crosses = last.crosses;
  v.last_clears = last.clears;
  if (lo.crosses && (!hi.crosses || lo.deviation > hi.deviation)) {
    v.crossing_ts = t.min_ts;
  } else {
    v.crossing_ts = t.max_ts;
  }
  return v;
}

}  // namespace ste::eval
