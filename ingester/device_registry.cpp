#include "ingester/device_registry.hpp"

namespace ste::ingest {

namespace {
std::int64_t minute_of(TimePoint now) {
  return std::chrono::floor<std::chrono::minutes>(now.time_since_epoch()).count();
}
}  // namespace

void NewDeviceLimiter::release(std::int64_t tenant_id, TimePoint now) {
  auto it = windows_.find(tenant_id);
  if (it != windows_.end() && it->second.minute == minute_of(now) && it->second.used > 0) {
    --it->second.used;
  }
}

bool NewDeviceLimiter::try_acquire(std::int64_t tenant_id, TimePoint now) {
  const std::int64_t minute = minute_of(now);
  Window& w = windows_[tenant_id];
  if (w.minute != minute) w = Window{minute, 0};
  if (w.used >= max_) return false;
  ++w.used;
  return true;
}

DeviceRegistry::DeviceRegistry(const Clock& clock, Find find, Create create,
                               std::int64_t max_new_per_minute)
    : clock_(clock),
      find_(std::move(find)),
      create_(std::move(create)),
      limiter_(max_new_per_minute) {}

std::optional<std::int64_t> DeviceRegistry::resolve(std::int64_t tenant_id,
                                                    const std::string& key) {
  auto cache_key = std::make_pair(tenant_id, key);
  {
    std::lock_guard lock(mu_);
    auto it = cache_.find(cache_key);
    if (it != cache_.end()) return it->second;
  }
  // A device that already exists (registered earlier or by another ingester) never counts
  // against the cap.
  std::optional<std::int64_t> id = find_(tenant_id, key);
  if (!id) {
    const TimePoint now = clock_.now();
    {
      std::lock_guard lock(mu_);
      if (!limiter_.try_acquire(tenant_id, now)) return std::nullopt;
    }
    try {
      id = create_(tenant_id, key);
    } catch (...) {
      std::lock_guard lock(mu_);
      limiter_.release(tenant_id, now);  // a failed registration does not use up the cap
      throw;
    }
  }
  std::lock_guard lock(mu_);
  cache_.emplace(std::move(cache_key), *id);
  return id;
}

}  // namespace ste::ingest
