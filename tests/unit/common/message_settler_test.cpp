#include "common/message_settler.hpp"

#include <catch2/catch.hpp>

#include "tests/unit/support/fake_settler.hpp"

using namespace std::chrono_literals;
using ste::FailureCause;
using ste::FailureSettlement;
using ste::RedeliveryPolicy;
using ste::testing::FakeSettler;
using ste::testing::Settlement;

namespace {
struct Msg {
  natsMsg* m = ste::testing::make_message("sensors.acme.d1", "{}");
  ~Msg() { natsMsg_Destroy(m); }
};
}  // namespace

TEST_CASE("a message failing for its own reasons is nak'd with back-off until its last delivery",
          "[settler]") {
  FakeSettler settler;
  Msg msg;
  RedeliveryPolicy policy;  // 5 deliveries, 1 s doubling
  for (std::int64_t delivery = 1; delivery < policy.max_deliveries; ++delivery) {
    settler.set_deliveries(msg.m, delivery);
    const auto s =
        ste::settle_failure(settler, msg.m, policy, FailureCause::message, "bad", "detail");
    CHECK(s.kind == FailureSettlement::Kind::nakd);
    CHECK(s.deliveries == delivery);
    CHECK(s.delay == ste::nak_delay(policy, delivery));
    CHECK(settler.last(msg.m).kind == Settlement::Kind::nak);
    CHECK(settler.last(msg.m).delay == s.delay);
  }
  settler.set_deliveries(msg.m, policy.max_deliveries);
  const auto s =
      ste::settle_failure(settler, msg.m, policy, FailureCause::message, "bad", "the error");
  CHECK(s.kind == FailureSettlement::Kind::dead_lettered);
  CHECK(settler.last(msg.m).kind == Settlement::Kind::dead_letter);
  CHECK(settler.last(msg.m).reason == "bad");
  CHECK(settler.last(msg.m).detail == "the error");
  CHECK(settler.count(Settlement::Kind::dead_letter) == 1);
}

TEST_CASE("an environment failure is never dead-lettered, however many deliveries", "[settler]") {
  FakeSettler settler;
  Msg msg;
  RedeliveryPolicy policy;
  for (std::int64_t delivery : {1, 5, 6, 100, 100000}) {
    settler.set_deliveries(msg.m, delivery);
    const auto s =
        ste::settle_failure(settler, msg.m, policy, FailureCause::environment, "x", "db away");
    CHECK(s.kind == FailureSettlement::Kind::nakd);
    CHECK(s.delay == ste::nak_delay(policy, delivery));
  }
  // Even when the caller asks for a dead letter now: an outage must lose nothing.
  const auto forced = ste::settle_failure(settler, msg.m, policy, FailureCause::environment, "x",
                                          "db away", /*dead_letter_now=*/true);
  CHECK(forced.kind == FailureSettlement::Kind::nakd);
  CHECK(settler.count(Settlement::Kind::dead_letter) == 0);
}

TEST_CASE("a message that can never succeed is dead-lettered on its first delivery", "[settler]") {
  FakeSettler settler;
  Msg msg;
  const auto s = ste::settle_failure(settler, msg.m, RedeliveryPolicy{}, FailureCause::message,
                                     "undecodable", "not json", /*dead_letter_now=*/true);
  CHECK(s.kind == FailureSettlement::Kind::dead_lettered);
  CHECK(s.deliveries == 1);
  REQUIRE(settler.of(msg.m).size() == 1);
  CHECK(settler.last(msg.m).reason == "undecodable");
}

TEST_CASE("a dead letter STE_DEAD refuses is nak'd with the first delay: nothing is lost",
          "[settler]") {
  FakeSettler settler;
  settler.dead_letter_throws = true;
  Msg msg;
  RedeliveryPolicy policy;
  policy.first_delay = 700ms;
  settler.set_deliveries(msg.m, policy.max_deliveries);
  const auto s = ste::settle_failure(settler, msg.m, policy, FailureCause::message, "bad", "e");
  CHECK(s.kind == FailureSettlement::Kind::dead_letter_failed);
  CHECK(s.delay == 700ms);
  CHECK_FALSE(s.dead_letter_error.empty());
  CHECK(settler.last(msg.m).kind == Settlement::Kind::nak);
  CHECK(settler.last(msg.m).delay == 700ms);
}

TEST_CASE("a refused nak is reported so the caller can count it", "[settler]") {
  FakeSettler settler;
  settler.fail_all = true;
  Msg msg;
  const auto s =
      ste::settle_failure(settler, msg.m, RedeliveryPolicy{}, FailureCause::environment, "x", "y");
  CHECK(s.kind == FailureSettlement::Kind::nakd);
  CHECK_FALSE(s.broker_told);
}

TEST_CASE("the core settler has nothing to settle and never dead-letters", "[settler]") {
  ste::CoreSettler core;
  Msg msg;
  CHECK(core.ack(msg.m));
  CHECK(core.nak(msg.m, 1s));
  CHECK(core.in_progress(msg.m));
  CHECK_FALSE(core.dead_letter(msg.m, "r", "d"));
  CHECK(core.deliveries(msg.m) == 1);
}
