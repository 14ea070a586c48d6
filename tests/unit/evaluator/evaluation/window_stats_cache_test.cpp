#include "evaluator/evaluation/window_stats_cache.hpp"

#include <catch2/catch.hpp>
#include <chrono>
#include <cstddef>
#include <string>
#include <thread>
#include <vector>

using ste::TimePoint;
using ste::eval::deduplicate_stats_requests;
using ste::eval::StatsRequest;
using ste::eval::WindowStats;
using ste::eval::WindowStatsCache;
using namespace std::chrono_literals;

namespace {

const TimePoint kMinute{std::chrono::seconds{1'800'000'000 / 60 * 60}};

StatsRequest request(TimePoint minute, std::int64_t device = 7, std::string metric = "temp",
                     int window = 60, std::int64_t tenant = 1) {
  return StatsRequest{tenant, device, std::move(metric), minute, window};
}

WindowStats stats(double mean) { return WindowStats{12, mean, 0.5}; }

bool same(const WindowStats& a, const WindowStats& b) {
  return a.buckets == b.buckets && a.mean == b.mean && a.stddev == b.stddev;
}

}  // namespace

TEST_CASE("a stored request is found and an unknown one is a miss", "[window_stats_cache]") {
  WindowStatsCache cache;
  const auto r = request(kMinute);
  CHECK_FALSE(cache.find(r).has_value());
  cache.store(r, stats(20.5));
  const auto hit = cache.find(r);
  REQUIRE(hit.has_value());
  CHECK(same(*hit, stats(20.5)));
  CHECK(cache.size() == 1);
}

TEST_CASE("storing the same key again replaces the value without growing", "[window_stats_cache]") {
  WindowStatsCache cache;
  const auto r = request(kMinute);
  cache.store(r, stats(1));
  cache.store(r, stats(2));
  CHECK(cache.size() == 1);
  CHECK(same(*cache.find(r), stats(2)));
}

TEST_CASE("every key field separates entries", "[window_stats_cache]") {
  WindowStatsCache cache;
  const auto base = request(kMinute, 7, "temp", 60, 1);
  cache.store(base, stats(1));
  CHECK_FALSE(cache.find(request(kMinute, 7, "temp", 60, 2)).has_value());         // tenant
  CHECK_FALSE(cache.find(request(kMinute, 8, "temp", 60, 1)).has_value());         // device
  CHECK_FALSE(cache.find(request(kMinute, 7, "humidity", 60, 1)).has_value());     // metric
  CHECK_FALSE(cache.find(request(kMinute, 7, "temp", 30, 1)).has_value());         // window
  CHECK_FALSE(cache.find(request(kMinute - 1min, 7, "temp", 60, 1)).has_value());  // minute
  REQUIRE(cache.find(base).has_value());
  CHECK(same(*cache.find(base), stats(1)));
}

TEST_CASE("a newer minute keeps the previous minute and evicts older ones",
          "[window_stats_cache]") {
  WindowStatsCache cache;
  const auto m0 = request(kMinute);
  const auto m1 = request(kMinute + 1min);
  cache.store(m0, stats(0));
  cache.store(m1, stats(1));
  CHECK(cache.size() == 2);
  CHECK(cache.find(m0).has_value());  // m - 1 is still kept while m is newest

  SECTION("a find for a newer minute evicts too") {
    CHECK_FALSE(cache.find(request(kMinute + 2min, 99)).has_value());
    CHECK(cache.size() == 1);
    CHECK_FALSE(cache.find(m0).has_value());
    CHECK(cache.find(m1).has_value());
  }
  SECTION("a jump of several minutes evicts everything older than the new m - 1") {
    cache.store(request(kMinute + 10min), stats(10));
    CHECK(cache.size() == 1);
    CHECK_FALSE(cache.find(m1).has_value());
  }
}

TEST_CASE("a late request for an old minute is answered as a miss and not kept",
          "[window_stats_cache]") {
  WindowStatsCache cache;
  cache.store(request(kMinute + 5min), stats(5));
  const auto late = request(kMinute);
  CHECK_FALSE(cache.find(late).has_value());
  cache.store(late, stats(0));
  CHECK_FALSE(cache.find(late).has_value());
  CHECK(cache.size() == 1);
  // The late request did not move the newest minute back: current entries still hit.
  CHECK(cache.find(request(kMinute + 5min)).has_value());
}

TEST_CASE("the lookback sets how many older minutes are kept", "[window_stats_cache]") {
  WindowStatsCache cache(WindowStatsCache::kDefaultMaxEntries, 3min);
  cache.store(request(kMinute), stats(0));
  cache.store(request(kMinute + 3min), stats(3));
  CHECK(cache.find(request(kMinute)).has_value());  // exactly newest - lookback: kept
  cache.store(request(kMinute + 4min), stats(4));
  CHECK_FALSE(cache.find(request(kMinute)).has_value());
  CHECK(cache.size() == 2);
}

TEST_CASE("the cap bounds the entries", "[window_stats_cache]") {
  WindowStatsCache cache(3);
  for (std::int64_t d = 0; d < 3; ++d) cache.store(request(kMinute, d), stats(1));
  REQUIRE(cache.size() == 3);

  SECTION("a full cache does not add more of the same minute") {
    cache.store(request(kMinute, 100), stats(1));
    CHECK(cache.size() == 3);
    CHECK_FALSE(cache.find(request(kMinute, 100)).has_value());
    CHECK(cache.find(request(kMinute, 0)).has_value());
  }
  SECTION("a full cache still replaces an existing key") {
    cache.store(request(kMinute, 1), stats(9));
    CHECK(same(*cache.find(request(kMinute, 1)), stats(9)));
    CHECK(cache.size() == 3);
  }
  SECTION("a newer minute drops the oldest minute to make room") {
    const auto next = request(kMinute + 1min, 100);
    cache.store(next, stats(2));
    CHECK(cache.size() == 1);
    CHECK(cache.find(next).has_value());
    CHECK_FALSE(cache.find(request(kMinute, 0)).has_value());
  }
  SECTION("a zero cap never stores") {
    WindowStatsCache none(0);
    none.store(request(kMinute), stats(1));
    CHECK(none.size() == 0);
    CHECK_FALSE(none.find(request(kMinute)).has_value());
  }
}

TEST_CASE("concurrent finds and stores from several threads stay consistent",
          "[window_stats_cache]") {
  constexpr int kThreads = 4;
  constexpr int kMinutes = 20;
  constexpr int kDevices = 50;
  WindowStatsCache cache(500);
  std::vector<std::thread> threads;
  std::vector<int> wrong(kThreads, 0);
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&cache, &wrong, t] {
      for (int m = 0; m < kMinutes; ++m) {
        for (int d = 0; d < kDevices; ++d) {
          // The value is a function of the key, so any hit can be checked.
          const auto r = request(kMinute + std::chrono::minutes{m}, d);
          const WindowStats expected = stats(m * 1000.0 + d);
          if (const auto hit = cache.find(r)) {
            if (!same(*hit, expected)) ++wrong[t];
          } else {
            cache.store(r, expected);
          }
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  for (int t = 0; t < kThreads; ++t) CHECK(wrong[t] == 0);
  CHECK(cache.size() <= 500);
  // Only the last two minutes survive: at most two minutes' worth of devices.
  CHECK(cache.size() <= 2 * kDevices);
  CHECK(cache.find(request(kMinute + std::chrono::minutes{kMinutes - 1}, 0)).has_value());
}

TEST_CASE("deduplication sends each distinct request once and maps every request back",
          "[window_stats_cache][dedup]") {
  const std::vector<StatsRequest> requests{
      request(kMinute),                   // 0
      request(kMinute + 1min),            // 1: the max of the same tuple, next minute
      request(kMinute),                   // 2: same as 0 (a second rule with the same window)
      request(kMinute, 7, "temp", 30),    // 3: another window
      request(kMinute + 1min),            // 4: same as 1
      request(kMinute, 8),                // 5: another device
      request(kMinute, 7, "temp", 60, 2)  // 6: another tenant
  };
  const auto plan = deduplicate_stats_requests(requests);
  REQUIRE(plan.unique.size() == 5);
  REQUIRE(plan.index.size() == requests.size());
  CHECK(plan.index == std::vector<std::size_t>{0, 1, 0, 2, 1, 3, 4});
  for (std::size_t i = 0; i < requests.size(); ++i) {
    const auto& u = plan.unique[plan.index[i]];
    const auto& r = requests[i];
    CHECK(u.tenant_id == r.tenant_id);
    CHECK(u.device_id == r.device_id);
    CHECK(u.metric == r.metric);
    CHECK(u.minute == r.minute);
    CHECK(u.window_minutes == r.window_minutes);
  }
}

TEST_CASE("deduplication of nothing is nothing", "[window_stats_cache][dedup]") {
  const auto plan = deduplicate_stats_requests({});
  CHECK(plan.unique.empty());
  CHECK(plan.index.empty());
}
