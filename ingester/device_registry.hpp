#pragma once
/// Device auto-registration. A reading for a device key the tenant has never used registers the
/// device, at most `max_new_per_minute` new devices per tenant in fixed one-minute windows
/// (NewDeviceLimiter); beyond that, the readings are rejected with `device_limit`. Known devices
/// are cached, so the database is asked only on a cache miss. The cap counts per ingester process.
/// Thread-safe (mutex around cache and limiter; database calls run outside it).
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

#include "common/clock.hpp"

namespace ste::ingest {

/// Fixed one-minute windows (aligned to the clock's minutes) per tenant. Pure, not thread-safe.
class NewDeviceLimiter {
 public:
  explicit NewDeviceLimiter(std::int64_t max_per_minute) : max_(max_per_minute) {}
  /// Takes one slot for `tenant_id` in the window containing `now`; false when the window is full.
  bool try_acquire(std::int64_t tenant_id, TimePoint now);
  /// Gives back a slot taken in the window containing `now` (registration failed).
  void release(std::int64_t tenant_id, TimePoint now);

 private:
  struct Window {
    std::int64_t minute = -1;
    std::int64_t used = 0;
  };
  std::int64_t max_;
  std::unordered_map<std::int64_t, Window> windows_;
};

class DeviceRegistry {
 public:
  using Find =
      std::function<std::optional<std::int64_t>(std::int64_t tenant_id, const std::string& key)>;
  using Create = std::function<std::int64_t(std::int64_t tenant_id, const std::string& key)>;

  DeviceRegistry(const Clock& clock, Find find, Create create, std::int64_t max_new_per_minute);

  /// The device id, or nullopt when the device is new and the tenant's cap is reached.
  /// Database exceptions propagate (nothing is cached or counted then).
  std::optional<std::int64_t> resolve(std::int64_t tenant_id, const std::string& key);

 private:
  const Clock& clock_;
  Find find_;
  Create create_;
  std::mutex mu_;
  NewDeviceLimiter limiter_;                                            // guarded by mu_
  std::map<std::pair<std::int64_t, std::string>, std::int64_t> cache_;  // guarded by mu_
};

}  // namespace ste::ingest
