#include "ingester/device_cap_deferral.hpp"

#include <algorithm>

namespace ste::ingest {

OverCapDecision decide_over_cap(const DeferralPolicy& policy, bool can_redeliver, TimePoint now,
                                TimePoint next_window, Millis waited, std::size_t held,
                                std::uint64_t jitter_seed) {
  if (!can_redeliver) return {OverCap::reject, Millis{0}, "core NATS cannot hand messages back"};
  if (policy.cap <= 0) return {OverCap::reject, Millis{0}, "the cap is 0"};
  if (held >= policy.max_held) {
    return {OverCap::reject, Millis{0}, "too many messages already wait for the cap"};
  }
  const Millis left = policy.max_wait - waited;
  const Millis to_window =
      std::max(Millis{1}, std::chrono::ceil<Millis>(next_window - now));  // at least 1 ms
  if (to_window > left) {
    return {OverCap::reject, Millis{0}, "waited STE_DEVICE_CAP_MAX_WAIT_SECONDS"};
  }
  const std::int64_t spread = policy.window.count() / 2;
  const Millis jitter{
      spread > 0 ? static_cast<std::int64_t>(jitter_seed % static_cast<std::uint64_t>(spread + 1))
                 : 0};
  return {OverCap::defer, std::min(to_window + jitter, left), {}};
}

std::uint64_t jitter_seed(std::uint64_t stream_sequence, std::uint64_t delivered) {
  std::uint64_t z = stream_sequence * 0x9E3779B97F4A7C15ULL + delivered;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

std::optional<TimePoint> DeferralBook::take(std::uint64_t seq) {
  auto it = entries_.find(seq);
  if (it == entries_.end()) return std::nullopt;
  const TimePoint first = it->second.first;
  entries_.erase(it);
  return first;
}

void DeferralBook::hold(std::uint64_t seq, TimePoint first_deferred, TimePoint expires) {
  entries_[seq] = Entry{first_deferred, expires};
}

void DeferralBook::purge(TimePoint now) {
  if (now - last_purge_ < std::chrono::seconds{1}) return;
  last_purge_ = now;
  std::erase_if(entries_, [now](const auto& kv) { return kv.second.expires <= now; });
}

}  // namespace ste::ingest
