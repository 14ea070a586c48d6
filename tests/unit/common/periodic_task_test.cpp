#include "common/periodic_task.hpp"

#include <atomic>
#include <catch2/catch.hpp>
#include <stdexcept>

using ste::PeriodicTask;
using namespace std::chrono_literals;

namespace {
/// Polls `cond` until it holds or 10 s have passed.
template <class F>
bool within_10s(F cond) {
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  while (!cond()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(1ms);
  }
  return true;
}
}  // namespace

TEST_CASE("a periodic task runs at start and stop() ends its long wait at once",
          "[periodic_task]") {
  std::atomic<int> runs{0};
  PeriodicTask task("test", 1h, [&] { ++runs; });
  task.start();
  REQUIRE(within_10s([&] { return runs.load() == 1; }));
  const auto t0 = std::chrono::steady_clock::now();
  task.stop();  // the task is waiting an hour: stop wakes it
  CHECK(std::chrono::steady_clock::now() - t0 < 5s);
  CHECK(runs.load() == 1);
  task.stop();  // idempotent
}

TEST_CASE("a run that throws is survived: the next run happens", "[periodic_task]") {
  std::atomic<int> runs{0};
  PeriodicTask task("test", 1ms, [&] {
    if (++runs == 1) throw std::runtime_error("the database is away");
  });
  task.start();
  CHECK(within_10s([&] { return runs.load() >= 3; }));
}

TEST_CASE("pause() reports a stop, so a long run can end early", "[periodic_task]") {
  std::atomic<bool> paused_through{true};
  std::atomic<bool> in_pause{false};
  PeriodicTask* self = nullptr;
  PeriodicTask task("test", 1h, [&] {
    in_pause = true;
    paused_through = self->pause(1h);
  });
  self = &task;
  task.start();
  REQUIRE(within_10s([&] { return in_pause.load(); }));
  task.stop();
  CHECK_FALSE(paused_through.load());
}
