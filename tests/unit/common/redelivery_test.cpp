#include "common/redelivery.hpp"

#include <catch2/catch.hpp>

using namespace std::chrono_literals;
using ste::RedeliveryPolicy;

TEST_CASE("nak delay starts at one second and doubles per delivery", "[redelivery]") {
  const RedeliveryPolicy p;
  CHECK(ste::nak_delay(p, 1) == 1000ms);
  CHECK(ste::nak_delay(p, 2) == 2000ms);
  CHECK(ste::nak_delay(p, 3) == 4000ms);
  CHECK(ste::nak_delay(p, 4) == 8000ms);
  CHECK(ste::nak_delay(p, 0) == 1000ms);
  CHECK(ste::nak_delay(p, -3) == 1000ms);
}

TEST_CASE("nak delay is capped at the maximum, also for huge delivery counts", "[redelivery]") {
  const RedeliveryPolicy p;
  CHECK(ste::nak_delay(p, 7) == 60000ms);  // 64 s > 60 s
  CHECK(ste::nak_delay(p, 1000) == 60000ms);
  CHECK(ste::nak_delay(p, INT64_MAX) == 60000ms);
  RedeliveryPolicy odd{5, 700ms, 2000ms};
  CHECK(ste::nak_delay(odd, 2) == 1400ms);
  CHECK(ste::nak_delay(odd, 3) == 2000ms);
}

TEST_CASE("a message is exhausted on its max_deliveries-th delivery", "[redelivery]") {
  RedeliveryPolicy p;
  p.max_deliveries = 3;
  CHECK_FALSE(ste::exhausted(p, 1));
  CHECK_FALSE(ste::exhausted(p, 2));
  CHECK(ste::exhausted(p, 3));
  CHECK(ste::exhausted(p, 4));
  p.max_deliveries = 1;  // no retries at all
  CHECK(ste::exhausted(p, 1));
  p.max_deliveries = 0;  // nonsense is treated as 1, never as "forever"
  CHECK(ste::exhausted(p, 1));
}

TEST_CASE("a message without JetStream metadata counts as a first delivery", "[redelivery]") {
  // cnats reads the metadata only from a message a JetStream subscription received; that path is
  // covered by tests/integration/dead_letter_test.cpp (the Ste-Deliveries header).
  natsMsg* plain = nullptr;
  REQUIRE(natsMsg_Create(&plain, "ste.batches.flushed",
                         "$JS.ACK.STE_BATCHES.ste-evaluator.4.17.9.1700000000000000000.0", "x",
                         1) == NATS_OK);
  CHECK(ste::delivery_count(plain) == 1);
  natsMsg_Destroy(plain);
}

TEST_CASE("acknowledgement failures are reported and their log is throttled", "[redelivery]") {
  ste::AckResults results(5s);
  const ste::TimePoint t0{std::chrono::seconds{1'800'000'000}};
  CHECK(results.check(NATS_OK, "ack", t0));
  CHECK_FALSE(results.check(NATS_CONNECTION_CLOSED, "ack", t0));
  CHECK_FALSE(results.should_log(t0 + 1s));  // logged at t0
  CHECK_FALSE(results.should_log(t0 + 4s));
  CHECK(results.should_log(t0 + 5s));
  CHECK_FALSE(results.should_log(t0 + 6s));
}

TEST_CASE("an environment failure is never dead-lettered, only delayed", "[redelivery]") {
  const RedeliveryPolicy p;
  for (std::int64_t n : {1, 4, 5, 6, 100, 100000}) {
    INFO(n);
    const auto a = ste::after_failure(p, ste::FailureCause::environment, n);
    CHECK_FALSE(a.dead_letter);
    CHECK(a.delay == ste::nak_delay(p, n));
  }
}

TEST_CASE("a message's own failure is retried with back-off, then dead-lettered", "[redelivery]") {
  const RedeliveryPolicy p;  // 5 deliveries
  for (std::int64_t n = 1; n < 5; ++n) {
    INFO(n);
    const auto a = ste::after_failure(p, ste::FailureCause::message, n);
    CHECK_FALSE(a.dead_letter);
    CHECK(a.delay == ste::nak_delay(p, n));
  }
  CHECK(ste::after_failure(p, ste::FailureCause::message, 5).dead_letter);
  CHECK(ste::after_failure(p, ste::FailureCause::message, 9).dead_letter);
}
