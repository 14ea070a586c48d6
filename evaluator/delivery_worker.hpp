#pragma once
/// DeliveryWorker: drains the outbox. One thread drives libcurl's multi interface: it claims due
/// rows (claim_deliveries() in delivery_outbox.hpp), sends up to `max_in_flight` requests
/// concurrently, at most about `max_in_flight_per_url` of them to one URL (a claim skips URLs that
/// already have that many in flight and takes at most that many rows, so one URL can reach 2 × the
/// setting − 1), so a target that hangs cannot take every slot from the others (connect timeout 2
/// s, total `total_timeout`, STE_DELIVERY_TIMEOUT_MS, default 5 s; redirects not followed), and
/// records each attempt's outcome with the RetryPolicy's verdict and next time. Evaluation never
/// waits on it, and a slow or dead receiver only grows the pending backlog. Response bodies are
/// read up to kMaxResponseBodyBytes and dropped, then the transfer is cut: a huge or endless body
/// costs neither memory nor the timeout. Pending rows survive restarts (they are rows).
/// Thread-safety: start()/stop() from the owner; everything else runs on the worker thread.
#include <atomic>
#include <cstddef>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "common/pg_pool.hpp"
#include "evaluator/delivery_metrics.hpp"
#include "evaluator/delivery_outbox.hpp"
#include "evaluator/retry_policy.hpp"

namespace ste::eval {

struct DeliveryConfig {
  TargetDefaults defaults;
  RetryPolicy policy;
  int max_in_flight = 32;
  /// A claim skips a URL with this many requests in flight and takes at most this many rows, so a
  /// hanging target holds at most 2 × this − 1 slots (15 by default).
  int max_in_flight_per_url = 8;
  /// STE_ALLOW_PRIVATE_TENANT_WEBHOOKS: let a tenant's own URLs reach loopback/private addresses.
  bool allow_private_tenant_targets = false;
  std::chrono::milliseconds connect_timeout{2000};
  std::chrono::milliseconds total_timeout{5000};
  std::chrono::seconds lease{60};  ///< raised by the worker to outlast total_timeout
  std::chrono::milliseconds idle_poll{250};
};

/// Pure. The URLs that already have `per_url_cap` requests in flight (`in_flight_urls` holds one
/// entry per request in flight), in order: the next claim skips their rows, which wait in the
/// outbox meanwhile.
std::vector<std::string> saturated_urls(const std::vector<std::string>& in_flight_urls,
                                        int per_url_cap);

/// Bytes of a response body read (and dropped) before the transfer is cut. Enough for any
/// ordinary answer, so its connection stays reusable; a larger body is not worth reading.
inline constexpr std::size_t kMaxResponseBodyBytes = 64 * 1024;

/// What one finished transfer records: the HTTP status, or, when there is none, the error.
struct TransferOutcome {
  std::optional<int> http_status;
  std::string error;  ///< empty when http_status is set
};

/// Pure. `transfer_ok`: libcurl finished without error; `head_complete`: the last response head
/// arrived up to its blank line; `response_code`: libcurl's (0 = none); `error`: libcurl's
/// message. A complete final (>= 200) head decides the attempt by its status even when the body
/// then failed (cut at kMaxResponseBodyBytes, timed out, connection reset): the receiver has
/// answered, and retrying a 2xx would send an accepted alert again.
TransferOutcome transfer_outcome(bool transfer_ok, bool head_complete, long response_code,
                                 std::string_view error);

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
