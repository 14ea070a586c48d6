#include "evaluator/api/request_rate_limiter.hpp"

#include <algorithm>
#include <cmath>

namespace ste::api {

RequestRateLimiter::RequestRateLimiter(RateLimit limit) : limit_(limit) {}

void RequestRateLimiter::refill(Bucket& b, TimePoint now) const {
  if (now <= b.updated) return;  // a clock step backwards never adds tokens
  const double elapsed = std::chrono::duration<double>(now - b.updated).count();
  b.tokens = std::min(limit_.burst, b.tokens + elapsed * limit_.per_second);
  b.updated = now;
}

std::chrono::seconds RequestRateLimiter::wait_for_token(const Bucket& b) const {
  const double missing = 1.0 - b.tokens;
  const auto secs = static_cast<std::int64_t>(std::ceil(missing / limit_.per_second));
  return std::chrono::seconds{std::max<std::int64_t>(1, secs)};
}

void RequestRateLimiter::drop_idle(TimePoint now) {
  for (auto it = buckets_.begin(); it != buckets_.end();) {
    refill(it->second, now);
    it = it->second.tokens >= limit_.burst ? buckets_.erase(it) : std::next(it);
  }
}

RateDecision RequestRateLimiter::take(const std::string& caller, TimePoint now) {
  if (limit_.per_second <= 0) return {};
  std::lock_guard lock(mu_);
  auto it = buckets_.find(caller);
  if (it == buckets_.end()) {
    if (buckets_.size() >= limit_.max_callers) drop_idle(now);
    if (buckets_.size() >= limit_.max_callers) {
      // Every kept caller is active: refuse the newcomer instead of growing without bound.
      return {false, std::chrono::seconds{std::max<std::int64_t>(
                         1, static_cast<std::int64_t>(std::ceil(1.0 / limit_.per_second)))}};
    }
    it = buckets_.emplace(caller, Bucket{limit_.burst, now}).first;
  }
  Bucket& b = it->second;
  refill(b, now);
  if (b.tokens >= 1.0) {
    b.tokens -= 1.0;
    return {};
  }
  return {false, wait_for_token(b)};
}

bool RequestRateLimiter::exhausted(const std::string& caller, TimePoint now) {
  if (limit_.per_second <= 0) return false;
  std::lock_guard lock(mu_);
  auto it = buckets_.find(caller);
  if (it == buckets_.end()) return false;
  refill(it->second, now);
  return it->second.tokens < 1.0;
}

std::size_t RequestRateLimiter::callers() const {
  std::lock_guard lock(mu_);
  return buckets_.size();
}

}  // namespace ste::api
