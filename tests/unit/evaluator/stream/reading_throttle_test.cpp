#include "evaluator/stream/reading_throttle.hpp"

#include <catch2/catch.hpp>

using ste::MonoPoint;
using ste::TimePoint;
using ste::stream::MetricValue;
using ste::stream::ReadingThrottle;
using namespace std::chrono_literals;

namespace {
const MonoPoint kM0{std::chrono::seconds{1000}};
const TimePoint kT0{std::chrono::seconds{1'800'000'000}};
}  // namespace

TEST_CASE("a device's first reading is due at once, later ones once per interval", "[stream]") {
  ReadingThrottle t(1s, 100);
  REQUIRE(t.offer("acme", "d1", "temp", {20, kT0}));
  auto due = t.take_due(kM0);
  REQUIRE(due.size() == 1);
  CHECK(due[0].tenant == "acme");
  CHECK(due[0].device == "d1");
  CHECK(due[0].metrics.at("temp").value == 20);

  t.offer("acme", "d1", "temp", {21, kT0 + 100ms});
  t.offer("acme", "d1", "temp", {22, kT0 + 200ms});
  t.offer("acme", "d1", "hum", {50, kT0 + 200ms});
  CHECK(t.take_due(kM0 + 500ms).empty());  // within the interval: held
  due = t.take_due(kM0 + 1s);              // then the newest of each metric, merged
  REQUIRE(due.size() == 1);
  CHECK(due[0].metrics.at("temp").value == 22);
  CHECK(due[0].metrics.at("hum").value == 50);
  CHECK(t.take_due(kM0 + 3s).empty());  // nothing new: nothing sent
}

TEST_CASE("an older reading does not replace a newer one held for the metric", "[stream]") {
  ReadingThrottle t(1s, 100);
  t.offer("acme", "d1", "temp", {30, kT0 + 5s});
  t.offer("acme", "d1", "temp", {10, kT0});  // a late batch of old readings
  const auto due = t.take_due(kM0);
  REQUIRE(due.size() == 1);
  CHECK(due[0].metrics.at("temp").value == 30);
  CHECK(due[0].metrics.at("temp").ts == kT0 + 5s);
}

TEST_CASE("devices are throttled one by one and tenants apart", "[stream]") {
  ReadingThrottle t(1s, 100);
  t.offer("acme", "d1", "temp", {1, kT0});
  t.offer("other", "d1", "temp", {2, kT0});
  CHECK(t.take_due(kM0).size() == 2);
  t.offer("acme", "d1", "temp", {3, kT0 + 1s});
  t.offer("acme", "d2", "temp", {4, kT0 + 1s});  // new device: due at once
  const auto due = t.take_due(kM0 + 10ms);
  REQUIRE(due.size() == 1);
  CHECK(due[0].device == "d2");
}

TEST_CASE("the throttle tracks at most max_devices and forgets idle ones", "[stream]") {
  ReadingThrottle t(1s, 2);
  CHECK(t.offer("acme", "d1", "temp", {1, kT0}));
  CHECK(t.offer("acme", "d2", "temp", {1, kT0}));
  CHECK_FALSE(t.offer("acme", "d3", "temp", {1, kT0}));
  CHECK(t.dropped() == 1);
  CHECK(t.offer("acme", "d1", "temp", {2, kT0}));  // a tracked device is still taken
  CHECK(t.take_due(kM0).size() == 2);
  CHECK(t.tracked() == 2);
  CHECK(t.take_due(kM0 + 10s).empty());
  CHECK(t.tracked() == 2);  // idle exactly ten intervals: kept
  CHECK(t.take_due(kM0 + 11s).empty());
  CHECK(t.tracked() == 0);  // idle longer: forgotten, room for others
  CHECK(t.offer("acme", "d3", "temp", {1, kT0}));
}
