#include "evaluator/alerts/flap_detector.hpp"

#include <catch2/catch.hpp>

using ste::TimePoint;
using ste::eval::flap_settled;
using ste::eval::FlapSettings;
using ste::eval::FlapState;
using ste::eval::record_change;
using namespace std::chrono_literals;

namespace {
const TimePoint kT0{std::chrono::seconds{1'800'000'000}};
}  // namespace

TEST_CASE("a fingerprint starts flapping at the flap_changes-th change within the window",
          "[flapping]") {
  FlapState s;
  const FlapSettings f{6, 30min};
  for (int i = 0; i < 5; ++i) CHECK_FALSE(record_change(s, kT0 + i * 1min, f));
  CHECK_FALSE(s.flapping);
  CHECK(record_change(s, kT0 + 5min, f));  // the 6th: starts, once
  CHECK(s.flapping);
  CHECK_FALSE(record_change(s, kT0 + 6min, f));  // already flapping
  CHECK(s.flapping);
}

TEST_CASE("changes older than the window are forgotten", "[flapping]") {
  FlapState s;
  const FlapSettings f{3, 10min};
  CHECK_FALSE(record_change(s, kT0, f));
  CHECK_FALSE(record_change(s, kT0 + 6min, f));
  // kT0 is exactly 10 minutes before this one: outside the window, so only two within it.
  CHECK_FALSE(record_change(s, kT0 + 10min, f));
  CHECK(s.changes.size() == 2);
  CHECK(record_change(s, kT0 + 11min, f));  // 6, 10, 11: three within ten minutes
}

TEST_CASE("flap_changes 0 never flaps", "[flapping]") {
  FlapState s;
  const FlapSettings off{0, 30min};
  for (int i = 0; i < 100; ++i) CHECK_FALSE(record_change(s, kT0 + i * 1s, off));
  CHECK_FALSE(s.flapping);
}

TEST_CASE("flapping settles once the last change is a window old", "[flapping]") {
  FlapState s;
  const FlapSettings f{2, 30min};
  record_change(s, kT0, f);
  record_change(s, kT0 + 1min, f);
  REQUIRE(s.flapping);
  CHECK_FALSE(flap_settled(s, kT0 + 30min, f));
  CHECK(flap_settled(s, kT0 + 31min, f));  // 30 minutes after the last change
  FlapState quiet;
  CHECK_FALSE(flap_settled(quiet, kT0 + 1h, f));  // not flapping: nothing to settle
}
