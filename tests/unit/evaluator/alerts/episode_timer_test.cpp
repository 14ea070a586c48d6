#include "evaluator/alerts/episode_timer.hpp"

#include <catch2/catch.hpp>

using ste::TimePoint;
using ste::eval::repeat_due;
using namespace std::chrono_literals;

namespace {
const TimePoint kNow{std::chrono::seconds{1'800'000'000}};
}  // namespace

TEST_CASE("a repeat is due once renotify_minutes have passed since the last notification",
          "[episode_timer]") {
  CHECK(repeat_due(true, true, false, 30, kNow - 30min, kNow));  // the boundary is due
  CHECK(repeat_due(true, true, false, 30, kNow - 2h, kNow));
  CHECK_FALSE(repeat_due(true, true, false, 30, kNow - 29min - 59s, kNow));
  CHECK_FALSE(repeat_due(true, true, false, 30, kNow + 1s, kNow));  // clock skew: not yet
}

TEST_CASE("no repeat without renotify_minutes, for an acknowledged, unnotified or resolved episode",
          "[episode_timer]") {
  CHECK_FALSE(repeat_due(true, true, false, 0, kNow - 24h, kNow));
  CHECK_FALSE(repeat_due(true, true, true, 30, kNow - 24h, kNow));    // acknowledged
  CHECK_FALSE(repeat_due(true, false, false, 30, kNow - 24h, kNow));  // fired in the cooldown
  CHECK_FALSE(repeat_due(false, true, false, 30, kNow - 24h, kNow));  // not firing
  CHECK_FALSE(repeat_due(true, true, false, 30, std::nullopt, kNow));
}
