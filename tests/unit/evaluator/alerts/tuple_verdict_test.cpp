// threshold_verdict: what a tuple's min, max and newest value say about a threshold rule's firing
// (strict) and clearing (inclusive, at clear_threshold) conditions; the hysteresis band between.
#include "evaluator/alerts/tuple_verdict.hpp"

#include <catch2/catch.hpp>

using namespace ste;
using namespace ste::eval;
using namespace std::chrono_literals;

namespace {

const TimePoint T0 = TimePoint{} + std::chrono::hours{24 * 20000};

/// A tuple: min at +1 s, max at +2 s, newest at +3 s unless said otherwise.
Tuple tuple(double min, double max, double last) {
  Tuple t;
  t.min = min;
  t.max = max;
  t.last = last;
  t.min_ts = T0 + 1s;
  t.max_ts = T0 + 2s;
  t.last_ts = T0 + 3s;
  return t;
}

}  // namespace

TEST_CASE("above_threshold: crossing is strict, clearing inclusive at clear_threshold",
          "[episode][verdict]") {
  const auto above = [](const Tuple& t) {
    return threshold_verdict(Condition::above_threshold, 90, 80, t);
  };
  SECTION("every reading above") {
    const auto v = above(tuple(91, 99, 95));
    CHECK(v.any_crosses);
    CHECK(v.all_cross);
    CHECK(v.last_crosses);
    CHECK_FALSE(v.all_clear);
    CHECK_FALSE(v.last_clears);
    CHECK(v.crossing_ts == T0 + 2s);  // the max opens the episode
  }
  SECTION("a spike, then back below the clear threshold") {
    const auto v = above(tuple(50, 95, 50));
    CHECK(v.any_crosses);
    CHECK_FALSE(v.all_cross);
    CHECK_FALSE(v.last_crosses);
    CHECK_FALSE(v.all_clear);
    CHECK(v.last_clears);
  }
  SECTION("between the thresholds: neither") {
    const auto v = above(tuple(81, 90, 85));  // 90 is not above 90; 81 is not at or below 80
    CHECK_FALSE(v.any_crosses);
    CHECK_FALSE(v.all_clear);
    CHECK_FALSE(v.last_clears);
  }
  SECTION("at the clear threshold: cleared") {
    const auto v = above(tuple(70, 80, 80));
    CHECK(v.all_clear);
    CHECK(v.last_clears);
    CHECK_FALSE(v.any_crosses);
  }
}

TEST_CASE("below_threshold mirrors it", "[episode][verdict]") {
  const auto below = [](const Tuple& t) {
    return threshold_verdict(Condition::below_threshold, 10, 15, t);
  };
  auto v = below(tuple(2, 9, 5));
  CHECK(v.all_cross);
  CHECK(v.crossing_ts == T0 + 1s);  // the min opens the episode
  v = below(tuple(2, 30, 20));
  CHECK(v.any_crosses);
  CHECK_FALSE(v.all_cross);
  CHECK(v.last_clears);
  CHECK_FALSE(v.all_clear);
  v = below(tuple(10, 14, 12));  // 10 is not below 10; 14 is not at or above 15
  CHECK_FALSE(v.any_crosses);
  CHECK_FALSE(v.last_clears);
  v = below(tuple(15, 40, 15));
  CHECK(v.all_clear);
}

TEST_CASE("Without a clear threshold the threshold itself clears", "[episode][verdict]") {
  const auto v = threshold_verdict(Condition::above_threshold, 90, std::nullopt, tuple(10, 90, 90));
  CHECK_FALSE(v.any_crosses);
  CHECK(v.all_clear);
}

TEST_CASE("The verdict's times: earliest known reading and the newest", "[episode][verdict]") {
  Tuple t = tuple(1, 2, 1.5);
  t.max_ts = T0 - 5s;  // readings need not arrive in order
  const auto v = threshold_verdict(Condition::above_threshold, 0, std::nullopt, t);
  CHECK(v.first_ts == T0 - 5s);
  CHECK(v.last_ts == T0 + 3s);
}

TEST_CASE("A clear threshold must not lie beyond the threshold", "[episode][verdict]") {
  CHECK(clear_threshold_valid(Condition::above_threshold, 90, 80));
  CHECK(clear_threshold_valid(Condition::above_threshold, 90, 90));
  CHECK_FALSE(clear_threshold_valid(Condition::above_threshold, 90, 91));
  CHECK(clear_threshold_valid(Condition::below_threshold, 10, 15));
  CHECK_FALSE(clear_threshold_valid(Condition::below_threshold, 10, 5));
  CHECK_FALSE(clear_threshold_valid(Condition::deviation_from_mean, 3, 2));
}

TEST_CASE("A verdict feeds the episode machine: hysteresis keeps an episode firing",
          "[episode][verdict]") {
  const auto verdict = [](double min, double max, double last, std::chrono::seconds at) {
    Tuple t = tuple(min, max, last);
    t.min_ts = t.max_ts = t.last_ts = T0 + at;
    return threshold_verdict(Condition::above_threshold, 90, 80, t);
  };
  FingerprintState s;
  auto step = step_episode(s, verdict(95, 95, 95, 0s), {});
  REQUIRE(step.open);
  s = {step.open, T0};
  step = step_episode(s, verdict(85, 85, 85, 10s), {});  // between: still firing
  REQUIRE(step.open);
  CHECK(step.events.empty());
  s = {step.open, T0 + 10s};
  step = step_episode(s, verdict(79, 79, 79, 20s), {});  // below the clear threshold: resolved
  CHECK_FALSE(step.open);
  REQUIRE(step.events.size() == 1);
  CHECK(step.events[0].kind == EpisodeEvent::Kind::resolved);
}

TEST_CASE("deviation_from_mean: crossing and clearing against each value's own window",
          "[episode][verdict]") {
  const WindowStats calm{30, 50, 2};  // mean 50, stddev 2; threshold 3 => band 44..56
  const WindowStats thin{3, 50, 2};   // too few buckets: says nothing
  SECTION("both extremes far above: every reading crosses") {
    const auto v = deviation_verdict(3, tuple(60, 70, 65), calm, calm);
    CHECK(v.any_crosses);
    CHECK(v.all_cross);
    CHECK(v.last_crosses);
    CHECK_FALSE(v.all_clear);
    CHECK(v.crossing_ts == T0 + 2s);
  }
  SECTION("one far below, one far above: crosses, but not on one side throughout") {
    const auto v = deviation_verdict(3, tuple(25, 70, 50), calm, calm);
    CHECK(v.any_crosses);
    CHECK_FALSE(v.all_cross);
    CHECK(v.last_clears);
    CHECK(v.crossing_ts == T0 + 1s);  // 25 is further from 50 than 70
  }
  SECTION("within the band: every reading clears") {
    const auto v = deviation_verdict(3, tuple(45, 55, 50), calm, calm);
    CHECK_FALSE(v.any_crosses);
    CHECK(v.all_clear);
    CHECK(v.last_clears);
  }
  SECTION("a window with too few buckets neither fires nor clears") {
    const auto v = deviation_verdict(3, tuple(45, 90, 50), calm, thin);
    CHECK_FALSE(v.any_crosses);
    CHECK_FALSE(v.all_clear);
    // The newest value shares max's minute, so it is measured on max's thin window too.
    CHECK_FALSE(v.last_clears);
  }
  SECTION("a flat history: any movement crosses") {
    const WindowStats flat{30, 50, 0};
    CHECK(deviation_verdict(3, tuple(50, 50.5, 50), flat, flat).any_crosses);
    CHECK(deviation_verdict(3, tuple(50, 50, 50), flat, flat).all_clear);
  }
}
