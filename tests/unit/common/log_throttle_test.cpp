#include "common/log_throttle.hpp"

#include <catch2/catch.hpp>

using namespace std::chrono_literals;

TEST_CASE("the first event is logged, then at most one per interval", "[log_throttle]") {
  ste::ManualClock clock;
  ste::LogThrottle throttle(5s);
  REQUIRE(throttle.admit(clock.mono()) == std::optional<std::uint64_t>{0});
  clock.advance(1s);
  CHECK_FALSE(throttle.admit(clock.mono()));
  clock.advance(3999ms);
  CHECK_FALSE(throttle.admit(clock.mono()));
  clock.advance(1ms);  // exactly 5 s after the admitted one
  CHECK(throttle.admit(clock.mono()) == std::optional<std::uint64_t>{2});
  CHECK_FALSE(throttle.admit(clock.mono()));
}

TEST_CASE("the count of refused events restarts after each admitted one", "[log_throttle]") {
  ste::ManualClock clock;
  ste::LogThrottle throttle(1s);
  REQUIRE(throttle.admit(clock.mono()));
  for (int i = 0; i < 10; ++i) CHECK_FALSE(throttle.admit(clock.mono()));
  clock.advance(1s);
  CHECK(throttle.admit(clock.mono()) == std::optional<std::uint64_t>{10});
  clock.advance(1s);
  CHECK(throttle.admit(clock.mono()) == std::optional<std::uint64_t>{0});
}

TEST_CASE("setting the wall clock neither silences nor floods the log", "[log_throttle]") {
  ste::ManualClock clock;
  ste::LogThrottle throttle(5s);
  REQUIRE(throttle.admit(clock.mono()));
  clock.set(clock.now() + std::chrono::hours{24});  // wall clock jumps ahead
  CHECK_FALSE(throttle.admit(clock.mono()));
  clock.set(clock.now() - std::chrono::hours{48});  // and back
  clock.advance(5s);
  CHECK(throttle.admit(clock.mono()));
}
