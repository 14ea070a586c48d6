#include "ingester/batch_keys.hpp"

#include <functional>
#include <string_view>
#include <unordered_map>
#include <unordered_set>

namespace ste::ingest {

namespace {

struct KeyView {
  std::int64_t tenant_id;
  std::int64_t device_id;
  std::string_view metric;
  std::int64_t ts_us;
  bool operator==(const KeyView&) const = default;
};

KeyView key_of(const BufferedReading& br) {
  return {br.tenant_id, br.device_id, br.reading.metric, to_epoch_us(br.reading.ts)};
}

struct KeyHash {
  std::size_t operator()(const KeyView& k) const noexcept {
    // boost-style combine of the four parts; the metric's hash dominates the cost.
    std::size_t h = std::hash<std::string_view>{}(k.metric);
    for (std::uint64_t part :
         {static_cast<std::uint64_t>(k.tenant_id), static_cast<std::uint64_t>(k.device_id),
          static_cast<std::uint64_t>(k.ts_us)}) {
      h ^= std::hash<std::uint64_t>{}(part) + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2);
    }
    return h;
  }
};

}  // namespace

std::size_t drop_repeated_keys(std::vector<BufferedReading>& readings) {
  if (readings.size() < 2) return 0;
  std::unordered_set<KeyView, KeyHash> seen;
  seen.reserve(readings.size());
  std::size_t kept = 0;
  for (std::size_t i = 0; i < readings.size(); ++i) {
    // The views point into readings[i]; a kept reading moves only to a lower index after its
    // key was inserted, so insert a view of where it will live: compact first, then insert.
    if (seen.contains(key_of(readings[i]))) continue;
    if (kept != i) readings[kept] = std::move(readings[i]);
    seen.insert(key_of(readings[kept]));
    ++kept;
  }
  const std::size_t dropped = readings.size() - kept;
  readings.resize(kept);
  return dropped;
}

std::size_t apply_stored_values(std::span<BufferedReading> readings,
                                std::span<const StoredValue> stored) {
  if (stored.empty()) return 0;
  std::unordered_map<KeyView, double, KeyHash> by_key;
  by_key.reserve(stored.size());
  for (const auto& s : stored) {
    by_key.emplace(KeyView{s.tenant_id, s.device_id, s.metric, s.ts_us}, s.value);
  }
  std::size_t changed = 0;
  for (auto& br : readings) {
    auto it = by_key.find(key_of(br));
    if (it == by_key.end() || it->second == br.reading.value) continue;
    br.reading.value = it->second;
    ++changed;
  }
  return changed;
}

}  // namespace ste::ingest
