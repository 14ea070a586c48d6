#include "ingester/device_registry.hpp"

namespace ste::ingest {

bool NewDeviceLimiter::try_acquire(std::int64_t tenant_id, TimePoint now) {
  const std::int64_t minute =
      std::chrono::duration_cast<std::chrono::minutes>(now.time_since_epoch()).count();
  Window& w = windows_[tenant_id];
  if (w.minute != minute) w = Window{minute, 0};
  if (w.used >= max_) return false;
  ++w.used;
  return true;
}

DeviceRegistry::DeviceRegistry(const Clock& clock, Find find, Create create,
                               std::int64_t max_new_per_minute)
    : clock_(clock), find_(std::move(find)), create_(std::move(create)), limiter_(max_new_per_minute) {}

std::optional<std::int64_t> DeviceRegistry::resolve(std::int64_t tenant_id, const std::string& key) {
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
    {
      std::lock_guard lock(mu_);
      if (!limiter_.try_acquire(tenant_id, clock_.now())) return std::nullopt;
    }
    id = create_(tenant_id, key);
  }
  std::lock_guard lock(mu_);
  cache_.emplace(std::move(cache_key), *id);
  return id;
}

}  // namespace ste::ingest
