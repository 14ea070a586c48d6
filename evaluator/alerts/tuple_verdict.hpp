#pragma once
/// How one summary tuple stands against a threshold rule's firing and clearing conditions, for
/// EpisodeMachine (docs/ALERTING.md §1), pure. Firing is strict, as in evaluate_threshold:
/// above_threshold crosses when a value > threshold, below_threshold when < threshold. Clearing
/// is inclusive at `clear_threshold`: above clears when a value <= clear_threshold, below when >=.
/// Between the two a value neither fires nor clears (hysteresis). The tuple knows its min, max
/// and newest value, which is enough: "every reading crosses" is min > threshold (above), "every
/// reading clears" is max <= clear_threshold.
#include <optional>

#include "evaluator/alerts/episode_machine.hpp"
#include "evaluator/evaluation/rule.hpp"
#include "evaluator/evaluation/rule_evaluator.hpp"
#include "evaluator/evaluation/summary_parser.hpp"

namespace ste::eval {

/// A clear threshold is valid when it is not beyond the threshold: for above_threshold
/// clear_threshold <= threshold, for below_threshold >= threshold. Only threshold rules have one.
bool clear_threshold_valid(Condition condition, double threshold, double clear_threshold);

/// `clear_threshold` nullopt = the threshold itself. Called with a deviation rule (a programming
/// error) it returns a verdict that neither crosses nor clears.
TupleVerdict threshold_verdict(Condition condition, double threshold,
                               std::optional<double> clear_threshold, const Tuple& tuple);

/// deviation_from_mean: a value crosses when |v - mean| > threshold × stddev of its own window
/// (stddev 0: any value other than the mean, as evaluate_deviation) and clears when it is within.
/// min is measured against `min_stats`, max against `max_stats`, the newest value against the
/// window of whichever of the two shares its minute (max's when neither does). A window with
/// fewer than kMinBuckets buckets says nothing: its value neither crosses nor clears. Every
/// reading crosses when min and max both do on the same side of their means; every reading clears
/// when both are within. The episode opens at the candidate further from its mean.
TupleVerdict deviation_verdict(double threshold, const Tuple& tuple, const WindowStats& min_stats,
                               const WindowStats& max_stats);

}  // namespace ste::eval
