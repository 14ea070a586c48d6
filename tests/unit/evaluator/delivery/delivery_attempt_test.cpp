// What DeliveryWorker sends and records per attempt (DESIGN §6), driven through pump() with a
// fake outbox, a fake HTTP transport and a ManualClock: the RetryPolicy's verdict and next time,
// giving up after the budget, the requests as webhook_request builds them, the address guard,
// wall and monotonic time.
#include <catch2/catch.hpp>
#include <chrono>
#include <string>

#include "evaluator/delivery/delivery_worker.hpp"
#include "evaluator/delivery/webhook_request.hpp"
#include "evaluator/delivery/webhook_signer.hpp"
#include "tests/unit/support/delivery_rig.hpp"

using namespace std::chrono_literals;
using ste::eval::AttemptVerdict;
using ste::eval::ClaimedDelivery;
using ste::testing::DeliveryRig;
using ste::testing::FakeOutbox;
using ste::testing::hub_row;
using ste::testing::kFast;
using ste::testing::kHang;

TEST_CASE("a 5xx is recorded with the RetryPolicy's verdict and next attempt time",
          "[delivery_worker]") {
  DeliveryRig rig;
  rig.outbox.add("d1", kFast, 2);  // two attempts done before
  rig.step();
  rig.transport.answer(rig.request_of("d1"), 503);
  rig.step(10ms);

  const auto attempts = rig.outbox.attempts_of("d1");
  REQUIRE(attempts.size() == 1);
  const auto& a = attempts[0];
  CHECK(a.attempt == 3);
  CHECK(a.http_status == 503);
  CHECK(a.verdict == AttemptVerdict::retry);
  REQUIRE(a.retry_in);
  CHECK(*a.retry_in == rig.expected_delay(3));
  CHECK(*a.retry_in >= 2s);  // attempt 3: 1 s doubled twice, equal jitter
  CHECK(*a.retry_in <= 4s);

  // Not sent again before that time (a claim just before it finds nothing due), sent once due.
  const auto claims = rig.outbox.claims().size();
  rig.step(*a.retry_in - 1ms);
  CHECK(rig.outbox.claims().size() == claims + 1);
  CHECK(rig.transport.sent().size() == 1);
  rig.step();
  CHECK(rig.transport.sent().size() == 2);
  CHECK(rig.outbox.attempts_of("d1").size() == 1);  // the second attempt is in flight
}

TEST_CASE("a request that times out is a network error retried on the RetryPolicy's schedule",
          "[delivery_worker]") {
  DeliveryRig rig;
  rig.config.total_timeout = 5000ms;
  rig.outbox.add("d1", kHang);
  rig.step();
  REQUIRE(rig.transport.sent().size() == 1);
  CHECK(rig.transport.sent()[0].request.total_timeout == 5000ms);
  CHECK(rig.transport.sent()[0].request.connect_timeout == 2000ms);

  rig.step(4999ms);
  CHECK(rig.outbox.recorded().empty());
  rig.step(1ms);
  const auto attempts = rig.outbox.attempts_of("d1");
  REQUIRE(attempts.size() == 1);
  CHECK_FALSE(attempts[0].http_status);
  CHECK_FALSE(attempts[0].error.empty());
  CHECK(attempts[0].verdict == AttemptVerdict::retry);
  CHECK(attempts[0].retry_in == rig.expected_delay(1));
  CHECK(attempts[0].duration_ms == 5000.0);
}

TEST_CASE("a Retry-After answer replaces the computed delay", "[delivery_worker]") {
  DeliveryRig rig;
  rig.outbox.add("d1", kFast);
  rig.step();
  rig.transport.answer(rig.request_of("d1"), 429, "120");
  rig.step(10ms);
  REQUIRE(rig.outbox.attempts_of("d1").size() == 1);
  CHECK(rig.outbox.attempts_of("d1")[0].retry_in == 120s);
}

TEST_CASE("a 2xx is recorded as delivered and never sent again", "[delivery_worker]") {
  DeliveryRig rig;
  rig.outbox.add("d1", kFast, 1);
  rig.step();
  rig.transport.answer(rig.request_of("d1"), 204);
  rig.step(10ms);
  const auto attempts = rig.outbox.attempts_of("d1");
  REQUIRE(attempts.size() == 1);
  CHECK(attempts[0].attempt == 2);
  CHECK(attempts[0].verdict == AttemptVerdict::delivered);
  CHECK_FALSE(attempts[0].retry_in);
  CHECK(rig.outbox.status("d1") == FakeOutbox::Status::delivered);

  for (int i = 0; i < 20; ++i) rig.step(1min);
  CHECK(rig.transport.sent().size() == 1);
  CHECK(rig.outbox.recorded().size() == 1);
}

TEST_CASE("the last attempt of the budget is given up: failed, not retried", "[delivery_worker]") {
  DeliveryRig rig;
  rig.config.policy.max_attempts = 8;
  rig.outbox.add("answers-503", kFast, 7);
  rig.outbox.add("times-out", kHang, 7);
  rig.step();
  rig.transport.answer(rig.request_of("answers-503"), 503);
  rig.step(rig.config.total_timeout);

  for (const auto* id : {"answers-503", "times-out"}) {
    const auto attempts = rig.outbox.attempts_of(id);
    REQUIRE(attempts.size() == 1);
    CHECK(attempts[0].attempt == 8);
    CHECK(attempts[0].verdict == AttemptVerdict::failed);
    CHECK_FALSE(attempts[0].retry_in);
    CHECK(rig.outbox.status(id) == FakeOutbox::Status::failed);
  }
  for (int i = 0; i < 20; ++i) rig.step(1min);
  CHECK(rig.transport.sent().size() == 2);
}

TEST_CASE("requests carry the headers, credential and signature webhook_request builds",
          "[delivery_worker]") {
  DeliveryRig rig;
  ClaimedDelivery wf;
  wf.id = "wf-1";
  wf.alert_id = "alert-9";
  wf.target = "workflow_engine";
  wf.url = "https://wf.tenant/hook";
  wf.alert_json = R"({"id":"alert-9"})";
  wf.credential = "tenant-secret";
  rig.outbox.add(wf);
  rig.outbox.add(hub_row("hub-key", "https://hub.tenant", "tenant-key"));
  rig.outbox.add(hub_row("hub-none", "https://hub.other", ""));
  rig.step();
  const auto sent = rig.transport.sent();
  REQUIRE(sent.size() == 3);

  const auto& wf_req = sent[0].request.request;
  const auto expected_wf =
      ste::eval::workflow_engine_request(wf.url, wf.credential, wf.id, wf.alert_json, wf.alert_id);
  CHECK(wf_req.url == expected_wf.url);
  CHECK(wf_req.headers == expected_wf.headers);
  CHECK(wf_req.body == expected_wf.body);
  CHECK(DeliveryRig::header(sent[0], "X-Hub-Signature-256") ==
        ste::eval::signature_header_value("tenant-secret", wf_req.body));

  const auto expected_hub =
      ste::eval::notification_hub_request("https://hub.tenant", "tenant-key", "alert-hub-key",
                                          R"({"id":"alert-hub-key","value":93.2})");
  CHECK(sent[1].request.request.url == expected_hub.url);
  CHECK(sent[1].request.request.headers == expected_hub.headers);
  CHECK(sent[1].request.request.body == expected_hub.body);
  CHECK(DeliveryRig::header(sent[1], "X-API-Key") == "tenant-key");
  for (const auto& [name, value] : sent[2].request.request.headers)
    CHECK(name != "X-API-Key");  // no key: no header at all
}

TEST_CASE("a tenant's own URL is sent with the address guard, the operator's without",
          "[delivery_worker]") {
  const bool allow_private = GENERATE(false, true);
  DeliveryRig rig;
  rig.config.allow_private_tenant_targets = allow_private;
  rig.outbox.add(hub_row("operator", "https://hub.operator", "op-key"));
  rig.outbox.add(hub_row("tenant", "https://hub.tenant", "tenant-key"));
  rig.step();
  const auto sent = rig.transport.sent();
  REQUIRE(sent.size() == 2);
  CHECK_FALSE(sent[0].request.guard_address);
  CHECK(sent[1].request.guard_address == !allow_private);
}

TEST_CASE("a refused address fails the delivery at once, naming the address", "[delivery_worker]") {
  DeliveryRig rig;
  rig.outbox.add(hub_row("d1", "https://hub.tenant", ""));
  rig.step();
  rig.transport.refuse(rig.transport.sent().at(0).id, "127.0.0.1 is a loopback address");
  rig.step(10ms);
  const auto attempts = rig.outbox.attempts_of("d1");
  REQUIRE(attempts.size() == 1);
  CHECK(attempts[0].verdict == AttemptVerdict::failed);  // a network error would be retried
  CHECK_FALSE(attempts[0].retry_in);
  CHECK(attempts[0].error.find("127.0.0.1 is a loopback address") != std::string::npos);
  CHECK(attempts[0].error.find("STE_ALLOW_PRIVATE_TENANT_WEBHOOKS") != std::string::npos);
}

TEST_CASE("an attempt's start is wall time and its duration monotonic time", "[delivery_worker]") {
  DeliveryRig rig;
  rig.outbox.add("d1", kFast);
  rig.step();
  const auto started_wall = rig.clock.now();
  rig.clock.set(started_wall - 1h);  // the host's clock is set back mid-request
  rig.clock.advance(1500ms);
  rig.transport.answer(rig.request_of("d1"), 200);
  rig.worker().pump();
  const auto attempts = rig.outbox.attempts_of("d1");
  REQUIRE(attempts.size() == 1);
  CHECK(attempts[0].started == started_wall);
  CHECK(attempts[0].duration_ms == 1500.0);
}
