#include "evaluator/evaluation/rule_evaluator.hpp"

#include <catch2/catch.hpp>
#include <chrono>
#include <cmath>
#include <limits>
#include <numeric>
#include <string_view>
#include <vector>

#include "common/time_format.hpp"

using ste::TimePoint;
using ste::eval::Condition;
using ste::eval::evaluate_deviation;
using ste::eval::evaluate_threshold;
using ste::eval::kMinBuckets;
using ste::eval::minute_start;
using ste::eval::Outcome;
using ste::eval::Rule;
using ste::eval::Tuple;
using ste::eval::WindowStats;
using namespace std::chrono_literals;

namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

/// For literals known to be valid (also used at static initialisation, outside any test).
TimePoint ts(std::string_view s) { return ste::parse_rfc3339(s).value(); }

const TimePoint kMinTs = ts("2026-11-28T11:00:12.345678Z");
const TimePoint kMaxTs = ts("2026-11-28T11:02:40.000001Z");

Rule rule(Condition c, double threshold) {
  Rule r;
  r.condition = c;
  r.threshold = threshold;
  r.metric = "temperature";
  return r;
}

Tuple tuple(double min, double max) {
  Tuple t;
  t.metric = "temperature";
  t.min = min;
  t.min_ts = kMinTs;
  t.max = max;
  t.max_ts = kMaxTs;
  t.last = (min + max) / 2;
  t.last_ts = kMaxTs + 1s;
  t.count = 3;
  return t;
}

WindowStats stats(double mean, double stddev, std::int64_t buckets = 30) {
  return WindowStats{buckets, mean, stddev};
}

/// What the readings_1m query computes: mean and sample standard deviation of bucket averages.
WindowStats stats_of(const std::vector<double>& buckets) {
  const double n = static_cast<double>(buckets.size());
  const double mean = std::accumulate(buckets.begin(), buckets.end(), 0.0) / n;
  double ss = 0;
  for (double b : buckets) ss += (b - mean) * (b - mean);
  return WindowStats{static_cast<std::int64_t>(buckets.size()), mean, std::sqrt(ss / (n - 1))};
}

}  // namespace

TEST_CASE("minute_start is the start of the UTC minute containing the time", "[rule_evaluator]") {
  CHECK(minute_start(ts("2026-11-28T11:00:59.999999Z")) == ts("2026-11-28T11:00:00Z"));
  CHECK(minute_start(ts("2026-11-28T11:00:00Z")) == ts("2026-11-28T11:00:00Z"));
  CHECK(minute_start(ts("2026-11-28T11:00:00.000001Z")) == ts("2026-11-28T11:00:00Z"));
  CHECK(minute_start(ts("2026-11-28T12:30:30+01:30")) == ts("2026-11-28T11:00:00Z"));
}

TEST_CASE("minute_start rounds pre-epoch times down, not towards zero", "[rule_evaluator]") {
  CHECK(minute_start(ts("1969-12-31T23:59:59.5Z")) == ts("1969-12-31T23:59:00Z"));
  CHECK(minute_start(TimePoint{} - 1ns) == TimePoint{} - 1min);
  CHECK(minute_start(TimePoint{} - 1min) == TimePoint{} - 1min);
  CHECK(minute_start(TimePoint{}) == TimePoint{});
}

TEST_CASE("above_threshold fires only when the max is strictly above the threshold",
          "[rule_evaluator]") {
  const Rule r = rule(Condition::above_threshold, 80);
  CHECK(evaluate_threshold(r, tuple(10, 80)).outcome == Outcome::no_fire);
  CHECK(evaluate_threshold(r, tuple(10, std::nextafter(80.0, -kInf))).outcome == Outcome::no_fire);
  const double just_above = std::nextafter(80.0, kInf);
  const auto e = evaluate_threshold(r, tuple(10, just_above));
  REQUIRE(e.outcome == Outcome::fire);
  REQUIRE(e.firing.has_value());
  CHECK(e.firing->value == just_above);
  CHECK(e.firing->reading_ts == kMaxTs);
  CHECK_FALSE(e.firing->mean.has_value());
  CHECK_FALSE(e.firing->stddev.has_value());
}

TEST_CASE("below_threshold fires only when the min is strictly below the threshold",
          "[rule_evaluator]") {
  const Rule r = rule(Condition::below_threshold, 2);
  CHECK(evaluate_threshold(r, tuple(2, 9)).outcome == Outcome::no_fire);
  CHECK(evaluate_threshold(r, tuple(std::nextafter(2.0, kInf), 9)).outcome == Outcome::no_fire);
  const double just_below = std::nextafter(2.0, -kInf);
  const auto e = evaluate_threshold(r, tuple(just_below, 9));
  REQUIRE(e.outcome == Outcome::fire);
  REQUIRE(e.firing.has_value());
  CHECK(e.firing->value == just_below);
  CHECK(e.firing->reading_ts == kMinTs);
  CHECK_FALSE(e.firing->mean.has_value());
}

TEST_CASE("a spike inside a batch fires even when the last reading is normal", "[rule_evaluator]") {
  Tuple t = tuple(10, 95);
  t.last = 20;
  const auto above = evaluate_threshold(rule(Condition::above_threshold, 80), t);
  REQUIRE(above.outcome == Outcome::fire);
  CHECK(above.firing->value == 95);
  const auto below = evaluate_threshold(rule(Condition::below_threshold, 15), t);
  REQUIRE(below.outcome == Outcome::fire);
  CHECK(below.firing->value == 10);
}

TEST_CASE("a threshold miss carries no firing", "[rule_evaluator]") {
  const auto e = evaluate_threshold(rule(Condition::above_threshold, 80), tuple(10, 20));
  CHECK(e.outcome == Outcome::no_fire);
  CHECK_FALSE(e.firing.has_value());
}

TEST_CASE("evaluating a rule with the other kind's function never fires", "[rule_evaluator]") {
  // Wildly outside any threshold and any window: only the dispatch keeps these from firing.
  const Tuple t = tuple(-1e9, 1e9);
  const auto th = evaluate_threshold(rule(Condition::deviation_from_mean, 0), t);
  CHECK(th.outcome == Outcome::no_fire);
  CHECK_FALSE(th.firing.has_value());
  for (Condition c : {Condition::above_threshold, Condition::below_threshold}) {
    const auto dev = evaluate_deviation(rule(c, 0), t, stats(0, 1), stats(0, 1));
    CHECK(dev.outcome == Outcome::no_fire);
    CHECK_FALSE(dev.firing.has_value());
  }
}

TEST_CASE("deviation needs at least five buckets of history", "[rule_evaluator]") {
  const Rule r = rule(Condition::deviation_from_mean, 3);
  const Tuple t = tuple(20, 40);
  REQUIRE(kMinBuckets == 5);
  const auto four = evaluate_deviation(r, t, stats(20, 0.5, 4), stats(20, 0.5, 4));
  CHECK(four.outcome == Outcome::too_few_buckets);
  CHECK_FALSE(four.firing.has_value());
  CHECK(evaluate_deviation(r, t, stats(20, 0.5, 0), stats(20, 0.5, 0)).outcome ==
        Outcome::too_few_buckets);
  CHECK(evaluate_deviation(r, t, stats(20, 0.5, 5), stats(20, 0.5, 5)).outcome == Outcome::fire);
  CHECK(evaluate_deviation(r, tuple(20, 20.1), stats(20, 0.5, 5), stats(20, 0.5, 5)).outcome ==
        Outcome::no_fire);
}

TEST_CASE("a candidate with too few buckets is passed over for the other", "[rule_evaluator]") {
  const Rule r = rule(Condition::deviation_from_mean, 3);
  // The max is far further out, but only the min's window has enough history.
  const auto min_only = evaluate_deviation(r, tuple(10, 1000), stats(20, 1, 5), stats(20, 1, 4));
  REQUIRE(min_only.outcome == Outcome::fire);
  CHECK(min_only.firing->value == 10);
  CHECK(min_only.firing->reading_ts == kMinTs);
  // And the other way round: a max that does not deviate is not rescued by the min.
  const auto max_only = evaluate_deviation(r, tuple(-1000, 20.5), stats(20, 1, 4), stats(20, 1, 5));
  CHECK(max_only.outcome == Outcome::no_fire);
}

TEST_CASE("a dip further from the mean than the peak is the value reported", "[rule_evaluator]") {
  const Rule r = rule(Condition::deviation_from_mean, 3);
  const auto e = evaluate_deviation(r, tuple(10, 25), stats(20, 1), stats(20, 1));
  REQUIRE(e.outcome == Outcome::fire);
  CHECK(e.firing->value == 10);
  CHECK(e.firing->reading_ts == kMinTs);
  CHECK(e.firing->mean == 20);
  CHECK(e.firing->stddev == 1);
}

TEST_CASE("a peak further from the mean than the dip is the value reported", "[rule_evaluator]") {
  const Rule r = rule(Condition::deviation_from_mean, 3);
  const auto e = evaluate_deviation(r, tuple(15, 31), stats(20, 1), stats(20, 1));
  REQUIRE(e.outcome == Outcome::fire);
  CHECK(e.firing->value == 31);
  CHECK(e.firing->reading_ts == kMaxTs);
}

TEST_CASE("a dip and a peak equally far from the mean report the peak", "[rule_evaluator]") {
  const Rule r = rule(Condition::deviation_from_mean, 3);
  const auto e = evaluate_deviation(r, tuple(10, 30), stats(20, 1), stats(20, 1));
  REQUIRE(e.outcome == Outcome::fire);
  CHECK(e.firing->value == 30);
  CHECK(e.firing->reading_ts == kMaxTs);
}

TEST_CASE("each candidate is measured against its own window", "[rule_evaluator]") {
  const Rule r = rule(Condition::deviation_from_mean, 3);
  // Against a shared mean of 20 the max (29) would be further out; against its own window (mean
  // 25) it is 4 away, while the min (12) is 8 below its window's mean.
  const auto e = evaluate_deviation(r, tuple(12, 29), stats(20, 1), stats(25, 1));
  REQUIRE(e.outcome == Outcome::fire);
  CHECK(e.firing->value == 12);
  CHECK(e.firing->mean == 20);
  CHECK(e.firing->stddev == 1);
  // The reported statistics are the chosen candidate's, not the other's.
  const auto f = evaluate_deviation(r, tuple(19, 40), stats(20, 1), stats(25, 2));
  REQUIRE(f.outcome == Outcome::fire);
  CHECK(f.firing->value == 40);
  CHECK(f.firing->mean == 25);
  CHECK(f.firing->stddev == 2);
}

TEST_CASE("deviation fires only when strictly beyond threshold times stddev", "[rule_evaluator]") {
  const Rule r = rule(Condition::deviation_from_mean, 3);
  // 3 × 0.5 = 1.5 exactly, and 20 ± 1.5 are exact in binary.
  CHECK(evaluate_deviation(r, tuple(20, 21.5), stats(20, 0.5), stats(20, 0.5)).outcome ==
        Outcome::no_fire);
  CHECK(evaluate_deviation(r, tuple(18.5, 20), stats(20, 0.5), stats(20, 0.5)).outcome ==
        Outcome::no_fire);
  CHECK(
      evaluate_deviation(r, tuple(20, std::nextafter(21.5, -kInf)), stats(20, 0.5), stats(20, 0.5))
          .outcome == Outcome::no_fire);
  CHECK(evaluate_deviation(r, tuple(20, std::nextafter(21.5, kInf)), stats(20, 0.5), stats(20, 0.5))
            .outcome == Outcome::fire);
  CHECK(
      evaluate_deviation(r, tuple(std::nextafter(18.5, -kInf), 20), stats(20, 0.5), stats(20, 0.5))
          .outcome == Outcome::fire);
}

TEST_CASE("with a flat history any movement fires and none does not", "[rule_evaluator]") {
  const Rule r = rule(Condition::deviation_from_mean, 3);
  const auto flat = stats(20, 0);
  CHECK(evaluate_deviation(r, tuple(20, 20), flat, flat).outcome == Outcome::no_fire);
  const auto moved = evaluate_deviation(r, tuple(20, std::nextafter(20.0, kInf)), flat, flat);
  REQUIRE(moved.outcome == Outcome::fire);
  CHECK(moved.firing->stddev == 0);
  CHECK(moved.firing->mean == 20);
  // The decision does not depend on the threshold's value, even an infinite one.
  CHECK(evaluate_deviation(rule(Condition::deviation_from_mean, kInf), tuple(19.5, 20), flat, flat)
            .outcome == Outcome::fire);
  CHECK(evaluate_deviation(rule(Condition::deviation_from_mean, kInf), tuple(20, 20), flat, flat)
            .outcome == Outcome::no_fire);
}

TEST_CASE("a reading of 40 after an hour around 20 fires with a mean near 20", "[rule_evaluator]") {
  std::vector<double> history;
  for (int i = 0; i < 60; ++i) history.push_back(20 + 0.3 * std::sin(i));
  const WindowStats w = stats_of(history);
  REQUIRE(w.buckets == 60);
  const Rule r = rule(Condition::deviation_from_mean, 3);

  const auto e = evaluate_deviation(r, tuple(20.1, 40), w, w);
  REQUIRE(e.outcome == Outcome::fire);
  CHECK(e.firing->value == 40);
  CHECK(e.firing->reading_ts == kMaxTs);
  REQUIRE(e.firing->mean.has_value());
  CHECK(*e.firing->mean == Approx(20).margin(0.1));
  REQUIRE(e.firing->stddev.has_value());
  CHECK(*e.firing->stddev == Approx(w.stddev));
  CHECK(*e.firing->stddev > 0);

  // A normal reading in the same history does not.
  CHECK(evaluate_deviation(r, tuple(19.9, 20.2), w, w).outcome == Outcome::no_fire);
}
