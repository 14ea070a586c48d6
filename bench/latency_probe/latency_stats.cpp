#include "bench/latency_probe/latency_stats.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>

namespace ste::bench {

namespace {
double ms_between(TimePoint from, TimePoint to) {
  return std::chrono::duration<double, std::milli>(to - from).count();
}
}  // namespace

double nearest_rank(const std::vector<double>& sorted, double p) {
  const auto n = static_cast<double>(sorted.size());
  // ceil(p/100 × N) computed in double: for N up to 2^53 the product is exact enough that a
  // whole-number rank (p = 50, N = 4 → 2) is not pushed up by rounding.
  const double rank = std::ceil(p / 100.0 * n);
  const auto clamped = static_cast<std::size_t>(std::clamp(rank, 1.0, n));
  return sorted[clamped - 1];
}

LatencySummary summarize(std::vector<double> samples) {
  if (samples.empty()) return {};
  std::sort(samples.begin(), samples.end());
  return LatencySummary{samples.size(), nearest_rank(samples, 50), nearest_rank(samples, 99),
                        samples.back()};
}

void LatencyMatcher::on_publish(const ReadingKey& key, TimePoint at) {
  auto& e = events_[key];
  if (e.published) return;  // the probe never reuses a key; a second record changes nothing
  e.published = at;
  ++published_;
}

bool LatencyMatcher::on_commit(const ReadingKey& key, TimePoint at) {
  auto& e = events_[key];
  if (e.committed) return false;
  e.committed = at;
  return true;
}

bool LatencyMatcher::on_alert(const ReadingKey& key, TimePoint at) {
  auto& e = events_[key];
  if (e.alerted) return false;
  e.alerted = at;
  return true;
}

std::vector<double> LatencyMatcher::commit_latencies_ms() const {
  std::vector<double> out;
  for (const auto& [key, e] : events_) {
    if (e.published && e.committed) out.push_back(ms_between(*e.published, *e.committed));
  }
  return out;
}

std::vector<double> LatencyMatcher::alert_latencies_ms() const {
  std::vector<double> out;
  for (const auto& [key, e] : events_) {
    if (e.published && e.committed && e.alerted) {
      out.push_back(ms_between(*e.committed, *e.alerted));
    }
  }
  return out;
}

std::size_t LatencyMatcher::missing_commits() const {
  return static_cast<std::size_t>(std::count_if(events_.begin(), events_.end(), [](const auto& kv) {
    return kv.second.published && !kv.second.committed;
  }));
}

std::size_t LatencyMatcher::missing_alerts() const {
  return static_cast<std::size_t>(std::count_if(events_.begin(), events_.end(), [](const auto& kv) {
    return kv.second.published && !kv.second.alerted;
  }));
}

std::size_t LatencyMatcher::unmatched_commits() const {
  return static_cast<std::size_t>(std::count_if(events_.begin(), events_.end(), [](const auto& kv) {
    return !kv.second.published && kv.second.committed;
  }));
}

std::size_t LatencyMatcher::unmatched_alerts() const {
  return static_cast<std::size_t>(std::count_if(events_.begin(), events_.end(), [](const auto& kv) {
    return !kv.second.published && kv.second.alerted;
  }));
}

}  // namespace ste::bench
