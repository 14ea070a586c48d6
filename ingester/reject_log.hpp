#pragma once
/// Decides which rejections get a log line: at most one per reason per interval, reporting how
/// many of that reason were suppressed since the last line. A flood of bad messages then costs
/// a few log lines per second, while metrics and `ste.rejected.*` still see every one.
/// Thread-safe (one mutex).
#include <array>
#include <cstdint>
#include <mutex>
#include <optional>

#include "common/clock.hpp"
#include "ingester/reject_reason.hpp"

namespace ste::ingest {

class RejectLog {
 public:
  explicit RejectLog(Millis interval = std::chrono::seconds{1}) : interval_(interval) {}
  /// nullopt: stay quiet. Otherwise log now; the value is how many were suppressed before it.
  std::optional<std::uint64_t> admit(RejectReason reason, TimePoint now);

 private:
  struct Slot {
    TimePoint last{};
    bool ever = false;
    std::uint64_t suppressed = 0;
  };
  Millis interval_;
  std::mutex mu_;
  std::array<Slot, kAllRejectReasons.size()> slots_{};  // guarded by mu_
};

}  // namespace ste::ingest
