#pragma once
/// RequestRateLimiter: a token bucket per caller (an API key's hash, or a client address), so one
/// caller cannot monopolise the API's threads and database pool. Each bucket holds up to `burst`
/// tokens and refills at `per_second`; a request takes one token or is refused with the time until
/// the next token (the 429's Retry-After, whole seconds, at least 1).
///
/// Memory is bounded: at most `max_callers` buckets are kept. When a new caller would exceed that,
/// buckets that have refilled completely (idle callers, indistinguishable from new ones) are
/// dropped first; if every bucket is still in use the new caller is refused rather than the map
/// growing — flooding with fresh keys cannot buy unlimited memory or requests.
///
/// Time is passed in (the caller reads its Clock), so the decisions are unit-tested without
/// sleeping. Thread-safe: one mutex guards the map; no I/O happens under it.
#include <chrono>
#include <cstdint>
#include <mutex>
#include <string>
#include <unordered_map>

#include "common/clock.hpp"

namespace ste::api {

struct RateLimit {
  double per_second = 50;  ///< refill rate; 0 or less = no limit
  double burst = 100;      ///< bucket size (requests allowed at once after an idle period)
  std::size_t max_callers = 100'000;
};

struct RateDecision {
  bool allowed = true;
  std::chrono::seconds retry_after{0};  ///< when refused: seconds until a token is available
};

class RequestRateLimiter {
 public:
  explicit RequestRateLimiter(RateLimit limit);

  /// Takes one token from `caller`'s bucket at time `now`.
  RateDecision take(const std::string& caller, TimePoint now);
  /// True when `caller` has no token left at `now` (does not take one).
  bool exhausted(const std::string& caller, TimePoint now);
  /// Buckets currently kept (for tests).
  std::size_t callers() const;

 private:
  struct Bucket {
    double tokens;
    TimePoint updated;
  };
  void refill(Bucket& b, TimePoint now) const;
  std::chrono::seconds wait_for_token(const Bucket& b) const;
  /// Drops full buckets; called when the map is at capacity.
  void drop_idle(TimePoint now);

  const RateLimit limit_;
  mutable std::mutex mu_;
  std::unordered_map<std::string, Bucket> buckets_;  // guarded by mu_
};

}  // namespace ste::api
