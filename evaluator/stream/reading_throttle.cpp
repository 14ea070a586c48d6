#include "evaluator/stream/reading_throttle.hpp"

namespace ste::stream {

std::string ReadingThrottle::key(const std::string& tenant, const std::string& device) {
  std::string k;
  k.reserve(tenant.size() + device.size() + 1);
  k.append(tenant).push_back('\0');
  k.append(device);
  return k;
}

bool ReadingThrottle::offer(const std::string& tenant, const std::string& device,
                            const std::string& metric, MetricValue v) {
  const std::string k = key(tenant, device);
  auto it = devices_.find(k);
  if (it == devices_.end()) {
    if (devices_.size() >= max_devices_) {
      ++dropped_;
      return false;
    }
    it = devices_.emplace(k, Device{}).first;
  }
  Device& d = it->second;
  auto [m, inserted] = d.pending.try_emplace(metric, v);
  if (!inserted && v.ts >= m->second.ts) m->second = v;
  return true;
}

std::vector<DeviceUpdate> ReadingThrottle::take_due(MonoPoint now) {
  std::vector<DeviceUpdate> due;
  for (auto it = devices_.begin(); it != devices_.end();) {
    Device& d = it->second;
    const bool interval_passed = !d.sent || now - d.last_sent >= interval_;
    if (!d.pending.empty() && interval_passed) {
      const auto sep = it->first.find('\0');
      due.push_back(
          DeviceUpdate{it->first.substr(0, sep), it->first.substr(sep + 1), std::move(d.pending)});
      d.pending.clear();
      d.last_sent = now;
      d.sent = true;
    } else if (d.pending.empty() && now - d.last_sent > 10 * interval_) {
      it = devices_.erase(it);
      continue;
    }
    ++it;
  }
  return due;
}

}  // namespace ste::stream
