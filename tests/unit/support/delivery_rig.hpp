#pragma once
/// The unit-test rig for DeliveryWorker: the worker over fakes, driven step by step with pump().
#include <prometheus/registry.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <utility>

#include "common/clock.hpp"
#include "evaluator/delivery/delivery_worker.hpp"
#include "tests/unit/support/fake_http_transport.hpp"
#include "tests/unit/support/fake_outbox.hpp"

namespace ste::testing {

inline constexpr std::uint64_t kSeed = 42;
inline const std::string kHang = "https://hanging.example/hook";
inline const std::string kFast = "https://fast.example/hook";

/// A DeliveryWorker over a FakeOutbox, a FakeHttpTransport and a ManualClock, with a fixed jitter
/// seed. Configure `config` before the first worker() or step().
struct DeliveryRig {
  ManualClock clock;
  FakeOutbox outbox{clock};
  FakeHttpTransport transport{clock};
  prometheus::Registry registry;
  eval::DeliveryMetrics metrics{registry};
  eval::DeliveryConfig config = [] {
    eval::DeliveryConfig c;
    c.defaults = {"https://hub.operator", "op-key", "https://wf.operator", "op-secret"};
    return c;
  }();
  std::unique_ptr<eval::DeliveryWorker> w;

  eval::DeliveryWorker& worker() {
    if (!w)
      w = std::make_unique<eval::DeliveryWorker>(outbox, transport, clock, config, metrics, kSeed);
    return *w;
  }
  /// One step after `d` of time (the claim pacing is idle_poll, 250 ms).
  void step(std::chrono::milliseconds d = std::chrono::milliseconds{250}) {
    clock.advance(d);
    worker().pump();
  }
  /// The transport's id of the latest request for Workflow Engine delivery `id` (found by its
  /// X-STE-Delivery header).
  std::uint64_t request_of(const std::string& id) const {
    std::uint64_t found = 0;
    for (const auto& s : transport.sent())
      if (header(s, "X-STE-Delivery") == id) found = s.id;
    if (found == 0) FAIL("delivery " << id << " was never sent");
    return found;
  }
  static std::string header(const FakeHttpTransport::Sent& s, const std::string& name) {
    for (const auto& [n, v] : s.request.request.headers)
      if (n == name) return v;
    return {};
  }
  /// The delay the RetryPolicy gives after attempt `attempt` (no Retry-After) as the first draw
  /// of a jitter generator seeded like the worker's.
  std::chrono::milliseconds expected_delay(int attempt) const {
    std::mt19937_64 rng(kSeed);
    return eval::next_delay(attempt, std::nullopt, config.policy, rng);
  }
};

/// A claimed Notification Hub row for `url` sent with `key` (empty: none).
inline eval::ClaimedDelivery hub_row(const std::string& id, const std::string& url,
                                     std::string key) {
  eval::ClaimedDelivery d;
  d.id = id;
  d.alert_id = "alert-" + id;
  d.tenant_id = 7;
  d.target = "notification_hub";
  d.url = url;
  d.alert_json = R"({"id":"alert-)" + id + R"(","value":93.2})";
  d.credential = std::move(key);
  return d;
}

}  // namespace ste::testing
