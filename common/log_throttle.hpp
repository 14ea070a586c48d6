#pragma once
/// LogThrottle: "warn at most once every N seconds" for a failure that repeats with every message
/// (a broken connection fails every fetch, ack and lookup). The first event is admitted; later ones
/// within `every` are counted and reported with the next admitted one. Monotonic time, so a wall
/// clock being set cannot silence or flood the log. Thread-safe. Pure apart from its lock.
#include <chrono>
#include <cstdint>
#include <mutex>
#include <optional>

#include "common/clock.hpp"

namespace ste {

class LogThrottle {
 public:
  explicit LogThrottle(std::chrono::nanoseconds every) : every_(every) {}

  /// When an event at `now` may be logged: the number of events refused since the last admitted
  /// one (0 for the first). nullopt when it must not be logged (it is counted).
  std::optional<std::uint64_t> admit(MonoPoint now) {
    std::lock_guard lock(mu_);
    if (admitted_once_ && now - last_ < every_) {
      ++suppressed_;
      return std::nullopt;
    }
    admitted_once_ = true;
    last_ = now;
    const std::uint64_t refused = suppressed_;
    suppressed_ = 0;
    return refused;
  }

 private:
  std::chrono::nanoseconds every_;
  std::mutex mu_;
  bool admitted_once_ = false;    // guarded by mu_
  MonoPoint last_{};              // guarded by mu_
  std::uint64_t suppressed_ = 0;  // guarded by mu_
};

}  // namespace ste
