#include "evaluator/delivery/retry_policy.hpp"

#include <algorithm>
#include <catch2/catch.hpp>
#include <chrono>
#include <limits>
#include <optional>
#include <random>
#include <vector>

using std::chrono::milliseconds;
using ste::TimePoint;
using ste::eval::AttemptVerdict;
using ste::eval::backoff_ceiling;
using ste::eval::backoff_delay;
using ste::eval::classify_attempt;
using ste::eval::is_retryable_status;
using ste::eval::next_delay;
using ste::eval::parse_retry_after;
using ste::eval::RetryPolicy;
using namespace std::chrono_literals;

namespace {
// Fri, 15 Jan 2027 08:00:00 GMT
const TimePoint kNow{std::chrono::seconds{1'800'000'000}};
const RetryPolicy kDefault{};
}  // namespace

TEST_CASE("any 2xx response is delivered", "[retry_policy]") {
  const int status = GENERATE(200, 204, 299);
  CHECK(classify_attempt(status, 1, kDefault) == AttemptVerdict::delivered);
  // Even on the last allowed attempt.
  CHECK(classify_attempt(status, 8, kDefault) == AttemptVerdict::delivered);
}

TEST_CASE("408, 429 and 5xx responses are retried", "[retry_policy]") {
  const int status = GENERATE(408, 429, 500, 503, 599);
  CHECK(is_retryable_status(status));
  CHECK(classify_attempt(status, 1, kDefault) == AttemptVerdict::retry);
}

TEST_CASE("an attempt that got no response is retried", "[retry_policy]") {
  CHECK(is_retryable_status(std::nullopt));
  CHECK(classify_attempt(std::nullopt, 1, kDefault) == AttemptVerdict::retry);
}

TEST_CASE("other 4xx responses fail at once", "[retry_policy]") {
  const int status = GENERATE(400, 401, 403, 404, 410, 422);
  CHECK_FALSE(is_retryable_status(status));
  CHECK(classify_attempt(status, 1, kDefault) == AttemptVerdict::failed);
}

TEST_CASE("redirects fail at once because they are not followed", "[retry_policy]") {
  const int status = GENERATE(301, 302);
  CHECK_FALSE(is_retryable_status(status));
  CHECK(classify_attempt(status, 1, kDefault) == AttemptVerdict::failed);
}

TEST_CASE("statuses outside 2xx and the retryable set fail at once", "[retry_policy]") {
  const int status = GENERATE(100, 199, 300, 600);
  CHECK(classify_attempt(status, 1, kDefault) == AttemptVerdict::failed);
}

TEST_CASE("a retryable failure is retried until the attempt budget is spent", "[retry_policy]") {
  REQUIRE(kDefault.max_attempts == 8);
  CHECK(classify_attempt(500, 7, kDefault) == AttemptVerdict::retry);
  CHECK(classify_attempt(500, 8, kDefault) == AttemptVerdict::failed);
  CHECK(classify_attempt(std::nullopt, 7, kDefault) == AttemptVerdict::retry);
  CHECK(classify_attempt(std::nullopt, 8, kDefault) == AttemptVerdict::failed);
}

TEST_CASE("the attempt budget follows a configured max_attempts", "[retry_policy]") {
  const RetryPolicy policy{.max_attempts = 3};
  CHECK(classify_attempt(429, 2, policy) == AttemptVerdict::retry);
  CHECK(classify_attempt(429, 3, policy) == AttemptVerdict::failed);
}

TEST_CASE("backoff ceilings double from one second and stop at five minutes", "[retry_policy]") {
  const std::vector<milliseconds> expected = {1s,  2s,   4s,   8s,   16s, 32s,
                                              64s, 128s, 256s, 300s, 300s};
  for (std::size_t i = 0; i < expected.size(); ++i) {
    INFO("attempts_done = " << i + 1);
    CHECK(backoff_ceiling(static_cast<int>(i) + 1, kDefault) == expected[i]);
  }
}

TEST_CASE("backoff ceilings do not overflow for very large attempt counts", "[retry_policy]") {
  CHECK(backoff_ceiling(1'000, kDefault) == 300s);
  CHECK(backoff_ceiling(std::numeric_limits<int>::max(), kDefault) == 300s);
}

TEST_CASE("jittered delays stay within half the ceiling and the ceiling", "[retry_policy]") {
  std::mt19937_64 rng{20261128};
  for (int attempts = 1; attempts <= 12; ++attempts) {
    const milliseconds ceiling = backoff_ceiling(attempts, kDefault);
    milliseconds lo = ceiling;
    milliseconds hi{0};
    for (int draw = 0; draw < 2'000; ++draw) {
      const milliseconds d = backoff_delay(attempts, kDefault, rng);
      INFO("attempts_done = " << attempts << ", delay = " << d.count() << " ms");
      REQUIRE(d >= ceiling / 2);
      REQUIRE(d <= ceiling);
      lo = std::min(lo, d);
      hi = std::max(hi, d);
    }
    // The jitter actually spreads: over 2000 draws both ends of the range are approached.
    CHECK(lo < ceiling / 2 + ceiling / 20);
    CHECK(hi > ceiling - ceiling / 20);
  }
}

TEST_CASE("jittered delays are reproducible with the same seed", "[retry_policy]") {
  std::mt19937_64 a{42};
  std::mt19937_64 b{42};
  std::mt19937_64 c{43};
  std::vector<milliseconds> from_a, from_b, from_c;
  for (int attempts = 1; attempts <= 10; ++attempts) {
    from_a.push_back(backoff_delay(attempts, kDefault, a));
    from_b.push_back(backoff_delay(attempts, kDefault, b));
    from_c.push_back(backoff_delay(attempts, kDefault, c));
  }
  CHECK(from_a == from_b);
  CHECK(from_a != from_c);
}

TEST_CASE("Retry-After in delta-seconds is read as a delay", "[retry_policy]") {
  CHECK(parse_retry_after("120", kNow) == milliseconds{120s});
  CHECK(parse_retry_after("0", kNow) == milliseconds{0});
  CHECK(parse_retry_after("007", kNow) == milliseconds{7s});
  CHECK(parse_retry_after(" 30\t", kNow) == milliseconds{30s});
}

TEST_CASE("Retry-After as an HTTP-date in the future is the time until then", "[retry_policy]") {
  CHECK(parse_retry_after("Fri, 15 Jan 2027 08:01:30 GMT", kNow) == milliseconds{90s});
  CHECK(parse_retry_after("Sat, 16 Jan 2027 08:00:00 GMT", kNow) == milliseconds{24h});
  // Leap day of a leap year.
  CHECK(parse_retry_after("Tue, 29 Feb 2028 00:00:00 GMT", kNow) ==
        milliseconds{std::chrono::seconds{1'835'395'200 - 1'800'000'000}});
}

TEST_CASE("Retry-After as an HTTP-date is rounded up to not retry early", "[retry_policy]") {
  CHECK(parse_retry_after("Fri, 15 Jan 2027 08:01:30 GMT", kNow + 250ms) == milliseconds{89'750});
  CHECK(parse_retry_after("Fri, 15 Jan 2027 08:01:30 GMT", kNow + 250ms + 1ns) ==
        milliseconds{89'750});
}

TEST_CASE("Retry-After as an HTTP-date now or in the past gives zero", "[retry_policy]") {
  CHECK(parse_retry_after("Fri, 15 Jan 2027 08:00:00 GMT", kNow) == milliseconds{0});
  CHECK(parse_retry_after("Fri, 15 Jan 2027 07:43:20 GMT", kNow) == milliseconds{0});
  CHECK(parse_retry_after("Sun, 06 Nov 1994 08:49:37 GMT", kNow) == milliseconds{0});
}

TEST_CASE("a malformed Retry-After is ignored", "[retry_policy]") {
  const char* value =
      GENERATE("", "   ", "-5", "+5", "1.5", "12s", "5 5", "soon", "0x10",
               // Obsolete HTTP-date forms are not accepted.
               "Sunday, 06-Nov-94 08:49:37 GMT", "Sun Nov  6 08:49:37 1994",
               // IMF-fixdate near misses.
               "Sun, 06 Nov 1994 08:49:37 UTC", "Sun, 6 Nov 1994 08:49:37 GMT",
               "sun, 06 Nov 1994 08:49:37 GMT", "Sun, 06 nov 1994 08:49:37 GMT",
               "Xyz, 06 Nov 1994 08:49:37 GMT", "Sun, 06 Nov 94 08:49:37 GMT",
               "Sun 06 Nov 1994 08:49:37 GMT", "Sun, 06 Nov 1994 08:49 GMT",
               "Sun, 06 Nov 1994 24:00:00 GMT", "Sun, 06 Nov 1994 08:60:00 GMT",
               "Sun, 06 Nov 1994 08:49:61 GMT", "Sun, 31 Nov 1994 08:49:37 GMT",
               "Sun, 00 Nov 1994 08:49:37 GMT", "Sun, 29 Feb 2027 08:00:00 GMT",
               "Sun, 06 Nov 1994 08:49:37 GMT extra", "Sun, 06 Nov 1994 8:49:37 GMT");
  INFO("Retry-After: \"" << value << "\"");
  CHECK_FALSE(parse_retry_after(value, kNow).has_value());
}

TEST_CASE("a huge Retry-After parses without overflow and is capped by next_delay",
          "[retry_policy]") {
  std::mt19937_64 rng{1};
  const auto seconds = parse_retry_after("99999999999999999999999999", kNow);
  REQUIRE(seconds.has_value());
  CHECK(*seconds >= milliseconds{24h});
  CHECK(next_delay(1, seconds, kDefault, rng) == 300s);

  const auto date = parse_retry_after("Fri, 31 Dec 9999 23:59:59 GMT", kNow);
  REQUIRE(date.has_value());
  CHECK(*date >= milliseconds{24h});
  CHECK(next_delay(1, date, kDefault, rng) == 300s);
}

TEST_CASE("next_delay uses a Retry-After instead of the backoff", "[retry_policy]") {
  std::mt19937_64 rng{7};
  // attempts_done = 9 would back off at least 128 s; the server's 3 s wins.
  CHECK(next_delay(9, milliseconds{3s}, kDefault, rng) == 3s);
  CHECK(next_delay(9, milliseconds{0}, kDefault, rng) == 0ms);
  CHECK(next_delay(1, milliseconds{300s}, kDefault, rng) == 300s);
  CHECK(next_delay(1, milliseconds{301s}, kDefault, rng) == 300s);
}

TEST_CASE("next_delay without a Retry-After is the seeded jittered backoff", "[retry_policy]") {
  std::mt19937_64 a{99};
  std::mt19937_64 b{99};
  for (int attempts = 1; attempts <= 10; ++attempts) {
    const milliseconds d = next_delay(attempts, std::nullopt, kDefault, a);
    CHECK(d == backoff_delay(attempts, kDefault, b));
    CHECK(d >= backoff_ceiling(attempts, kDefault) / 2);
    CHECK(d <= backoff_ceiling(attempts, kDefault));
  }
}
