#pragma once
/// DeliveryWorker: drains the outbox. One thread drives libcurl's multi interface: it claims due
/// rows (DeliveryOutbox), sends up to `max_in_flight` requests concurrently (connect timeout 2 s,
/// total 5 s, redirects not followed), and records each attempt's outcome with the RetryPolicy's
/// verdict and next time. Evaluation never waits on it, and a slow or dead receiver only grows
/// the pending backlog. Pending rows survive restarts (they are rows).
/// Thread-safety: start()/stop() from the owner; everything else runs on the worker thread.
#include <atomic>
#include <memory>
#include <random>
#include <thread>

#include "common/pg_pool.hpp"
#include "evaluator/delivery_metrics.hpp"
#include "evaluator/delivery_outbox.hpp"
#include "evaluator/retry_policy.hpp"

namespace ste::eval {

struct DeliveryConfig {
  TargetDefaults defaults;
  RetryPolicy policy;
  int max_in_flight = 32;
  std::chrono::milliseconds connect_timeout{2000};
  std::chrono::milliseconds total_timeout{5000};
  std::chrono::seconds lease{60};  ///< longer than any send can take
  std::chrono::milliseconds idle_poll{250};
};

class DeliveryWorker {
 public:
  DeliveryWorker(PgPool& pool, DeliveryConfig config, DeliveryMetrics& metrics);
  ~DeliveryWorker();
  void start();
  /// Stops claiming, gives in-flight requests until their timeout to finish, records them.
  void stop();

 private:
  void run();
  PgPool& pool_;
  DeliveryConfig config_;
  DeliveryMetrics& metrics_;
  std::atomic<bool> stopping_{false};
  std::thread thread_;
};

}  // namespace ste::eval
