#pragma once
/// Counts readings received but not yet committed (or dropped/handed back), so the consumer can
/// stop fetching while too many are in flight. Thread-safe (mutex + condition variable).
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>

namespace ste::ingest {

class InflightGate {
 public:
  explicit InflightGate(std::int64_t limit) : limit_(limit) {}
  void add(std::int64_t n) {
    std::lock_guard lock(mu_);
    count_ += n;
  }
  void release(std::int64_t n) {
    {
      std::lock_guard lock(mu_);
      count_ -= n;
    }
    cv_.notify_all();
  }
  /// Waits until below the limit or `timeout` passes; true when there is room.
  bool wait_for_room(std::chrono::milliseconds timeout) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, timeout, [this] { return count_ < limit_; });
  }
  std::int64_t count() const {
    std::lock_guard lock(mu_);
    return count_;
  }

 private:
  const std::int64_t limit_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::int64_t count_ = 0;  // guarded by mu_
};

}  // namespace ste::ingest
