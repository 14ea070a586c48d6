#pragma once
/// What to do after a delivery attempt, and when to try again (docs/DESIGN.md §6). Pure; the
/// jitter comes from a caller-seeded generator so schedules are reproducible in tests.
///
/// - 2xx: delivered.
/// - network error (no HTTP status), 408, 429, 5xx: retried while attempts < max_attempts;
///   the delay is exponential from 1 s doubling, capped at 5 min, with "equal jitter"
///   (half fixed, half random: delay in [d/2, d]); a valid Retry-After (delta-seconds or an
///   HTTP-date) replaces the computed delay, capped at the same 5 min.
/// - any other status (other 4xx, 1xx, 3xx since redirects are not followed): failed at once.
#include <chrono>
#include <optional>
#include <random>
#include <string_view>

#include "common/clock.hpp"

namespace ste::eval {

enum class AttemptVerdict { delivered, retry, failed };

/// "delivered" | "retry" | "failed": the deliveries table's status and the metric label.
std::string_view verdict_name(AttemptVerdict v);

struct RetryPolicy {
  int max_attempts = 8;
  std::chrono::milliseconds base_delay{1000};
  std::chrono::milliseconds max_delay{std::chrono::minutes{5}};
};

/// `http_status` nullopt = the request did not produce a response (connect error, timeout...).
/// `attempts_done` counts this attempt too.
AttemptVerdict classify_attempt(std::optional<int> http_status, int attempts_done,
                                const RetryPolicy& policy);

/// Whether the status is one the contract retries (ignoring the attempt budget).
bool is_retryable_status(std::optional<int> http_status);

/// The un-jittered delay before attempt `attempts_done + 1`: base × 2^(attempts_done-1), capped.
std::chrono::milliseconds backoff_ceiling(int attempts_done, const RetryPolicy& policy);

/// The jittered delay in [ceiling/2, ceiling].
std::chrono::milliseconds backoff_delay(int attempts_done, const RetryPolicy& policy,
                                        std::mt19937_64& rng);

/// Parses a Retry-After header value (delta-seconds, or an IMF-fixdate like
/// "Wed, 21 Oct 2015 07:28:00 GMT") relative to `now`; nullopt when absent or malformed.
/// A date in the past gives zero.
std::optional<std::chrono::milliseconds> parse_retry_after(std::string_view value, TimePoint now);

/// The delay to wait before the next attempt: Retry-After when given (capped at max_delay),
/// otherwise backoff_delay.
std::chrono::milliseconds next_delay(int attempts_done,
                                     std::optional<std::chrono::milliseconds> retry_after,
                                     const RetryPolicy& policy, std::mt19937_64& rng);

}  // namespace ste::eval
