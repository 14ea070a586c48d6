#pragma once
/// The rule math (docs/DESIGN.md §5), pure:
/// - above_threshold fires when the tuple's max > threshold (value/reading_ts = max/max_ts);
/// - below_threshold fires when min < threshold (value/reading_ts = min/min_ts);
/// - deviation_from_mean: the statistics of the bucket averages over [m - window, m), m the start
///   of the candidate value's own minute. Because min and max may lie in different minutes, each
///   candidate gets its own window statistics; the candidate further from its window's mean is
///   chosen. Fewer than kMinBuckets buckets: skipped. Fires when |v - mean| > threshold × stddev.
///   Zero stddev (a perfectly flat history): any v different from the mean fires — a sensor that
///   never moved and now moves is exactly what this rule is for; v equal to the mean does not.
#include <optional>

#include "common/clock.hpp"
#include "evaluator/evaluation/rule.hpp"
#include "evaluator/evaluation/summary_parser.hpp"

namespace ste::eval {

inline constexpr int kMinBuckets = 5;

/// Statistics of complete one-minute buckets before a candidate's minute.
struct WindowStats {
  std::int64_t buckets = 0;
  double mean = 0;
  double stddev = 0;  ///< sample standard deviation of the bucket averages
};

struct Firing {
  double value = 0;
  TimePoint reading_ts{};
  std::optional<double> mean;    ///< deviation only
  std::optional<double> stddev;  ///< deviation only
};

enum class Outcome { fire, no_fire, too_few_buckets };

struct Evaluation {
  Outcome outcome = Outcome::no_fire;
  std::optional<Firing> firing;  ///< set when outcome == fire
};

/// Start of the minute containing `t` (UTC).
TimePoint minute_start(TimePoint t);

/// Strict comparisons: a max equal to the threshold does not fire. Called with a
/// deviation_from_mean rule (a programming error) it returns no_fire.
Evaluation evaluate_threshold(const Rule& rule, const Tuple& tuple);

/// `min_stats` is the window before min_ts's minute, `max_stats` before max_ts's minute. A
/// candidate whose window has fewer than kMinBuckets buckets is not eligible; with neither
/// eligible the outcome is too_few_buckets. Between two eligible candidates the larger
/// |v - mean| wins (a tie reports the max), and only that one is tested against threshold ×
/// stddev. Called with a threshold rule (a programming error) it returns no_fire.
Evaluation evaluate_deviation(const Rule& rule, const Tuple& tuple, const WindowStats& min_stats,
                              const WindowStats& max_stats);

}  // namespace ste::eval
