#include "common/event_loop.hpp"

#include <systemd/sd-daemon.h>

#include <algorithm>
#include <csignal>

#include "common/log.hpp"

namespace ste {

struct EventLoop::Timer {
  uv_timer_t handle{};
  std::function<void()> fn;
};
struct EventLoop::Signal {
  uv_signal_t handle{};
  std::function<void(int)> fn;
};
struct EventLoop::Work {
  uv_work_t req{};
  EventLoop* loop;
  int slot;
  std::function<void()> work;
  std::function<void()> after;
};

EventLoop::EventLoop() {
  uv_loop_init(&loop_);
  uv_async_init(&loop_, &stop_async_,
                [](uv_async_t* a) { static_cast<EventLoop*>(a->data)->stop(); });
  stop_async_.data = this;
}

EventLoop::~EventLoop() {
  stop();
  uv_run(&loop_, UV_RUN_DEFAULT);  // let close callbacks run
  uv_loop_close(&loop_);
}

void EventLoop::on_shutdown_signal(std::function<void(int)> fn) {
  for (int signum : {SIGTERM, SIGINT}) {
    auto s = std::make_unique<Signal>();
    s->fn = fn;
    s->handle.data = s.get();
    uv_signal_init(&loop_, &s->handle);
    uv_signal_start(
        &s->handle, [](uv_signal_t* h, int sig) { static_cast<Signal*>(h->data)->fn(sig); },
        signum);
    signals_.push_back(std::move(s));
  }
}

void EventLoop::every(Millis period, std::function<void()> fn) {
  auto t = std::make_unique<Timer>();
  t->fn = std::move(fn);
  t->handle.data = t.get();
  uv_timer_init(&loop_, &t->handle);
  const auto ms = static_cast<uint64_t>(std::max<std::int64_t>(1, period.count()));
  uv_timer_start(
      &t->handle, [](uv_timer_t* h) { static_cast<Timer*>(h->data)->fn(); }, ms, ms);
  timers_.push_back(std::move(t));
}

bool EventLoop::off_loop(int slot, std::function<void()> work, std::function<void()> after) {
  if (stopped_ || std::find(busy_slots_.begin(), busy_slots_.end(), slot) != busy_slots_.end()) {
    return false;
  }
  busy_slots_.push_back(slot);
  auto* w = new Work{{}, this, slot, std::move(work), std::move(after)};
  w->req.data = w;
  uv_queue_work(
      &loop_, &w->req,
      [](uv_work_t* req) {
        auto* job = static_cast<Work*>(req->data);
        try {
          job->work();
        } catch (const std::exception& e) {
          log::warn("background job failed", {{"error", e.what()}});
        }
      },
      [](uv_work_t* req, int) {
        std::unique_ptr<Work> job(static_cast<Work*>(req->data));
        job->loop->busy_slots_.remove(job->slot);
        if (job->after) job->after();
      });
  return true;
}

void EventLoop::stop() {
  if (stopped_) return;
  stopped_ = true;
  for (auto& t : timers_) uv_close(reinterpret_cast<uv_handle_t*>(&t->handle), nullptr);
  for (auto& s : signals_) uv_close(reinterpret_cast<uv_handle_t*>(&s->handle), nullptr);
  uv_close(reinterpret_cast<uv_handle_t*>(&stop_async_), nullptr);
}

void EventLoop::stop_from_any_thread() { uv_async_send(&stop_async_); }

void EventLoop::run() { uv_run(&loop_, UV_RUN_DEFAULT); }

void notify_ready() { sd_notify(0, "READY=1"); }
void notify_stopping() { sd_notify(0, "STOPPING=1"); }

void start_watchdog(EventLoop& loop) {
  uint64_t usec = 0;
  if (sd_watchdog_enabled(0, &usec) <= 0 || usec == 0) return;
  const auto half = Millis{static_cast<std::int64_t>(usec / 2000)};
  log::info("systemd watchdog enabled", {{"ping_ms", half.count()}});
  loop.every(half, [] { sd_notify(0, "WATCHDOG=1"); });
}

}  // namespace ste
