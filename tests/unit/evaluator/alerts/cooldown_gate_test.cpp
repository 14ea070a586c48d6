#include "evaluator/alerts/cooldown_gate.hpp"

#include <catch2/catch.hpp>
#include <chrono>

using ste::TimePoint;
using ste::eval::CooldownDecision;
using ste::eval::decide_cooldown;
using namespace std::chrono_literals;

namespace {
const TimePoint kNow{std::chrono::seconds{1'800'000'000}};
}

TEST_CASE("a rule that never fired for the device is allowed", "[cooldown_gate]") {
  CHECK(decide_cooldown(std::nullopt, kNow, 15) == CooldownDecision::allow);
}

TEST_CASE("a rule is suppressed inside its cooldown", "[cooldown_gate]") {
  const auto ago =
      GENERATE(0ns, std::chrono::nanoseconds{1min}, std::chrono::nanoseconds{15min - 1ns});
  CHECK(decide_cooldown(kNow - ago, kNow, 15) == CooldownDecision::suppress);
}

TEST_CASE("a rule is allowed again exactly when its cooldown ends", "[cooldown_gate]") {
  CHECK(decide_cooldown(kNow - 15min, kNow, 15) == CooldownDecision::allow);
  CHECK(decide_cooldown(kNow - 15min - 1ns, kNow, 15) == CooldownDecision::allow);
  CHECK(decide_cooldown(kNow - 24h, kNow, 15) == CooldownDecision::allow);
}

TEST_CASE("a last alert after now counts as inside the cooldown", "[cooldown_gate]") {
  CHECK(decide_cooldown(kNow + 1ns, kNow, 15) == CooldownDecision::suppress);
  CHECK(decide_cooldown(kNow + 1h, kNow, 15) == CooldownDecision::suppress);
}

TEST_CASE("a zero cooldown always allows", "[cooldown_gate]") {
  CHECK(decide_cooldown(kNow, kNow, 0) == CooldownDecision::allow);
  CHECK(decide_cooldown(kNow - 1ns, kNow, 0) == CooldownDecision::allow);
  // No cooldown means nothing to be inside of, even with a skewed clock.
  CHECK(decide_cooldown(kNow + 1min, kNow, 0) == CooldownDecision::allow);
}

TEST_CASE("the cooldown length is counted in minutes", "[cooldown_gate]") {
  CHECK(decide_cooldown(kNow - 59min, kNow, 60) == CooldownDecision::suppress);
  CHECK(decide_cooldown(kNow - 60min, kNow, 60) == CooldownDecision::allow);
  CHECK(decide_cooldown(kNow - 1min, kNow, 1) == CooldownDecision::allow);
  CHECK(decide_cooldown(kNow - 59s, kNow, 1) == CooldownDecision::suppress);
}
