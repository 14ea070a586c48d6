#include "bench/latency_probe/latency_stats.hpp"

#include <algorithm>
#include <catch2/catch.hpp>
#include <chrono>
#include <numeric>
#include <utility>
#include <vector>

using namespace ste::bench;
using namespace std::chrono_literals;

namespace {

const ste::TimePoint kT0 = ste::from_epoch_ms(1'800'000'000'000);

std::vector<double> one_to(int n) {
  std::vector<double> v(static_cast<size_t>(n));
  std::iota(v.begin(), v.end(), 1.0);
  return v;
}

}  // namespace

TEST_CASE("an empty sample set summarises to zero count and zero statistics", "[latency_stats]") {
  const LatencySummary s = summarize({});
  CHECK(s.count == 0);
  CHECK(s.p50_ms == 0);
  CHECK(s.p99_ms == 0);
  CHECK(s.max_ms == 0);
}

TEST_CASE("a single sample is every percentile and the maximum", "[latency_stats]") {
  const LatencySummary s = summarize({7.5});
  CHECK(s.count == 1);
  CHECK(s.p50_ms == 7.5);
  CHECK(s.p99_ms == 7.5);
  CHECK(s.max_ms == 7.5);
}

TEST_CASE("percentiles are nearest-rank: always an observed sample, the lower middle for p50",
          "[latency_stats]") {
  CHECK(summarize({2.0, 1.0}).p50_ms == 1.0);            // ceil(0.5 × 2) = rank 1
  CHECK(summarize({3.0, 1.0, 2.0}).p50_ms == 2.0);       // ceil(1.5) = rank 2
  CHECK(summarize({4.0, 3.0, 2.0, 1.0}).p50_ms == 2.0);  // whole rank 2, not pushed to 3
  CHECK(summarize({4.0, 3.0, 2.0, 1.0}).p99_ms == 4.0);  // ceil(3.96) = rank 4
}

TEST_CASE("with fewer than 100 samples the p99 is the maximum", "[latency_stats]") {
  const LatencySummary s = summarize(one_to(99));
  CHECK(s.count == 99);
  CHECK(s.p50_ms == 50.0);
  CHECK(s.p99_ms == 99.0);
  CHECK(s.max_ms == 99.0);
}

TEST_CASE("with 100 and 1000 samples the ranks fall exactly where the definition says",
          "[latency_stats]") {
  const LatencySummary hundred = summarize(one_to(100));
  CHECK(hundred.p50_ms == 50.0);
  CHECK(hundred.p99_ms == 99.0);
  CHECK(hundred.max_ms == 100.0);
  const LatencySummary thousand = summarize(one_to(1000));
  CHECK(thousand.p50_ms == 500.0);
  CHECK(thousand.p99_ms == 990.0);
  CHECK(thousand.max_ms == 1000.0);
  const LatencySummary odd = summarize(one_to(101));
  CHECK(odd.p50_ms == 51.0);   // ceil(50.5)
  CHECK(odd.p99_ms == 100.0);  // ceil(99.99)
}

TEST_CASE("the input order does not matter", "[latency_stats]") {
  std::vector<double> v = one_to(200);
  std::reverse(v.begin(), v.end());
  std::swap(v[3], v[150]);
  const LatencySummary s = summarize(v);
  CHECK(s.p50_ms == 100.0);
  CHECK(s.p99_ms == 198.0);
  CHECK(s.max_ms == 200.0);
}

TEST_CASE("tied samples count once each, so a run of ties can be every percentile",
          "[latency_stats]") {
  const LatencySummary s = summarize({5.0, 5.0, 5.0, 5.0, 1.0});
  CHECK(s.count == 5);
  CHECK(s.p50_ms == 5.0);  // rank 3 of {1,5,5,5,5}
  CHECK(s.p99_ms == 5.0);
  CHECK(s.max_ms == 5.0);
  const LatencySummary all_same = summarize(std::vector<double>(10, 3.25));
  CHECK(all_same.count == 10);
  CHECK(all_same.p50_ms == 3.25);
  CHECK(all_same.p99_ms == 3.25);
  CHECK(all_same.max_ms == 3.25);
}

TEST_CASE("nearest_rank clamps the rank into 1..N for the extreme percentiles", "[latency_stats]") {
  const std::vector<double> sorted{1.0, 2.0, 3.0};
  CHECK(nearest_rank(sorted, 0) == 1.0);
  CHECK(nearest_rank(sorted, 100) == 3.0);
  CHECK(nearest_rank(sorted, 150) == 3.0);
}

TEST_CASE("negative samples (clock skew) are summarised like any other", "[latency_stats]") {
  const LatencySummary s = summarize({-2.0, 1.0, 3.0});
  CHECK(s.p50_ms == 1.0);
  CHECK(s.max_ms == 3.0);
}

TEST_CASE("a matcher with nothing recorded reports nothing", "[latency_stats]") {
  const LatencyMatcher m;
  CHECK(m.published() == 0);
  CHECK(m.commit_latencies_ms().empty());
  CHECK(m.alert_latencies_ms().empty());
  CHECK(m.missing_commits() == 0);
  CHECK(m.missing_alerts() == 0);
  CHECK(m.unmatched_commits() == 0);
  CHECK(m.unmatched_alerts() == 0);
}

TEST_CASE("publish, commit and alert of one reading give one sample of each latency",
          "[latency_stats]") {
  LatencyMatcher m;
  const ReadingKey k{"probe-0001", 1000};
  m.on_publish(k, kT0);
  CHECK(m.on_commit(k, kT0 + 120ms));
  CHECK(m.on_alert(k, kT0 + 150ms));
  CHECK(m.published() == 1);
  CHECK(m.commit_latencies_ms() == std::vector<double>{120.0});
  CHECK(m.alert_latencies_ms() == std::vector<double>{30.0});
  CHECK(m.missing_commits() == 0);
  CHECK(m.missing_alerts() == 0);
}

TEST_CASE("latencies keep sub-millisecond precision", "[latency_stats]") {
  LatencyMatcher m;
  const ReadingKey k{"d", 1};
  m.on_publish(k, kT0);
  m.on_commit(k, kT0 + 1500us);
  m.on_alert(k, kT0 + 1750us);
  CHECK(m.commit_latencies_ms() == std::vector<double>{1.5});
  CHECK(m.alert_latencies_ms() == std::vector<double>{0.25});
}

TEST_CASE("a duplicate commit (redelivered summary) is ignored: the first one counts",
          "[latency_stats]") {
  LatencyMatcher m;
  const ReadingKey k{"probe-0000", 5};
  m.on_publish(k, kT0);
  CHECK(m.on_commit(k, kT0 + 10ms));
  CHECK_FALSE(m.on_commit(k, kT0 + 900ms));
  CHECK(m.on_alert(k, kT0 + 25ms));
  CHECK(m.commit_latencies_ms() == std::vector<double>{10.0});
  CHECK(m.alert_latencies_ms() == std::vector<double>{15.0});
}

TEST_CASE("a duplicate alert is ignored: the first one counts", "[latency_stats]") {
  LatencyMatcher m;
  const ReadingKey k{"probe-0000", 5};
  m.on_publish(k, kT0);
  m.on_commit(k, kT0 + 10ms);
  CHECK(m.on_alert(k, kT0 + 20ms));
  CHECK_FALSE(m.on_alert(k, kT0 + 40ms));
  CHECK(m.alert_latencies_ms() == std::vector<double>{10.0});
}

TEST_CASE("an alert for a reading never published is unmatched and gives no sample",
          "[latency_stats]") {
  LatencyMatcher m;
  m.on_publish({"probe-0000", 1}, kT0);
  m.on_commit({"probe-0000", 1}, kT0 + 5ms);
  CHECK(m.on_alert({"probe-0099", 1}, kT0 + 6ms));  // another device
  CHECK(m.on_alert({"probe-0000", 2}, kT0 + 7ms));  // another ts of the same device
  CHECK(m.unmatched_alerts() == 2);
  CHECK(m.alert_latencies_ms().empty());
  CHECK(m.missing_alerts() == 1);  // the published reading still has no alert
  CHECK(m.published() == 1);
}

TEST_CASE("a commit for a reading never published is unmatched and gives no sample",
          "[latency_stats]") {
  LatencyMatcher m;
  m.on_commit({"probe-0000", 1}, kT0);
  m.on_alert({"probe-0000", 1}, kT0 + 1ms);
  CHECK(m.unmatched_commits() == 1);
  CHECK(m.unmatched_alerts() == 1);
  CHECK(m.commit_latencies_ms().empty());
  CHECK(m.alert_latencies_ms().empty());
  CHECK(m.published() == 0);
  CHECK(m.missing_commits() == 0);
}

TEST_CASE("events may arrive in any order: a commit before its publish is recorded still matches",
          "[latency_stats]") {
  LatencyMatcher m;
  const ReadingKey k{"probe-0003", 42};
  m.on_alert(k, kT0 + 9ms);
  m.on_commit(k, kT0 + 8ms);
  m.on_publish(k, kT0);
  CHECK(m.commit_latencies_ms() == std::vector<double>{8.0});
  CHECK(m.alert_latencies_ms() == std::vector<double>{1.0});
  CHECK(m.unmatched_commits() == 0);
  CHECK(m.unmatched_alerts() == 0);
}

TEST_CASE("an alert seen before its commit yields a negative committed-to-alert sample",
          "[latency_stats]") {
  LatencyMatcher m;
  const ReadingKey k{"d", 1};
  m.on_publish(k, kT0);
  m.on_alert(k, kT0 + 10ms);
  m.on_commit(k, kT0 + 12ms);
  CHECK(m.alert_latencies_ms() == std::vector<double>{-2.0});
}

TEST_CASE("missing commits and alerts count published readings without them", "[latency_stats]") {
  LatencyMatcher m;
  for (int i = 0; i < 5; ++i) m.on_publish({"d", i}, kT0 + std::chrono::milliseconds{i});
  m.on_commit({"d", 0}, kT0 + 10ms);
  m.on_commit({"d", 1}, kT0 + 11ms);
  m.on_commit({"d", 2}, kT0 + 12ms);
  m.on_alert({"d", 0}, kT0 + 20ms);
  m.on_alert({"d", 4}, kT0 + 30ms);  // alert without a seen commit: no committed→alert sample
  CHECK(m.published() == 5);
  CHECK(m.missing_commits() == 2);
  CHECK(m.missing_alerts() == 3);
  CHECK(m.commit_latencies_ms().size() == 3);
  CHECK(m.alert_latencies_ms() == std::vector<double>{10.0});
}

TEST_CASE("the same ts on different devices are different readings", "[latency_stats]") {
  LatencyMatcher m;
  m.on_publish({"a", 7}, kT0);
  m.on_publish({"b", 7}, kT0 + 1ms);
  m.on_commit({"b", 7}, kT0 + 5ms);
  CHECK(m.published() == 2);
  CHECK(m.commit_latencies_ms() == std::vector<double>{4.0});
  CHECK(m.missing_commits() == 1);
}

TEST_CASE("recording the same publish twice counts it once and keeps the first time",
          "[latency_stats]") {
  LatencyMatcher m;
  m.on_publish({"a", 1}, kT0);
  m.on_publish({"a", 1}, kT0 + 50ms);
  m.on_commit({"a", 1}, kT0 + 60ms);
  CHECK(m.published() == 1);
  CHECK(m.commit_latencies_ms() == std::vector<double>{60.0});
}
