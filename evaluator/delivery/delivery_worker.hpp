#pragma once
/// DeliveryWorker: drains the outbox. A state machine over two ports — the Outbox (claim due
/// rows, record attempts) and the HttpTransport (send, collect finished transfers) — and a Clock;
/// pump() is one step of it, and the worker's thread only calls pump() and waits on the
/// transport, so unit tests drive it with fakes and a ManualClock.
///
/// Each step records the transfers that ended and claims more due rows: up to `max_in_flight`
/// requests concurrently, at most about `max_in_flight_per_url` of them to one URL (a claim skips
/// URLs that already have that many in flight and takes at most that many rows, so one URL can
/// reach 2 × the setting − 1), so a target that hangs cannot take every slot from the others
/// (connect timeout 2 s, total `total_timeout`, STE_DELIVERY_TIMEOUT_MS, default 5 s, both
/// enforced by the transport). Each attempt is recorded with the RetryPolicy's verdict and next
/// time. Evaluation never waits on it, and a slow or dead receiver only grows the pending
/// backlog. Pending rows survive restarts (they are rows).
///
/// Time: attempt start times (stored) are wall time; durations, claim and backlog intervals and
/// the warning throttle are monotonic.
/// Thread-safety: start()/stop()/request_stop() from the owner; pump() on one thread at a time
/// (the worker thread once started). The ports are used only from that thread.
#include <atomic>
#include <cstdint>
#include <exception>
#include <map>
#include <random>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "common/clock.hpp"
#include "common/log_throttle.hpp"
#include "evaluator/delivery/delivery_metrics.hpp"
#include "evaluator/delivery/delivery_outbox.hpp"
#include "evaluator/delivery/http_transport.hpp"
#include "evaluator/delivery/outbox.hpp"
#include "evaluator/delivery/retry_policy.hpp"

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

/// Pure. The lease a claim takes: the configured one, raised to total_timeout + 30 s when that is
/// longer (rounded up to whole seconds), so no other instance claims a row mid-send.
std::chrono::seconds claim_lease(std::chrono::seconds lease,
                                 std::chrono::milliseconds total_timeout);

class DeliveryWorker {
 public:
  /// `jitter_seed` seeds the retry jitter (tests pass a fixed one).
  DeliveryWorker(Outbox& outbox, HttpTransport& transport, const Clock& clock,
                 DeliveryConfig config, DeliveryMetrics& metrics,
                 std::uint64_t jitter_seed = std::random_device{}());
  ~DeliveryWorker();
  DeliveryWorker(const DeliveryWorker&) = delete;
  DeliveryWorker& operator=(const DeliveryWorker&) = delete;

  /// Runs pump() on the worker thread until stopped.
  void start();
  /// Stops claiming, gives in-flight requests until their timeout to finish, records them, and
  /// joins the worker thread.
  void stop();
  /// Stops claiming; returns at once (pump() then only finishes what is in flight).
  void request_stop();

  /// One step: claims and starts due deliveries (unless stopping; `idle_poll` after a claim that
  /// found nothing, 1 s after one that failed), refreshes the backlog gauges every 2 s, then
  /// records the transfers that ended (their slots are refilled by the next step). An outbox
  /// failure is logged (one line per 5 s) and survived. Returns false once stopping and nothing
  /// is in flight.
  bool pump();

 private:
  /// A request on the wire, by the id given to the transport.
  struct InFlight {
    ClaimedDelivery delivery;
    TimePoint started{};
    MonoPoint started_mono{};
  };
  void run();
  void claim(MonoPoint now);
  void finish(FinishedTransfer done);
  void warn_limited(std::string_view msg, const std::exception& e);

  Outbox& outbox_;
  HttpTransport& transport_;
  const Clock& clock_;
  DeliveryConfig config_;
  DeliveryMetrics& metrics_;
  std::mt19937_64 rng_;
  std::map<std::uint64_t, InFlight> in_flight_;
  std::uint64_t next_id_ = 1;
  MonoPoint next_claim_{};
  MonoPoint next_backlog_{};
  LogThrottle warnings_{std::chrono::seconds{5}};  ///< outbox failures: one line per 5 s
  std::atomic<bool> stopping_{false};
  std::thread thread_;
};

}  // namespace ste::eval
