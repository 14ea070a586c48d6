#pragma once
/// The pure part of ste-latency-probe: percentile summaries of latency samples and the matcher
/// that pairs each probe reading's publish, commit (its batch summary arrived) and alert by key.
/// Times are passed in, so tests need neither servers nor a clock.
#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "common/clock.hpp"

namespace ste::bench {

/// count, 50th and 99th percentile and maximum of a set of samples, in milliseconds.
struct LatencySummary {
  std::size_t count = 0;
  double p50_ms = 0;
  double p99_ms = 0;
  double max_ms = 0;
};

/// Nearest-rank percentile of `sorted` (ascending, non-empty): the smallest sample such that at
/// least p percent of the samples are less than or equal to it, i.e. sorted[ceil(p/100 × N) - 1]
/// (rank clamped to 1..N). It is always an observed sample, never an interpolation: with N < 100
/// the p99 is the maximum, and the p50 of an even count is the lower of the two middle samples.
double nearest_rank(const std::vector<double>& sorted, double p);

/// Summarises `samples` (any order). Empty input: count 0 and every statistic 0.
LatencySummary summarize(std::vector<double> samples);

/// Identifies one probe reading: the device key and its `ts` in epoch milliseconds, which the
/// probe keeps strictly increasing per device, so the pair is unique within a run.
struct ReadingKey {
  std::string device;
  std::int64_t ts_ms = 0;
  friend bool operator<(const ReadingKey& a, const ReadingKey& b) {
    return std::tie(a.device, a.ts_ms) < std::tie(b.device, b.ts_ms);
  }
};

/// Pairs the three events of each probe reading, in whatever order they are observed: a commit
/// may be seen before the publish is recorded (the probe records a publish only after its ack),
/// and an alert before the commit (two different publishers). Only the first commit and the first
/// alert of a key count: a redelivered batch re-sends its summary, and that must not add a second
/// (later) sample. Events for keys never published (a previous run's stragglers) are kept apart
/// and reported as unmatched, never as samples.
/// Not thread-safe: the probe guards it with one mutex.
class LatencyMatcher {
 public:
  void on_publish(const ReadingKey& key, TimePoint at);
  /// Returns false when the key already had a commit (the duplicate is ignored).
  bool on_commit(const ReadingKey& key, TimePoint at);
  /// Returns false when the key already had an alert (the duplicate is ignored).
  bool on_alert(const ReadingKey& key, TimePoint at);

  std::size_t published() const { return published_; }
  /// commit − publish for every published and committed reading, in ms.
  std::vector<double> commit_latencies_ms() const;
  /// alert − commit for every published reading with both, in ms.
  std::vector<double> alert_latencies_ms() const;
  /// Published readings whose commit was never seen.
  std::size_t missing_commits() const;
  /// Published readings whose alert was never seen (with or without a commit).
  std::size_t missing_alerts() const;
  /// Commits / alerts seen for keys that were never published.
  std::size_t unmatched_commits() const;
  std::size_t unmatched_alerts() const;

 private:
  struct Events {
    std::optional<TimePoint> published;
    std::optional<TimePoint> committed;
    std::optional<TimePoint> alerted;
  };
  std::map<ReadingKey, Events> events_;
  std::size_t published_ = 0;
};

}  // namespace ste::bench
