#pragma once
/// Time as the services see it. Everything that decides by time (batch intervals, cache expiry,
/// rate windows, backoff) takes a Clock& so tests drive a ManualClock instead of sleeping.
///
/// Two kinds of time: wall time (`now()`, what a reading's or an alert's timestamp means) and
/// monotonic time (`mono()`, for ages, intervals and deadlines: it never jumps when the host's
/// clock is set). Code that measures how long something took or waits uses mono().
#include <atomic>
#include <chrono>
#include <cstdint>

namespace ste {

using SysClock = std::chrono::system_clock;
using TimePoint = SysClock::time_point;
using MonoClock = std::chrono::steady_clock;
using MonoPoint = MonoClock::time_point;
using Millis = std::chrono::milliseconds;

/// Source of wall-clock and monotonic time. Implementations are thread-safe.
class Clock {
 public:
  virtual ~Clock() = default;
  virtual TimePoint now() const = 0;
  virtual MonoPoint mono() const = 0;
};

/// The real clock.
class SystemClock final : public Clock {
 public:
  TimePoint now() const override { return SysClock::now(); }
  MonoPoint mono() const override { return MonoClock::now(); }
};

/// A clock that only moves when told to. Thread-safe (atomic), for tests. advance() moves both
/// times; set() moves only wall time (as a host's clock being set would), so tests can check
/// that ages and deadlines ignore it.
class ManualClock final : public Clock {
 public:
  explicit ManualClock(TimePoint start = TimePoint{std::chrono::seconds{1'800'000'000}})
      : ns_(start.time_since_epoch().count()) {}
  TimePoint now() const override { return TimePoint{TimePoint::duration{ns_.load()}}; }
  MonoPoint mono() const override { return MonoPoint{MonoPoint::duration{mono_ns_.load()}}; }
  void advance(std::chrono::nanoseconds d) {
    ns_ += std::chrono::duration_cast<TimePoint::duration>(d).count();
    mono_ns_ += std::chrono::duration_cast<MonoPoint::duration>(d).count();
  }
  void set(TimePoint t) { ns_ = t.time_since_epoch().count(); }

 private:
  std::atomic<TimePoint::rep> ns_;
  std::atomic<MonoPoint::rep> mono_ns_{
      std::chrono::duration_cast<MonoPoint::duration>(std::chrono::hours{1}).count()};
};

inline std::int64_t to_epoch_ms(TimePoint t) {
  return std::chrono::floor<Millis>(t.time_since_epoch()).count();
}
inline std::int64_t to_epoch_us(TimePoint t) {
  return std::chrono::floor<std::chrono::microseconds>(t.time_since_epoch()).count();
}
inline TimePoint from_epoch_us(std::int64_t us) {
  return TimePoint{std::chrono::duration_cast<TimePoint::duration>(std::chrono::microseconds{us})};
}
inline TimePoint from_epoch_ms(std::int64_t ms) {
  return TimePoint{std::chrono::duration_cast<TimePoint::duration>(Millis{ms})};
}

}  // namespace ste
