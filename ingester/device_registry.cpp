#include "ingester/device_registry.hpp"

namespace ste::ingest {

std::int64_t NewDeviceLimiter::index_of(TimePoint now) const {
  const std::int64_t ms = std::chrono::floor<Millis>(now.time_since_epoch()).count();
  const std::int64_t w = window_.count();
  return ms >= 0 ? ms / w : -((-ms + w - 1) / w);  // floor division
}

TimePoint NewDeviceLimiter::next_window(TimePoint now) const {
  return TimePoint{std::chrono::duration_cast<TimePoint::duration>(window_ * (index_of(now) + 1))};
}

void NewDeviceLimiter::release(std::int64_t tenant_id, TimePoint now) {
  auto it = windows_.find(tenant_id);
  if (it != windows_.end() && it->second.index == index_of(now) && it->second.used > 0) {
    --it->second.used;
  }
}

bool NewDeviceLimiter::try_acquire(std::int64_t tenant_id, TimePoint now) {
  const std::int64_t index = index_of(now);
  if (windows_.size() >= kMaxTrackedTenants && !windows_.contains(tenant_id)) {
    // Only the current window matters: forget tenants whose window has passed.
    std::erase_if(windows_, [index](const auto& kv) { return kv.second.index != index; });
  }
  Window& w = windows_[tenant_id];
  if (w.index != index) w = Window{index, 0};
  if (w.used >= max_) return false;
  ++w.used;
  return true;
}

std::optional<std::int64_t> DeviceCache::get(std::int64_t tenant_id, const std::string& key) {
  auto it = index_.find(Key{tenant_id, key});
  if (it == index_.end()) return std::nullopt;
  order_.splice(order_.begin(), order_, it->second);
  return it->second->id;
}

void DeviceCache::put(std::int64_t tenant_id, const std::string& key, std::int64_t id) {
  Key k{tenant_id, key};
  if (auto it = index_.find(k); it != index_.end()) {
    it->second->id = id;
    order_.splice(order_.begin(), order_, it->second);
    return;
  }
  if (index_.size() >= capacity_) {
    index_.erase(order_.back().key);
    order_.pop_back();
  }
  order_.push_front(Entry{k, id});
  index_.emplace(std::move(k), order_.begin());
}

DeviceRegistry::DeviceRegistry(const Clock& clock, Find find, Create create,
                               std::int64_t max_new_per_window, Millis window,
                               std::size_t cache_entries)
    : clock_(clock),
      find_(std::move(find)),
      create_(std::move(create)),
      cap_(max_new_per_window),
      window_(window),
      limiter_(max_new_per_window, window),
      cache_(cache_entries) {}

TimePoint DeviceRegistry::next_window(TimePoint now) const {
  std::lock_guard lock(mu_);
  return limiter_.next_window(now);
}

std::size_t DeviceRegistry::cached() const {
  std::lock_guard lock(mu_);
  return cache_.size();
}

std::optional<std::int64_t> DeviceRegistry::resolve(std::int64_t tenant_id,
                                                    const std::string& key) {
  {
    std::lock_guard lock(mu_);
    if (auto id = cache_.get(tenant_id, key)) return id;
  }
  // A device that already exists (registered earlier, in bulk, or by another ingester) never
  // counts against the cap.
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
  cache_.put(tenant_id, key, *id);
  return id;
}

}  // namespace ste::ingest
