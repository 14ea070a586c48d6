#pragma once
/// The services' libuv event loop: signals, repeating timers, and off-loop work (uv_queue_work)
/// for anything that blocks (a libpq round trip must never stall the loop). Callbacks run on the
/// loop thread; `off_loop` work runs on libuv's thread pool, its `after` back on the loop.
/// Not thread-safe except stop_from_any_thread().
#include <uv.h>

#include <functional>
#include <list>
#include <memory>

#include "common/clock.hpp"

namespace ste {

class EventLoop {
 public:
  EventLoop();
  ~EventLoop();
  EventLoop(const EventLoop&) = delete;
  EventLoop& operator=(const EventLoop&) = delete;

  /// SIGTERM and SIGINT call `fn(signum)`.
  void on_shutdown_signal(std::function<void(int)> fn);
  /// Calls `fn` every `period` (first call after one period).
  void every(Millis period, std::function<void()> fn);
  /// Runs `work` on the thread pool, then `after` on the loop. Skipped (returns false) while a
  /// previous job with the same `slot` is still running.
  bool off_loop(int slot, std::function<void()> work, std::function<void()> after = {});
  /// Closes every handle; run() returns once pending off-loop work has finished.
  void stop();
  /// Thread-safe request to stop (wakes the loop).
  void stop_from_any_thread();
  void run();
  uv_loop_t* raw() { return &loop_; }

 private:
  struct Timer;
  struct Signal;
  struct Work;
  uv_loop_t loop_{};
  uv_async_t stop_async_{};
  std::list<std::unique_ptr<Timer>> timers_;
  std::list<std::unique_ptr<Signal>> signals_;
  std::list<int> busy_slots_;
  bool stopped_ = false;
};

/// systemd integration: READY=1 / STOPPING=1 / WATCHDOG=1 (no-ops outside systemd).
void notify_ready();
void notify_stopping();
/// When systemd set WatchdogSec, pings from the loop at half the interval.
void start_watchdog(EventLoop& loop);

}  // namespace ste
