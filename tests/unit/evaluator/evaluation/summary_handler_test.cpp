#include "evaluator/evaluation/summary_handler.hpp"

#include <prometheus/registry.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <functional>
#include <stdexcept>
#include <string>
#include <string_view>

#include "common/nats_client.hpp"
#include "common/pg_connection.hpp"
#include "tests/unit/support/fake_pg_error.hpp"
#include "tests/unit/support/fake_settler.hpp"

using ste::ManualClock;
using ste::NatsError;
using ste::RedeliveryPolicy;
using ste::eval::EvalMetrics;
using ste::eval::Summary;
using ste::eval::SummaryDelivery;
using ste::eval::SummaryHandler;
using ste::testing::FakeSettler;
using ste::testing::pg_error;
using ste::testing::Settlement;
using namespace std::chrono_literals;

namespace {

constexpr std::string_view kSummary =
    R"({"batch_id":"5f0c1d3e-8b7a-4c2e-9f10-0a1b2c3d4e5f","flushed_at":"2026-11-28T11:00:05.123Z",)"
    R"("readings":7,"tuples":[)"
    R"({"tenant_id":1,"device_id":42,"tenant":"acme","device":"boiler-7","metric":"temperature",)"
    R"("last":21.5,"last_ts":"2026-11-28T11:00:04.000001Z","min":-20.9,)"
    R"("min_ts":"2026-11-28T10:59:58.123456Z","max":23,"max_ts":"2026-11-28T11:00:01.999999Z",)"
    R"("count":7}]})";
constexpr std::string_view kUndecodable = R"({"batch_id":"b","tuples":)";

struct Msg {
  explicit Msg(std::string_view body = kSummary)
      : m(ste::testing::make_message("ste.batches.flushed", body)) {}
  ~Msg() { natsMsg_Destroy(m); }
  Msg(const Msg&) = delete;
  Msg& operator=(const Msg&) = delete;
  natsMsg* m;
};

/// A SummaryHandler whose evaluation runs `fail` (nothing: it succeeds), with a FakeSettler, the
/// default redelivery policy (5 deliveries, 1 s doubling up to 60 s) and a ManualClock.
struct Fixture {
  explicit Fixture(SummaryDelivery delivery = SummaryDelivery::at_least_once)
      : handler(
            [this](const Summary& s) {
              ++evaluated;
              last_batch = s.batch_id;
              if (fail) fail();
            },
            settler, policy, metrics, clock, delivery) {}
  prometheus::Registry registry;
  EvalMetrics metrics{registry};
  FakeSettler settler;
  RedeliveryPolicy policy;
  ManualClock clock;
  std::function<void()> fail;
  int evaluated = 0;
  std::string last_batch;
  SummaryHandler handler;
};

double errors_total(const EvalMetrics& m) {
  return m.errors_database.Value() + m.errors_evaluation.Value() + m.errors_bad_summary.Value();
}

}  // namespace

TEST_CASE("an evaluated summary is acked", "[summary_handler]") {
  Fixture f;
  Msg msg;

  f.handler.on_message(msg.m);

  CHECK(f.evaluated == 1);
  CHECK(f.last_batch == "5f0c1d3e-8b7a-4c2e-9f10-0a1b2c3d4e5f");
  REQUIRE(f.settler.of(msg.m).size() == 1);
  CHECK(f.settler.last(msg.m).kind == Settlement::Kind::ack);
  CHECK(f.metrics.summaries.Value() == 1);
  CHECK(errors_total(f.metrics) == 0);
}

TEST_CASE("an undecodable summary is dead-lettered at once and never nak'd", "[summary_handler]") {
  Fixture f;
  Msg msg(kUndecodable);
  f.settler.set_deliveries(msg.m, 1);  // its first delivery: no retry is spent on it

  f.handler.on_message(msg.m);

  CHECK(f.evaluated == 0);
  REQUIRE(f.settler.of(msg.m).size() == 1);
  const Settlement s = f.settler.last(msg.m);
  CHECK(s.kind == Settlement::Kind::dead_letter);
  CHECK(s.reason == "undecodable");
  CHECK_FALSE(s.detail.empty());  // the parser's error names what is wrong
  CHECK(f.settler.count(Settlement::Kind::nak) == 0);
  CHECK(f.metrics.errors_bad_summary.Value() == 1);
  CHECK(f.metrics.dead_lettered_undecodable.Value() == 1);
  CHECK(f.metrics.summaries.Value() == 0);
}

TEST_CASE("a database away is nak'd with the back-off forever and never dead-lettered",
          "[summary_handler]") {
  Fixture f;
  f.fail = [] { throw pg_error("08006", /*connection_lost=*/true); };
  Msg msg;
  const std::pair<std::int64_t, std::chrono::milliseconds> deliveries[] = {
      {1, 1s}, {2, 2s}, {3, 4s}, {5, 16s}, {6, 32s}, {7, 60s}, {50, 60s}, {100000, 60s}};

  for (const auto& [delivery, delay] : deliveries) {
    f.settler.set_deliveries(msg.m, delivery);
    f.handler.on_message(msg.m);
    CHECK(f.settler.last(msg.m).kind == Settlement::Kind::nak);
    CHECK(f.settler.last(msg.m).delay == delay);
  }

  CHECK(f.settler.count(Settlement::Kind::dead_letter) == 0);
  CHECK(f.metrics.errors_database.Value() == static_cast<double>(std::size(deliveries)));
  CHECK(f.metrics.errors_evaluation.Value() == 0);
  CHECK(f.metrics.dead_lettered_failed.Value() == 0);
}

TEST_CASE("every environmental SQLSTATE class counts as the database away", "[summary_handler]") {
  const std::string sqlstate =
      GENERATE(as<std::string>{}, "08006", "40001", "42P01", "53300", "55P03", "57014", "58030");
  Fixture f;
  f.fail = [&] { throw pg_error(sqlstate); };
  Msg msg;
  // The last delivery a summary's own failure gets: an environment failure is nak'd even there.
  f.settler.set_deliveries(msg.m, f.policy.max_deliveries);

  f.handler.on_message(msg.m);

  CAPTURE(sqlstate);
  CHECK(f.settler.last(msg.m).kind == Settlement::Kind::nak);
  CHECK(f.metrics.errors_database.Value() == 1);
  CHECK(f.metrics.errors_evaluation.Value() == 0);
}

TEST_CASE("NATS away is nak'd like the database away and never dead-lettered",
          "[summary_handler]") {
  Fixture f;
  f.fail = [] {
    throw NatsError("publish ste.alerts.acme: no connection", NATS_CONNECTION_CLOSED);
  };
  Msg msg;
  f.settler.set_deliveries(msg.m, 100);

  f.handler.on_message(msg.m);

  CHECK(f.settler.last(msg.m).kind == Settlement::Kind::nak);
  CHECK(f.settler.last(msg.m).delay == 60s);
  CHECK(f.settler.count(Settlement::Kind::dead_letter) == 0);
  CHECK(f.metrics.errors_database.Value() == 1);
  CHECK(f.metrics.errors_evaluation.Value() == 0);
}

TEST_CASE("a summary's own failure is nak'd with growing delay, then dead-lettered with the error",
          "[summary_handler]") {
  const std::string which = GENERATE(as<std::string>{}, "sqlstate", "exception");
  Fixture f;
  std::string error;
  if (which == "sqlstate") {
    error = "fake database error 23514";  // a check violation: the data's fault
    f.fail = [] { throw pg_error("23514"); };
  } else {
    error = "tuple 3: impossible window";
    f.fail = [] { throw std::runtime_error("tuple 3: impossible window"); };
  }
  Msg msg;
  CAPTURE(which);

  std::chrono::milliseconds previous{0};
  for (std::int64_t delivery = 1; delivery < f.policy.max_deliveries; ++delivery) {
    f.settler.set_deliveries(msg.m, delivery);
    f.handler.on_message(msg.m);
    const Settlement s = f.settler.last(msg.m);
    CHECK(s.kind == Settlement::Kind::nak);
    CHECK(s.delay > previous);
    previous = s.delay;
  }
  CHECK(f.settler.count(Settlement::Kind::dead_letter) == 0);

  f.settler.set_deliveries(msg.m, f.policy.max_deliveries);  // STE_MAX_DELIVERIES reached
  f.handler.on_message(msg.m);

  const Settlement s = f.settler.last(msg.m);
  CHECK(s.kind == Settlement::Kind::dead_letter);
  CHECK(s.reason == "evaluation_failed");
  CHECK(s.detail == error);
  CHECK(f.metrics.dead_lettered_failed.Value() == 1);
  CHECK(f.metrics.errors_evaluation.Value() == f.policy.max_deliveries);
  CHECK(f.metrics.errors_database.Value() == 0);
}

TEST_CASE("a dead letter that cannot be published is nak'd with the first delay",
          "[summary_handler]") {
  Fixture f;
  f.settler.dead_letter_throws = true;
  f.fail = [] { throw std::runtime_error("bad summary"); };
  Msg failing;
  Msg undecodable(kUndecodable);
  f.settler.set_deliveries(failing.m, f.policy.max_deliveries);  // its back-off would be 16 s
  f.settler.set_deliveries(undecodable.m, 3);                    // its back-off would be 4 s

  f.handler.on_message(failing.m);
  f.handler.on_message(undecodable.m);

  for (natsMsg* m : {failing.m, undecodable.m}) {
    CHECK(f.settler.last(m).kind == Settlement::Kind::nak);
    CHECK(f.settler.last(m).delay == f.policy.first_delay);
  }
  CHECK(f.metrics.errors_dead_letter.Value() == 2);
  CHECK(f.metrics.dead_lettered_failed.Value() == 0);
  CHECK(f.metrics.dead_lettered_undecodable.Value() == 0);
}

TEST_CASE("errors are counted by kind: database, evaluation, bad summary", "[summary_handler]") {
  Fixture f;
  Msg db_away, own_failure, undecodable(kUndecodable), fine;

  f.fail = [] { throw pg_error("57P01", /*connection_lost=*/true); };
  f.handler.on_message(db_away.m);
  f.fail = [] { throw pg_error("22012"); };  // division by zero: the summary's own
  f.handler.on_message(own_failure.m);
  f.fail = nullptr;
  f.handler.on_message(undecodable.m);
  f.handler.on_message(fine.m);

  CHECK(f.metrics.errors_database.Value() == 1);
  CHECK(f.metrics.errors_evaluation.Value() == 1);
  CHECK(f.metrics.errors_bad_summary.Value() == 1);
  CHECK(f.metrics.summaries.Value() == 1);
}

TEST_CASE("an ack, nak or term the broker refused is counted by op", "[summary_handler]") {
  Fixture f;
  f.settler.fail_all = true;
  Msg acked, nakd, termed(kUndecodable);

  f.handler.on_message(acked.m);
  f.fail = [] { throw pg_error("08006", true); };
  f.handler.on_message(nakd.m);
  f.handler.on_message(termed.m);

  CHECK(f.metrics.ack_failures_ack.Value() == 1);
  CHECK(f.metrics.ack_failures_nak.Value() == 1);
  CHECK(f.metrics.ack_failures_term.Value() == 1);
}

TEST_CASE("at most once (core NATS) nothing is settled and an undecodable summary is dropped",
          "[summary_handler]") {
  Fixture f(SummaryDelivery::at_most_once);
  Msg fine, failing, undecodable(kUndecodable);
  f.settler.set_deliveries(failing.m, 100);

  f.handler.on_message(fine.m);
  f.fail = [] { throw std::runtime_error("bad summary"); };
  f.handler.on_message(failing.m);
  f.handler.on_message(undecodable.m);

  CHECK(f.settler.of(fine.m).empty());
  CHECK(f.settler.of(failing.m).empty());
  CHECK(f.settler.of(undecodable.m).empty());
  CHECK(f.metrics.summaries.Value() == 1);
  CHECK(f.metrics.errors_evaluation.Value() == 1);
  CHECK(f.metrics.errors_bad_summary.Value() == 1);
  CHECK(f.metrics.dead_lettered_undecodable.Value() == 0);
  CHECK(f.metrics.dead_lettered_failed.Value() == 0);
}

TEST_CASE("evaluation time is measured on the monotonic clock", "[summary_handler]") {
  Fixture f;
  f.fail = [&] {
    f.clock.set(f.clock.now() - 1h);  // the host's clock is set back mid-evaluation
    f.clock.advance(250ms);
  };
  Msg msg;

  f.handler.on_message(msg.m);

  const auto collected = f.metrics.eval_seconds.Collect();
  CHECK(collected.histogram.sample_count == 1);
  CHECK(collected.histogram.sample_sum == Approx(0.25));
}
