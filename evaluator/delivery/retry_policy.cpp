#include "evaluator/delivery/retry_policy.hpp"

#include <algorithm>
#include <array>
#include <cstdint>

#include "common/time_format.hpp"

namespace ste::eval {

std::string_view verdict_name(AttemptVerdict v) {
  switch (v) {
    case AttemptVerdict::delivered:
      return "delivered";
    case AttemptVerdict::retry:
      return "retry";
    case AttemptVerdict::failed:
      return "failed";
  }
  return "failed";
}

using std::chrono::milliseconds;

bool is_retryable_status(std::optional<int> http_status) {
  if (!http_status) return true;  // no response at all: connect error, timeout, reset
  const int s = *http_status;
  return s == 408 || s == 429 || (s >= 500 && s <= 599);
}

AttemptVerdict classify_attempt(std::optional<int> http_status, int attempts_done,
                                const RetryPolicy& policy) {
  if (http_status && *http_status >= 200 && *http_status <= 299) return AttemptVerdict::delivered;
  if (!is_retryable_status(http_status)) return AttemptVerdict::failed;
  return attempts_done < policy.max_attempts ? AttemptVerdict::retry : AttemptVerdict::failed;
}

milliseconds backoff_ceiling(int attempts_done, const RetryPolicy& policy) {
  const milliseconds cap = std::max(policy.max_delay, milliseconds{0});
  milliseconds d = std::max(policy.base_delay, milliseconds{0});
  if (d == milliseconds{0}) return d;
  // Double step by step and stop once past the cap, so a large attempt count never overflows.
  for (int i = 1; i < attempts_done && d < cap; ++i) d *= 2;
  return std::min(d, cap);
}

milliseconds backoff_delay(int attempts_done, const RetryPolicy& policy, std::mt19937_64& rng) {
  // "Equal jitter": half the ceiling is guaranteed, so a retry never comes back almost at once,
  // and the other half spreads the retries of many rows that failed together.
  const std::int64_t ceiling = backoff_ceiling(attempts_done, policy).count();
  std::uniform_int_distribution<std::int64_t> dist(ceiling / 2, ceiling);
  return milliseconds{dist(rng)};
}

namespace {

constexpr bool is_digit(char c) { return c >= '0' && c <= '9'; }

std::string_view trim_ows(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// Exactly `n` digits at s[pos..pos+n); -1 when any is not a digit.
int fixed_digits(std::string_view s, std::size_t pos, std::size_t n) {
  int v = 0;
  for (std::size_t i = pos; i < pos + n; ++i) {
    if (!is_digit(s[i])) return -1;
    v = v * 10 + (s[i] - '0');
  }
  return v;
}

// RFC 9111 §1.2.2: a delta-seconds too large to represent is taken as 2^31.
constexpr std::int64_t kMaxDeltaSeconds = std::int64_t{1} << 31;

std::optional<std::int64_t> parse_delta_seconds(std::string_view s) {
  if (s.empty()) return std::nullopt;
  std::int64_t v = 0;
  for (const char c : s) {
    if (!is_digit(c)) return std::nullopt;
    v = std::min(v * 10 + (c - '0'), kMaxDeltaSeconds);
  }
  return v;
}

bool is_leap(int y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

// IMF-fixdate (RFC 7231 §7.1.1.1), e.g. "Sun, 06 Nov 1994 08:49:37 GMT", as seconds since the
// epoch. Only the preferred format: the obsolete RFC 850 and asctime forms are rejected, and the
// caller then falls back to its own backoff, which is a safe reading of an unusable header.
// The day name must be one of the seven but is not checked against the date.
std::optional<std::int64_t> parse_imf_fixdate(std::string_view s) {
  static constexpr std::array<std::string_view, 7> kDays = {"Mon", "Tue", "Wed", "Thu",
                                                            "Fri", "Sat", "Sun"};
  static constexpr std::array<std::string_view, 12> kMonths = {
      "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  // "Sun, 06 Nov 1994 08:49:37 GMT"
  //  0123456789012345678901234567 8
  if (s.size() != 29) return std::nullopt;
  if (std::find(kDays.begin(), kDays.end(), s.substr(0, 3)) == kDays.end()) return std::nullopt;
  if (s.substr(3, 2) != ", " || s[7] != ' ' || s[11] != ' ' || s[16] != ' ' || s[19] != ':' ||
      s[22] != ':' || s.substr(25) != " GMT") {
    return std::nullopt;
  }
  const auto month_it = std::find(kMonths.begin(), kMonths.end(), s.substr(8, 3));
  if (month_it == kMonths.end()) return std::nullopt;
  const auto month = static_cast<unsigned>(month_it - kMonths.begin()) + 1;
  const int day = fixed_digits(s, 5, 2);
  const int year = fixed_digits(s, 12, 4);
  const int hour = fixed_digits(s, 17, 2);
  const int minute = fixed_digits(s, 20, 2);
  const int second = fixed_digits(s, 23, 2);
  if (day < 0 || year < 0 || hour < 0 || minute < 0 || second < 0) return std::nullopt;

  static constexpr std::array<int, 12> kDaysInMonth = {31, 28, 31, 30, 31, 30,
                                                       31, 31, 30, 31, 30, 31};
  const int month_days = kDaysInMonth[month - 1] + (month == 2 && is_leap(year) ? 1 : 0);
  // 60 is allowed for a leap second (RFC 7231's time-of-day grammar); it rolls into the next
  // minute, which is as close as a POSIX clock gets.
  if (day < 1 || day > month_days || hour > 23 || minute > 59 || second > 60) return std::nullopt;

  const std::int64_t days = ste::days_from_civil(year, month, static_cast<unsigned>(day));
  return days * 86400 + hour * 3600 + minute * 60 + second;
}

}  // namespace

std::optional<milliseconds> parse_retry_after(std::string_view value, TimePoint now) {
  value = trim_ows(value);
  if (value.empty()) return std::nullopt;
  if (is_digit(value.front())) {
    const auto secs = parse_delta_seconds(value);
    if (!secs) return std::nullopt;
    return milliseconds{*secs * 1000};
  }
  const auto at_s = parse_imf_fixdate(value);
  if (!at_s) return std::nullopt;
  // In milliseconds, not TimePoint: the header may name a year (up to 9999) that a nanosecond
  // TimePoint cannot hold. Flooring `now` rounds the wait up, so we never retry before the date.
  const std::int64_t now_ms = std::chrono::floor<milliseconds>(now.time_since_epoch()).count();
  const std::int64_t wait_ms = *at_s * 1000 - now_ms;
  return milliseconds{std::max<std::int64_t>(wait_ms, 0)};
}

milliseconds next_delay(int attempts_done, std::optional<milliseconds> retry_after,
                        const RetryPolicy& policy, std::mt19937_64& rng) {
  if (retry_after) {
    // A server asking for longer than our cap gets the cap: the row stays ours to schedule.
    return std::clamp(*retry_after, milliseconds{0}, std::max(policy.max_delay, milliseconds{0}));
  }
  return backoff_delay(attempts_done, policy, rng);
}

}  // namespace ste::eval
