// DeliveryWorker's scheduling rules (DESIGN §6), driven step by step through pump() with a fake
// outbox, a fake HTTP transport and a ManualClock: the slots, the per-URL cap, the lease, claim
// pacing, outbox failures, and stop(). What each attempt records: delivery_attempt_test.cpp.
#include "evaluator/delivery/delivery_worker.hpp"

#include <catch2/catch.hpp>
#include <chrono>
#include <string>
#include <vector>

#include "tests/unit/support/delivery_rig.hpp"

using namespace std::chrono_literals;
using ste::eval::AttemptVerdict;
using ste::testing::DeliveryRig;
using ste::testing::FakeOutbox;
using ste::testing::kFast;
using ste::testing::kHang;

TEST_CASE("never more than max_in_flight requests are on the wire", "[delivery_worker]") {
  DeliveryRig rig;
  rig.config.max_in_flight = 5;
  for (int i = 0; i < 20; ++i) rig.outbox.add("d" + std::to_string(i), kFast + std::to_string(i));

  rig.step();
  rig.step();
  CHECK(rig.transport.active().size() == 5);
  CHECK(rig.outbox.claims().front().limit == 5);  // never asks for more rows than free slots

  // Two answers free two slots: they are refilled, and no more.
  const auto active = rig.transport.active();
  rig.transport.answer(active[0].id, 200);
  rig.transport.answer(active[1].id, 200);
  rig.step();
  rig.step();
  rig.step();
  CHECK(rig.transport.active().size() == 5);
  CHECK(rig.transport.sent().size() == 7);
  CHECK(rig.transport.max_active() == 5);
}

TEST_CASE("a URL at its per-URL cap is skipped by the next claim while other URLs proceed",
          "[delivery_worker]") {
  DeliveryRig rig;
  rig.config.max_in_flight_per_url = 3;
  // The hanging target's backlog is older than anyone else's: oldest-first alone would give it
  // every slot.
  for (int i = 0; i < 40; ++i) rig.outbox.add("h" + std::to_string(i), kHang);
  for (int i = 0; i < 3; ++i) rig.outbox.add("f" + std::to_string(i), kFast);

  rig.step();
  CHECK(rig.transport.active_to(kHang) == 3);
  rig.step();
  const auto claims = rig.outbox.claims();
  REQUIRE(claims.size() == 2);
  CHECK(claims[0].limit == 3);  // one claim takes at most a URL's cap
  CHECK(claims[1].skip_urls == std::vector<std::string>{kHang});
  CHECK(rig.transport.active_to(kFast) == 3);
  rig.transport.answer_all(kFast, 200);
  rig.step();
  for (int i = 0; i < 3; ++i)
    CHECK(rig.outbox.status("f" + std::to_string(i)) == FakeOutbox::Status::delivered);

  // While the hanging target answers one request now and then, it holds at most 2 x cap - 1
  // slots (below its cap, one claim may add a cap's worth), never all 32.
  for (int round = 0; round < 10; ++round) {
    REQUIRE_FALSE(rig.transport.active().empty());
    rig.transport.answer(rig.transport.active().front().id, 503);
    rig.step();
  }
  CHECK(rig.transport.max_active_to(kHang) > 3);
  CHECK(rig.transport.max_active_to(kHang) <= 2 * 3 - 1);
}

TEST_CASE("the claim's lease outlasts the total timeout", "[delivery_worker]") {
  CHECK(ste::eval::claim_lease(60s, 5000ms) == 60s);
  CHECK(ste::eval::claim_lease(60s, 45000ms) == 75s);
  CHECK(ste::eval::claim_lease(60s, 45001ms) == 76s);  // rounded up, never down

  DeliveryRig rig;
  rig.config.total_timeout = 100s;
  rig.outbox.add("d1", kFast);
  rig.step();
  REQUIRE_FALSE(rig.outbox.claims().empty());
  CHECK(rig.outbox.claims().front().lease == 130s);
  // The row is not due again while the request may still be running.
  CHECK(rig.outbox.next_attempt_at("d1") > rig.clock.now() + rig.config.total_timeout);
}

TEST_CASE("stop lets the requests in flight finish or time out, records them, claims no more",
          "[delivery_worker]") {
  DeliveryRig rig;
  rig.config.max_in_flight = 3;
  rig.config.total_timeout = 5000ms;
  for (int i = 0; i < 5; ++i) rig.outbox.add("d" + std::to_string(i), kHang + std::to_string(i));
  rig.step();
  REQUIRE(rig.transport.active().size() == 3);
  const auto claims_before = rig.outbox.claims().size();

  rig.worker().request_stop();
  rig.transport.answer(rig.request_of("d0"), 200);
  rig.clock.advance(1s);
  CHECK(rig.worker().pump());  // two still in flight
  CHECK(rig.outbox.status("d0") == FakeOutbox::Status::delivered);
  rig.clock.advance(4s);  // the other two reach their timeout
  CHECK_FALSE(rig.worker().pump());

  CHECK(rig.outbox.recorded().size() == 3);
  CHECK(rig.outbox.attempts_of("d1").at(0).verdict == AttemptVerdict::retry);
  CHECK(rig.outbox.attempts_of("d2").at(0).verdict == AttemptVerdict::retry);
  CHECK(rig.outbox.claims().size() == claims_before);  // the two slots freed were not refilled
  CHECK(rig.transport.sent().size() == 3);
}

TEST_CASE("stop() on a running worker returns once its requests in flight have ended",
          "[delivery_worker]") {
  DeliveryRig rig;
  rig.config.total_timeout = 5000ms;
  rig.outbox.add("d1", kHang);
  rig.outbox.add("d2", kFast);
  rig.worker().start();
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  while (rig.transport.active().size() < 2 && std::chrono::steady_clock::now() < deadline)
    rig.transport.poke();  // the fake's wait() returns at once when poked
  REQUIRE(rig.transport.active().size() == 2);

  rig.worker().request_stop();
  rig.transport.answer(rig.request_of("d2"), 200);
  rig.clock.advance(5s);  // d1 times out: only the transport ends it
  rig.transport.poke();
  rig.worker().stop();

  CHECK(rig.outbox.status("d2") == FakeOutbox::Status::delivered);
  REQUIRE(rig.outbox.attempts_of("d1").size() == 1);
  CHECK_FALSE(rig.outbox.attempts_of("d1")[0].http_status);
}

TEST_CASE("claims are paced: idle_poll after an empty claim, 1 s after a failed one",
          "[delivery_worker]") {
  DeliveryRig rig;
  rig.worker().pump();  // nothing due
  REQUIRE(rig.outbox.claims().size() == 1);
  rig.outbox.add("d1", kFast);
  rig.step(249ms);
  CHECK(rig.outbox.claims().size() == 1);
  rig.step(1ms);
  CHECK(rig.transport.sent().size() == 1);

  rig.outbox.add("d2", kFast);
  rig.outbox.fail_next_claims(1);
  rig.step(250ms);  // the claim fails: the worker survives it
  CHECK(rig.transport.sent().size() == 1);
  rig.step(999ms);
  CHECK(rig.transport.sent().size() == 1);
  rig.step(1ms);
  CHECK(rig.transport.sent().size() == 2);
}

TEST_CASE("an attempt that cannot be recorded frees its slot — the row waits for its lease",
          "[delivery_worker]") {
  DeliveryRig rig;
  rig.config.max_in_flight = 1;
  rig.outbox.add("d1", kFast);
  rig.outbox.add("d2", kFast);
  rig.step();
  rig.outbox.set_failing_records(true);
  rig.transport.answer(rig.request_of("d1"), 200);
  rig.step();
  rig.outbox.set_failing_records(false);
  rig.step();
  CHECK(rig.transport.sent().size() == 2);  // d2 took the slot
  CHECK(rig.outbox.status("d1") == FakeOutbox::Status::pending);
  CHECK(rig.outbox.next_attempt_at("d1") > rig.clock.now());  // still leased
}

TEST_CASE("a URL at its in-flight cap is skipped by the next claim, others are not",
          "[delivery_worker]") {
  using ste::eval::saturated_urls;
  // One entry per request in flight: 8 to the hub, 7 to the workflow engine, 9 to another URL.
  std::vector<std::string> in_flight;
  in_flight.insert(in_flight.end(), 8, "http://hub/api/events");
  in_flight.insert(in_flight.end(), 7, "http://wf/hook");
  in_flight.insert(in_flight.end(), 9, "http://other/x");
  CHECK(saturated_urls(in_flight, 8) ==
        std::vector<std::string>{"http://hub/api/events", "http://other/x"});
  CHECK(saturated_urls(in_flight, 10).empty());
  CHECK(saturated_urls({}, 1).empty());
  CHECK(saturated_urls(in_flight, 1).size() == 3);
}
