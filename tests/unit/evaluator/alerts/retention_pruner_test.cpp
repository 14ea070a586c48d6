// The retention decisions: which alerts are due (the cutoff) and whether a run goes on.
#include "evaluator/alerts/retention_pruner.hpp"

#include <catch2/catch.hpp>
#include <chrono>

using ste::ManualClock;
using ste::eval::prune_again;
using ste::eval::PruneCounts;
using ste::eval::retention_cutoff;
using namespace std::chrono_literals;

TEST_CASE("the cutoff is the retention period before now", "[retention]") {
  ManualClock clock;
  const auto cutoff = retention_cutoff(clock.now(), 90);
  REQUIRE(cutoff.has_value());
  CHECK(clock.now() - *cutoff == std::chrono::hours{90 * 24});
  clock.advance(1h);
  CHECK(*retention_cutoff(clock.now(), 90) - *cutoff == 1h);
  CHECK(clock.now() - *retention_cutoff(clock.now(), 1) == 24h);
}

TEST_CASE("retention 0 keeps alerts forever", "[retention]") {
  ManualClock clock;
  CHECK_FALSE(retention_cutoff(clock.now(), 0).has_value());
  CHECK_FALSE(retention_cutoff(clock.now(), -1).has_value());
}

TEST_CASE("a run goes on only after a full batch it was allowed to prune", "[retention]") {
  CHECK(prune_again(PruneCounts{1000, 2000, 5000, false}, 1000));
  CHECK_FALSE(prune_again(PruneCounts{999, 2000, 5000, false}, 1000));
  CHECK_FALSE(prune_again(PruneCounts{0, 0, 0, false}, 1000));
  // Another instance holds the pruning lock: this one leaves the run to it.
  CHECK_FALSE(prune_again(PruneCounts{0, 0, 0, true}, 1000));
}
