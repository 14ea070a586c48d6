#pragma once
/// BackgroundPublisher: steady JetStream traffic for fault tests. A thread publishes `total`
/// readings of metric `flow` (10 per message, distinct timestamps from test_base_time(), values
/// 0, 1, 2, ...) on sensors.acme.meter-0..3 at roughly `per_second` readings/s, through its own
/// connection. A publish counts only once the stream acked it; a failed one is retried, so a
/// broker or JetStream outage delays the publisher but never loses or skips a reading (a retry
/// whose first ack was only lost stores the message twice, which the uniqueness key absorbs).
///
/// Lifecycle: publishing starts in the constructor; stop() ends it after the message in hand
/// (retries included), join() waits for the end; the destructor stops and joins.
/// Concurrency: published() and stop() may be called from any thread while it runs.
#include <atomic>
#include <thread>

#include "tests/integration/pipeline_fixture.hpp"

namespace ste::test {

class BackgroundPublisher {
 public:
  BackgroundPublisher(const std::string& nats_url, int total, int per_second)
      : thread_([this, nats_url, total, per_second] { run(nats_url, total, per_second); }) {}
  ~BackgroundPublisher() {
    stop();
    join();
  }
  BackgroundPublisher(const BackgroundPublisher&) = delete;
  BackgroundPublisher& operator=(const BackgroundPublisher&) = delete;

  void stop() { stop_ = true; }
  void join() {
    if (thread_.joinable()) thread_.join();
  }
  /// Readings acked by the stream so far.
  int published() const { return published_; }

 private:
  void run(const std::string& nats_url, int total, int per_second) {
    NatsSettings s;
    s.urls = nats_url;
    NatsClient c(s);
    const TimePoint base = test_base_time();
    const auto started = std::chrono::steady_clock::now();
    for (int i = 0; i < total && !stop_; i += 10) {
      std::string arr = "[";
      for (int k = 0; k < 10; ++k) {
        if (k) arr += ",";
        arr += reading_json("flow", i + k, base + std::chrono::milliseconds{i + k});
      }
      arr += "]";
      for (;;) {  // JetStream may be briefly unavailable; a publish only counts once acked
        try {
          c.js_publish(fmt::format("sensors.acme.meter-{}", (i / 10) % 4), arr);
          break;
        } catch (const NatsError&) {
          std::this_thread::sleep_for(std::chrono::milliseconds{50});
        }
      }
      published_ += 10;
      const auto due = started + std::chrono::microseconds{static_cast<long long>(i + 10) *
                                                           1'000'000 / per_second};
      std::this_thread::sleep_until(due);
    }
  }

  std::atomic<int> published_{0};
  std::atomic<bool> stop_{false};
  std::thread thread_;  // last: starts after the counters exist
};

}  // namespace ste::test
