#include "evaluator/api/request_rate_limiter.hpp"

#include <catch2/catch.hpp>

using namespace ste;
using namespace ste::api;
using namespace std::chrono_literals;

namespace {
const TimePoint t0{std::chrono::seconds{1'800'000'000}};

int allowed_in_a_row(RequestRateLimiter& l, const std::string& caller, TimePoint now) {
  int n = 0;
  while (l.take(caller, now).allowed) ++n;
  return n;
}
}  // namespace

TEST_CASE("a new caller may send a burst, then is refused with Retry-After", "[rate_limiter]") {
  RequestRateLimiter l({.per_second = 2, .burst = 5});
  CHECK(allowed_in_a_row(l, "k", t0) == 5);
  const RateDecision d = l.take("k", t0);
  CHECK_FALSE(d.allowed);
  CHECK(d.retry_after == 1s);  // one token takes 0.5 s at 2/s: rounded up to whole seconds
}

TEST_CASE("tokens come back at the configured rate and never beyond the burst", "[rate_limiter]") {
  RequestRateLimiter l({.per_second = 2, .burst = 5});
  allowed_in_a_row(l, "k", t0);
  CHECK(allowed_in_a_row(l, "k", t0 + 1s) == 2);
  CHECK(allowed_in_a_row(l, "k", t0 + 1s + 1h) == 5);
}

TEST_CASE("Retry-After is the wait for the next token at a slow rate", "[rate_limiter]") {
  RequestRateLimiter l({.per_second = 0.25, .burst = 1});
  CHECK(l.take("k", t0).allowed);
  CHECK(l.take("k", t0).retry_after == 4s);
  CHECK(l.take("k", t0 + 2s).retry_after == 2s);
  CHECK(l.take("k", t0 + 3500ms).retry_after == 1s);
  CHECK(l.take("k", t0 + 4s).allowed);
}

TEST_CASE("callers have separate buckets", "[rate_limiter]") {
  RequestRateLimiter l({.per_second = 1, .burst = 2});
  CHECK(allowed_in_a_row(l, "a", t0) == 2);
  CHECK(l.take("b", t0).allowed);
  CHECK_FALSE(l.take("a", t0).allowed);
}

TEST_CASE("a refused request does not use up a token", "[rate_limiter]") {
  RequestRateLimiter l({.per_second = 1, .burst = 1});
  CHECK(l.take("k", t0).allowed);
  for (int i = 0; i < 10; ++i) CHECK_FALSE(l.take("k", t0 + 500ms).allowed);
  CHECK(l.take("k", t0 + 1s).allowed);
}

TEST_CASE("a clock step backwards adds no tokens", "[rate_limiter]") {
  RequestRateLimiter l({.per_second = 1, .burst = 1});
  CHECK(l.take("k", t0).allowed);
  CHECK_FALSE(l.take("k", t0 - 1h).allowed);
  CHECK_FALSE(l.take("k", t0 + 500ms).allowed);
}

TEST_CASE("exhausted() reports an empty bucket without taking a token", "[rate_limiter]") {
  RequestRateLimiter l({.per_second = 1, .burst = 2});
  CHECK_FALSE(l.exhausted("k", t0));  // unknown caller
  CHECK(l.take("k", t0).allowed);
  CHECK_FALSE(l.exhausted("k", t0));
  CHECK(l.take("k", t0).allowed);
  CHECK(l.exhausted("k", t0));
  CHECK_FALSE(l.exhausted("k", t0 + 1s));
  CHECK(l.take("k", t0 + 1s).allowed);
}

TEST_CASE("a rate of zero means no limit", "[rate_limiter]") {
  RequestRateLimiter l({.per_second = 0, .burst = 1});
  for (int i = 0; i < 1000; ++i) REQUIRE(l.take("k", t0).allowed);
  CHECK(l.callers() == 0);
}

TEST_CASE("the number of kept callers is capped — idle callers make room", "[rate_limiter]") {
  RequestRateLimiter l({.per_second = 1, .burst = 2, .max_callers = 3});
  CHECK(l.take("a", t0).allowed);
  CHECK(l.take("b", t0).allowed);
  CHECK(l.take("c", t0).allowed);
  // All three are mid-bucket: a fourth caller is refused rather than the map growing.
  const RateDecision d = l.take("d", t0);
  CHECK_FALSE(d.allowed);
  CHECK(d.retry_after >= 1s);
  CHECK(l.callers() == 3);
  // A second later a and b and c have refilled (idle): they are dropped and d gets a bucket.
  CHECK(l.take("d", t0 + 1s).allowed);
  CHECK(l.callers() == 1);
  // A dropped caller comes back with a full bucket, as a new caller would.
  CHECK(allowed_in_a_row(l, "a", t0 + 1s) == 2);
}
