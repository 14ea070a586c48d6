#pragma once
/// ReadingThrottle: the stream's "latest reading per device", at most one update per device per
/// interval. A device reporting ten times a second shows on the operator page once a second with
/// its newest value of every metric; a change held back is never lost, only merged: tick() lets it
/// out once the device's interval has passed.
///
/// Pure (time is passed in) and bounded: at most `max_devices` devices are tracked (readings of
/// further devices are dropped and counted until tick() forgets idle ones).
/// Not thread-safe: the StreamHub calls it under its lock.
#include <chrono>
#include <cstddef>
#include <map>
#include <string>
#include <unordered_map>
#include <vector>

#include "common/clock.hpp"

namespace ste::stream {

struct MetricValue {
  double value = 0;
  TimePoint ts{};
};

/// One device's update as the stream sends it.
struct DeviceUpdate {
  std::string tenant;
  std::string device;
  std::map<std::string, MetricValue> metrics;  ///< the newest value of each metric that changed
};

class ReadingThrottle {
 public:
  ReadingThrottle(std::chrono::milliseconds interval, std::size_t max_devices)
      : interval_(interval), max_devices_(max_devices) {}

  /// Adds a reading (the last of a summary tuple); take_due() lets it out. A reading older than
  /// the one held for the metric changes nothing. Returns false when dropped because
  /// `max_devices` devices are tracked already (counted in dropped()).
  bool offer(const std::string& tenant, const std::string& device, const std::string& metric,
             MetricValue v);

  /// The updates due at monotonic time `now` (each device's pending metrics, at most one update
  /// per device per interval), and forgets devices idle for more than ten intervals. Walks every
  /// tracked device: call it a few times per interval, not per reading.
  std::vector<DeviceUpdate> take_due(MonoPoint now);

  std::size_t tracked() const { return devices_.size(); }
  std::uint64_t dropped() const { return dropped_; }

 private:
  struct Device {
    std::map<std::string, MetricValue> pending;
    MonoPoint last_sent{};
    bool sent = false;
  };
  static std::string key(const std::string& tenant, const std::string& device);

  std::chrono::milliseconds interval_;
  std::size_t max_devices_;
  std::unordered_map<std::string, Device> devices_;  ///< by tenant '\0' device
  std::uint64_t dropped_ = 0;
};

}  // namespace ste::stream
