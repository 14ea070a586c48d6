#pragma once
/// Device auto-registration. A reading for a device key the tenant has never used registers the
/// device, at most `max_new_per_window` new devices per tenant in fixed windows (one minute by
/// default, aligned to the clock; NewDeviceLimiter). Beyond that resolve() answers nullopt and the
/// caller decides what waits and what is rejected (device_cap_deferral.hpp). Known devices are
/// kept in a bounded LRU cache (DeviceCache), so the database is asked only on a miss; an evicted
/// device is simply looked up again. The cap counts per ingester process.
/// Thread-safe as far as its own state goes (mutex around cache and limiter; the find and create
/// calls run outside it), so it is as thread-safe as the functions it is given. The ingester gives
/// it functions on the consumer thread's own connection and calls it from that thread only.
#include <cstddef>
#include <cstdint>
#include <functional>
#include <list>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

#include "common/clock.hpp"

namespace ste::ingest {

/// Default bound of the device cache: roughly 200 bytes per entry, some 200 MB when full.
inline constexpr std::size_t kDefaultDeviceCacheEntries = 1'000'000;

/// Fixed windows of `window` length (aligned to the clock: a minute window opens at :00) per
/// tenant. Windows of tenants not seen in the current window are forgotten once more than
/// kMaxTrackedTenants are tracked, so the map stays bounded. Pure, not thread-safe.
class NewDeviceLimiter {
 public:
  static constexpr std::size_t kMaxTrackedTenants = 4096;

  explicit NewDeviceLimiter(std::int64_t max_per_window, Millis window = std::chrono::minutes{1})
      : max_(max_per_window), window_(window.count() > 0 ? window : Millis{1}) {}
  /// Takes one slot for `tenant_id` in the window containing `now`; false when the window is full.
  bool try_acquire(std::int64_t tenant_id, TimePoint now);
  /// Gives back a slot taken in the window containing `now` (registration failed).
  void release(std::int64_t tenant_id, TimePoint now);
  /// When the window after the one containing `now` opens.
  TimePoint next_window(TimePoint now) const;
  std::int64_t max_per_window() const { return max_; }
  Millis window() const { return window_; }
  std::size_t tracked_tenants() const { return windows_.size(); }

 private:
  std::int64_t index_of(TimePoint now) const;
  struct Window {
    std::int64_t index = -1;
    std::int64_t used = 0;
  };
  std::int64_t max_;
  Millis window_;
  std::unordered_map<std::int64_t, Window> windows_;
};

/// Least-recently-used map (tenant, device key) -> device id holding at most `capacity` entries.
/// Pure, not thread-safe.
class DeviceCache {
 public:
  explicit DeviceCache(std::size_t capacity) : capacity_(capacity > 0 ? capacity : 1) {}
  /// The id, marking the entry most recently used.
  std::optional<std::int64_t> get(std::int64_t tenant_id, const std::string& key);
  /// Inserts or refreshes; evicts the least recently used entry when full.
  void put(std::int64_t tenant_id, const std::string& key, std::int64_t id);
  std::size_t size() const { return index_.size(); }
  std::size_t capacity() const { return capacity_; }

 private:
  struct Key {
    std::int64_t tenant;
    std::string device;
    bool operator==(const Key&) const = default;
  };
  struct KeyHash {
    std::size_t operator()(const Key& k) const {
      return std::hash<std::string>{}(k.device) ^ (std::hash<std::int64_t>{}(k.tenant) * 31);
    }
  };
  struct Entry {
    Key key;
    std::int64_t id;
  };
  std::size_t capacity_;
  std::list<Entry> order_;  // most recently used first
  std::unordered_map<Key, std::list<Entry>::iterator, KeyHash> index_;
};

class DeviceRegistry {
 public:
  using Find =
      std::function<std::optional<std::int64_t>(std::int64_t tenant_id, const std::string& key)>;
  using Create = std::function<std::int64_t(std::int64_t tenant_id, const std::string& key)>;

  DeviceRegistry(const Clock& clock, Find find, Create create, std::int64_t max_new_per_window,
                 Millis window = std::chrono::minutes{1},
                 std::size_t cache_entries = kDefaultDeviceCacheEntries);

  /// The device id, or nullopt when the device is new and the tenant's cap is reached.
  /// Database exceptions propagate (nothing is cached or counted then).
  std::optional<std::int64_t> resolve(std::int64_t tenant_id, const std::string& key);

  /// When the next cap window opens (a device refused at `now` may be registered from then on).
  TimePoint next_window(TimePoint now) const;
  std::int64_t cap() const { return cap_; }
  Millis window() const { return window_; }
  std::size_t cached() const;

 private:
  const Clock& clock_;
  Find find_;
  Create create_;
  const std::int64_t cap_;
  const Millis window_;
  mutable std::mutex mu_;
  NewDeviceLimiter limiter_;  // guarded by mu_
  DeviceCache cache_;         // guarded by mu_
};

}  // namespace ste::ingest
