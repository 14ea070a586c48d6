#include "common/periodic_task.hpp"

#include "common/log.hpp"

namespace ste {

PeriodicTask::PeriodicTask(std::string name, std::chrono::milliseconds interval,
                           std::function<void()> run)
    : name_(std::move(name)), interval_(interval), run_(std::move(run)) {}

PeriodicTask::~PeriodicTask() { stop(); }

void PeriodicTask::start() {
  if (thread_.joinable()) return;
  thread_ = std::thread([this] { loop(); });
}

void PeriodicTask::stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

bool PeriodicTask::pause(std::chrono::milliseconds d) {
  std::unique_lock lock(mu_);
  return !cv_.wait_for(lock, d, [this] { return stopping_; });
}

void PeriodicTask::loop() {
  for (;;) {
    try {
      run_();
    } catch (const std::exception& e) {
      log::warn(name_ + " failed; trying again next run", {{"error", e.what()}});
    }
    if (!pause(interval_)) return;
  }
}

}  // namespace ste
