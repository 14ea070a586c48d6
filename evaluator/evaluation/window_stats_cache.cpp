#include "evaluator/evaluation/window_stats_cache.hpp"

#include <algorithm>
#include <functional>
#include <string_view>

namespace ste::eval {

namespace {

std::size_t combine(std::size_t seed, std::size_t h) {
  return seed ^ (h + 0x9e3779b97f4a7c15ULL + (seed << 6) + (seed >> 2));
}

std::size_t hash_series(std::int64_t tenant, std::int64_t device, std::string_view metric,
                        int window) {
  std::size_t h = std::hash<std::int64_t>{}(tenant);
  h = combine(h, std::hash<std::int64_t>{}(device));
  h = combine(h, std::hash<std::string_view>{}(metric));
  return combine(h, std::hash<int>{}(window));
}

/// A full request key borrowing the request's metric; lives only inside one deduplication call.
struct RequestRef {
  std::int64_t tenant_id;
  std::int64_t device_id;
  std::string_view metric;
  TimePoint::rep minute;
  int window_minutes;
  bool operator==(const RequestRef&) const = default;
};
struct RequestRefHash {
  std::size_t operator()(const RequestRef& r) const {
    return combine(hash_series(r.tenant_id, r.device_id, r.metric, r.window_minutes),
                   std::hash<TimePoint::rep>{}(r.minute));
  }
};

}  // namespace

std::size_t WindowStatsCache::SeriesKeyHash::operator()(const SeriesKey& k) const {
  return hash_series(k.tenant_id, k.device_id, k.metric, k.window_minutes);
}

WindowStatsCache::WindowStatsCache(std::size_t max_entries, std::chrono::minutes lookback)
    : max_entries_(max_entries), lookback_(std::max(lookback, std::chrono::minutes{0})) {}

WindowStatsCache::SeriesKey WindowStatsCache::key_of(const StatsRequest& r) {
  return SeriesKey{r.tenant_id, r.device_id, r.metric, r.window_minutes};
}

std::size_t WindowStatsCache::size_locked() const {
  std::size_t n = 0;  // a handful of minutes: summing is cheaper than keeping a count in step
  for (const auto& [minute, entries] : by_minute_) n += entries.size();
  return n;
}

bool WindowStatsCache::advance_locked(TimePoint minute) {
  if (!newest_ || minute > *newest_) {
    newest_ = minute;
    const TimePoint horizon = minute - lookback_;
    while (!by_minute_.empty() && by_minute_.begin()->first < horizon) {
      by_minute_.erase(by_minute_.begin());
    }
  }
  return minute >= *newest_ - lookback_;
}

std::optional<WindowStats> WindowStatsCache::find(const StatsRequest& r) {
  const SeriesKey key = key_of(r);  // built before locking: it may allocate
  std::lock_guard lock(mu_);
  if (!advance_locked(r.minute)) return std::nullopt;
  const auto minute = by_minute_.find(r.minute);
  if (minute == by_minute_.end()) return std::nullopt;
  const auto entry = minute->second.find(key);
  if (entry == minute->second.end()) return std::nullopt;
  return entry->second;
}

void WindowStatsCache::store(const StatsRequest& r, const WindowStats& stats) {
  SeriesKey key = key_of(r);
  std::lock_guard lock(mu_);
  if (!advance_locked(r.minute)) return;  // a late minute: answered, but not kept
  auto minute = by_minute_.find(r.minute);
  if (minute != by_minute_.end()) {
    const auto entry = minute->second.find(key);
    if (entry != minute->second.end()) {
      entry->second = stats;  // no growth; a concurrent miss may have stored it first
      return;
    }
  }
  // Full: older minutes make room for newer ones, never the reverse, so a burst of one minute
  // cannot evict itself entry by entry.
  std::size_t held = size_locked();
  while (held >= max_entries_ && !by_minute_.empty() && by_minute_.begin()->first < r.minute) {
    held -= by_minute_.begin()->second.size();
    by_minute_.erase(by_minute_.begin());
  }
  if (held >= max_entries_) return;
  if (minute == by_minute_.end()) minute = by_minute_.try_emplace(r.minute).first;
  minute->second.emplace(std::move(key), stats);
}

std::size_t WindowStatsCache::size() const {
  std::lock_guard lock(mu_);
  return size_locked();
}

UniqueStatsRequests deduplicate_stats_requests(const std::vector<StatsRequest>& requests) {
  UniqueStatsRequests out;
  out.index.reserve(requests.size());
  std::unordered_map<RequestRef, std::size_t, RequestRefHash> seen;
  seen.reserve(requests.size());
  for (const auto& r : requests) {
    const RequestRef ref{r.tenant_id, r.device_id, r.metric, r.minute.time_since_epoch().count(),
                         r.window_minutes};
    const auto [it, inserted] = seen.try_emplace(ref, out.unique.size());
    if (inserted) out.unique.push_back(r);
    out.index.push_back(it->second);
  }
  return out;
}

}  // namespace ste::eval
