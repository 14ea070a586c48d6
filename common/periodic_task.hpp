#pragma once
/// PeriodicTask: runs one function on its own thread at start and then every `interval` until
/// stop(). An exception from the function is logged (with the task's name) and the next run
/// tries again: a background chore must never take the service down. stop() wakes a waiting
/// thread at once (also one in pause()) and joins it; it is idempotent and called by the
/// destructor.
/// Thread-safety: start()/stop() from the owner only.
#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

namespace ste {

class PeriodicTask {
 public:
  PeriodicTask(std::string name, std::chrono::milliseconds interval, std::function<void()> run);
  ~PeriodicTask();
  PeriodicTask(const PeriodicTask&) = delete;
  PeriodicTask& operator=(const PeriodicTask&) = delete;

  void start();
  void stop();
  /// For the run function: waits up to `d` (a pause between batches); false once stop() was
  /// called, so a long run can end early.
  bool pause(std::chrono::milliseconds d);

 private:
  void loop();

  std::string name_;
  std::chrono::milliseconds interval_;
  std::function<void()> run_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace ste
