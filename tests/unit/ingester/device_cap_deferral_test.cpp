#include "ingester/device_cap_deferral.hpp"

#include <catch2/catch.hpp>
#include <chrono>
#include <set>

#include "common/clock.hpp"
#include "ingester/device_registry.hpp"

using ste::ManualClock;
using ste::Millis;
using ste::TimePoint;
using ste::ingest::decide_over_cap;
using ste::ingest::DeferralBook;
using ste::ingest::DeferralPolicy;
using ste::ingest::NewDeviceLimiter;
using ste::ingest::OverCap;
using namespace std::chrono_literals;

namespace {
const TimePoint kMinuteStart{std::chrono::seconds{1'800'000'000}};

DeferralPolicy policy() {
  DeferralPolicy p;
  p.cap = 100;
  p.window = 60s;
  p.max_wait = 10min;
  p.max_held = 1000;
  return p;
}
}  // namespace

TEST_CASE("over the cap, a JetStream message waits until the next window opens, plus jitter",
          "[device_cap]") {
  const auto p = policy();
  const TimePoint now = kMinuteStart + 45s;
  std::set<Millis::rep> delays;
  for (std::uint64_t seq = 1; seq <= 200; ++seq) {
    const auto d =
        decide_over_cap(p, true, now, kMinuteStart + 60s, 0ms, 0, ste::ingest::jitter_seed(seq, 1));
    REQUIRE(d.verdict == OverCap::defer);
    CHECK(d.delay >= 15s);        // not before the window opens
    CHECK(d.delay <= 15s + 30s);  // jitter of at most half a window
    delays.insert(d.delay.count());
  }
  CHECK(delays.size() > 100);  // a fleet does not come back at once
}

TEST_CASE("over the cap, the limiter and the decision together: register, wait, register",
          "[device_cap]") {
  ManualClock clock(kMinuteStart + 10s);
  auto p = policy();
  p.cap = 1;
  NewDeviceLimiter limiter(p.cap, p.window);
  REQUIRE(limiter.try_acquire(7, clock.now()));        // register: a slot was free
  REQUIRE_FALSE(limiter.try_acquire(7, clock.now()));  // the next new device is over the cap
  const auto d = decide_over_cap(p, true, clock.now(), limiter.next_window(clock.now()), 0ms, 0, 0);
  REQUIRE(d.verdict == OverCap::defer);
  CHECK(d.delay == 50s);  // seed 0: no jitter
  clock.advance(d.delay);
  CHECK(limiter.try_acquire(7, clock.now()));  // when it is back, the window has room
}

TEST_CASE("the wait is bounded: past max_wait the message is rejected", "[device_cap]") {
  auto p = policy();
  p.max_wait = 90s;
  const TimePoint now = kMinuteStart + 30s;
  const TimePoint next = kMinuteStart + 60s;
  // 30 s to the next window, 90 s allowed: waits, and never past the bound in total.
  auto d = decide_over_cap(p, true, now, next, 0ms, 0, 29'999);
  REQUIRE(d.verdict == OverCap::defer);
  CHECK(d.delay == 30s + 29'999ms);  // seed 29,999 < half a window + 1: the jitter itself
  d = decide_over_cap(p, true, now, next, 50s, 0, 29'999);
  REQUIRE(d.verdict == OverCap::defer);
  CHECK(d.delay == 40s);  // jitter cut at the bound: 50 s + 40 s = 90 s
  // The next window opens after the bound: rejected now rather than held for nothing.
  d = decide_over_cap(p, true, now, next, 61s, 0, 0);
  CHECK(d.verdict == OverCap::reject);
  CHECK(d.why.find("STE_DEVICE_CAP_MAX_WAIT_SECONDS") != std::string_view::npos);
  // max_wait 0: the old behaviour, rejected at once.
  p.max_wait = 0ms;
  CHECK(decide_over_cap(p, true, now, next, 0ms, 0, 0).verdict == OverCap::reject);
}

TEST_CASE("over the cap, core NATS, a zero cap or too many waiting messages reject at once",
          "[device_cap]") {
  auto p = policy();
  const TimePoint now = kMinuteStart + 30s;
  const TimePoint next = kMinuteStart + 60s;
  CHECK(decide_over_cap(p, false, now, next, 0ms, 0, 0).verdict == OverCap::reject);
  CHECK(decide_over_cap(p, true, now, next, 0ms, p.max_held - 1, 0).verdict == OverCap::defer);
  CHECK(decide_over_cap(p, true, now, next, 0ms, p.max_held, 0).verdict == OverCap::reject);
  p.cap = 0;
  CHECK(decide_over_cap(p, true, now, next, 0ms, 0, 0).verdict == OverCap::reject);
}

TEST_CASE("a message exactly at a window boundary still waits at least a millisecond",
          "[device_cap]") {
  const auto d = decide_over_cap(policy(), true, kMinuteStart + 60s, kMinuteStart + 60s, 0ms, 0, 0);
  REQUIRE(d.verdict == OverCap::defer);
  CHECK(d.delay >= 1ms);
}

TEST_CASE("the deferral book measures the wait from the first deferral and forgets the rest",
          "[device_cap]") {
  DeferralBook book;
  const TimePoint t0 = kMinuteStart;
  book.hold(5, t0, t0 + 90s);
  book.hold(6, t0, t0 + 10s);
  CHECK(book.held() == 2);
  // Message 5 comes back and is deferred again: its first deferral time travels with it.
  const auto first = book.take(5);
  REQUIRE(first.has_value());
  CHECK(*first == t0);
  CHECK_FALSE(book.take(5).has_value());
  book.hold(5, *first, t0 + 200s);
  CHECK_FALSE(book.take(99).has_value());  // never deferred here: a fresh wait
  // Message 6 went to another instance: dropped once expired, so `held` does not leak.
  book.purge(t0 + 11s);
  CHECK(book.held() == 1);
  CHECK_FALSE(book.take(6).has_value());
}
