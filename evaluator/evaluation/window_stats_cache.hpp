#pragma once
/// WindowStatsCache: the deviation_from_mean window statistics already asked of PostgreSQL, so
/// each (tenant, device, metric, minute m, window) is queried once per evaluator instance instead
/// of once per summary. The statistics cover complete buckets in [m - window, m), which no longer
/// change once minute m has begun — except for a reading arriving late for an earlier minute,
/// which a cached entry does not see; the next minute's window (a new key) does.
///
/// Lifecycle: entries live only for the newest minutes. The cache tracks the newest minute any
/// request has named (it never reads a clock); a request for a newer minute evicts whole minutes
/// older than newest - lookback. A request for an older minute (a late reading) is always a miss
/// and is never stored, so it cannot pin memory. A hard cap bounds the entry count: when full,
/// store() drops the oldest minutes older than the new entry's minute, and if that frees nothing
/// it does not add.
///
/// Concurrency: thread-safe; one mutex guards all state. Evaluator workers share one instance.
/// The lock is only held for map operations, never across a query.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "common/clock.hpp"
#include "evaluator/evaluation/deviation_stats.hpp"
#include "evaluator/evaluation/rule_evaluator.hpp"

namespace ste::eval {

class WindowStatsCache {
 public:
  static constexpr std::size_t kDefaultMaxEntries = 1'000'000;

  /// `lookback`: minutes older than the newest minute seen that are still kept (1: m and m - 1,
  /// for a tuple whose min lies in the previous minute).
  explicit WindowStatsCache(std::size_t max_entries = kDefaultMaxEntries,
                            std::chrono::minutes lookback = std::chrono::minutes{1});

  /// The cached statistics for `r`, or nullopt. A request for a newer minute evicts old minutes.
  std::optional<WindowStats> find(const StatsRequest& r);

  /// Remembers `stats` for `r` (replacing an earlier value for the same key). Ignored for a minute
  /// older than the retained range, or when the cap is reached and no older minute can be dropped.
  void store(const StatsRequest& r, const WindowStats& stats);

  /// Entries currently held (for tests and diagnostics).
  std::size_t size() const;

 private:
  /// The key without its minute: entries are grouped by minute so that eviction drops whole
  /// minutes, O(minutes) rather than O(entries).
  struct SeriesKey {
    std::int64_t tenant_id = 0;
    std::int64_t device_id = 0;
    std::string metric;
    int window_minutes = 0;
    bool operator==(const SeriesKey&) const = default;
  };
  struct SeriesKeyHash {
    std::size_t operator()(const SeriesKey& k) const;
  };
  using MinuteEntries = std::unordered_map<SeriesKey, WindowStats, SeriesKeyHash>;

  static SeriesKey key_of(const StatsRequest& r);
  /// Moves the newest minute forward to `minute` if it is newer, evicting what falls out of the
  /// retained range. Returns whether `minute` is inside the retained range. Requires mu_.
  bool advance_locked(TimePoint minute);
  std::size_t size_locked() const;  ///< requires mu_

  const std::size_t max_entries_;
  const std::chrono::minutes lookback_;

  mutable std::mutex mu_;
  std::map<TimePoint, MinuteEntries> by_minute_;  // guarded by mu_
  std::optional<TimePoint> newest_;               // guarded by mu_
};

/// A summary's statistics requests with duplicates removed: requests[i] is answered by
/// unique[index[i]]. `unique` keeps first-occurrence order. Pure.
struct UniqueStatsRequests {
  std::vector<StatsRequest> unique;
  std::vector<std::size_t> index;
};
UniqueStatsRequests deduplicate_stats_requests(const std::vector<StatsRequest>& requests);

}  // namespace ste::eval
