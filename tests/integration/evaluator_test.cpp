// ste-evaluator end to end: real ingester, real evaluator(s), real nats-server and PostgreSQL.
#include <mutex>

#include "tests/integration/pipeline_fixture.hpp"

using namespace ste;
using namespace ste::test;
using namespace std::chrono_literals;

namespace {
/// Collects the JSON events published on a core subject.
struct EventSink {
  explicit EventSink(NatsClient& c, const std::string& subject) {
    REQUIRE(natsConnection_Subscribe(
                &sub, c.conn(), subject.c_str(),
                [](natsConnection*, natsSubscription*, natsMsg* m, void* self) {
                  auto* s = static_cast<EventSink*>(self);
                  std::lock_guard lock(s->mu);
                  s->events.emplace_back(natsMsg_GetData(m), natsMsg_GetDataLength(m));
                  natsMsg_Destroy(m);
                },
                this) == NATS_OK);
    c.flush(2s);
  }
  ~EventSink() { natsSubscription_Destroy(sub); }
  size_t count() {
    std::lock_guard lock(mu);
    return events.size();
  }
  std::string at(size_t i) {
    std::lock_guard lock(mu);
    return events.at(i);
  }
  natsSubscription* sub = nullptr;
  std::mutex mu;
  std::vector<std::string> events;
};

}  // namespace

TEST_CASE(
    "A threshold crossing gives exactly one alert with every field, its NATS event and outbox rows",
    "[evaluator]") {
  Pipeline p;
  const std::string rule_id = p.add_rule("above_threshold", 80, "temperature");
  p.start_ingester();
  p.start_evaluator("a", {{"STE_NOTIFICATION_HUB_URL", "http://127.0.0.1:1/hub"},
                          {"STE_WORKFLOW_ENGINE_URL", "http://127.0.0.1:1/wf"}});
  EventSink sink(*p.client, "ste.alerts.acme");
  p.publish("sensors.acme.boiler-7", now_reading("temperature", 93.2));
  REQUIRE(eventually([&] { return p.alerts() == 1; }, 30s));
  REQUIRE(eventually([&] { return sink.count() == 1; }, 10s));

  simdjson::dom::parser parser;
  simdjson::dom::element ev = parser.parse(sink.at(0));
  for (const char* key :
       {"id", "rule_id", "tenant", "device", "metric", "condition", "threshold", "value",
        "reading_ts", "mean", "stddev", "severity", "message", "created_at"}) {
    INFO(key);
    CHECK(ev[key].error() == simdjson::SUCCESS);
  }
  CHECK(std::string_view(ev["rule_id"]) == rule_id);
  CHECK(std::string_view(ev["tenant"]) == "acme");
  CHECK(std::string_view(ev["device"]) == "boiler-7");
  CHECK(std::string_view(ev["metric"]) == "temperature");
  CHECK(std::string_view(ev["condition"]) == "above_threshold");
  CHECK(double(ev["threshold"]) == 80.0);
  CHECK(double(ev["value"]) == 93.2);
  CHECK(ev["mean"].is_null());
  CHECK(std::string_view(ev["severity"]) == "critical");
  CHECK(std::string_view(ev["message"]) == "temperature 93.2 above 80 on boiler-7");
  CHECK(std::string(std::string_view(ev["id"])) == query_scalar(p.db_url, "SELECT id FROM alerts"));
  CHECK(query_count(p.db_url, "SELECT count(*) FROM deliveries WHERE status = 'pending'") == 2);
  CHECK(query_scalar(p.db_url, "SELECT string_agg(target, ',' ORDER BY target) FROM deliveries") ==
        "notification_hub,workflow_engine");
}

TEST_CASE("A spike followed by a normal reading in the same message still fires", "[evaluator]") {
  Pipeline p;
  p.add_rule("above_threshold", 80, "temperature");
  p.start_ingester();
  p.start_evaluator("a");
  p.publish("sensors.acme.boiler-1", "[" + now_reading("temperature", 95, -2ms) + "," +
                                         now_reading("temperature", 21, -1ms) + "]");
  REQUIRE(eventually([&] { return p.alerts() == 1; }, 30s));
  CHECK(query_scalar(p.db_url, "SELECT value FROM alerts") == "95");
}

TEST_CASE("Deviation from the mean fires over 12 minutes of history and not over 3",
          "[evaluator]") {
  Pipeline p;
  p.add_rule("deviation_from_mean", 3, "flow", 15, 60);
  p.start_ingester();
  p.start_evaluator("a");
  const auto minute_now = std::chrono::floor<std::chrono::minutes>(SysClock::now());
  auto history = [&](const std::string& device, int minutes) {
    std::string arr = "[";
    for (int m = minutes; m >= 1; --m) {
      for (int k = 0; k < 3; ++k) {
        if (arr.size() > 1) arr += ",";
        const double v = 20.0 + (m % 3 - 1) * 0.5 + (k - 1) * 0.2;  // around 20
        arr += reading_json("flow", v,
                            minute_now - std::chrono::minutes{m} + std::chrono::seconds{10 * k});
      }
    }
    p.publish("sensors.acme." + device, arr + "]");
  };
  history("long", 12);
  history("short", 3);
  REQUIRE(p.wait_rows(45));
  REQUIRE(
      eventually([&] { return p.evaluator_metric("a", "ste_eval_summaries_total") >= 1; }, 30s));
  const double skipped_before = p.evaluator_metric("a", "ste_eval_skipped_few_buckets_total");

  p.publish("sensors.acme.long", now_reading("flow", 40));
  p.publish("sensors.acme.short", now_reading("flow", 40));
  REQUIRE(eventually([&] { return p.alerts() == 1; }, 30s));
  // The short history was evaluated and skipped, not forgotten.
  REQUIRE(eventually(
      [&] {
        return p.evaluator_metric("a", "ste_eval_skipped_few_buckets_total") > skipped_before;
      },
      30s));
  CHECK(p.alerts() == 1);
  CHECK(query_scalar(p.db_url, "SELECT device_key FROM alerts") == "long");
  const double mean = std::stod(query_scalar(p.db_url, "SELECT mean FROM alerts"));
  CHECK(mean == Approx(20.0).margin(0.5));
  CHECK(query_scalar(p.db_url, "SELECT value FROM alerts") == "40");
}

TEST_CASE("Crossings while an episode fires update it rather than raise another, across a SIGKILL",
          "[evaluator]") {
  Pipeline p;
  p.add_rule("above_threshold", 80, "temperature", /*cooldown_minutes=*/15);
  p.start_ingester();
  p.start_evaluator("a");
  const auto last_value = [&] {
    return query_scalar(p.db_url, "SELECT coalesce(max(last_value), 0) FROM alerts");
  };
  p.publish("sensors.acme.boiler-2", now_reading("temperature", 90));
  REQUIRE(eventually([&] { return p.alerts() == 1; }, 30s));
  p.publish("sensors.acme.boiler-2", now_reading("temperature", 91, 1ms));
  REQUIRE(eventually([&] { return last_value() == "91"; }, 30s));
  p.evaluators["a"].proc->kill();
  REQUIRE(p.evaluators["a"].proc->wait_exit(10s));
  p.start_evaluator("a");
  p.publish("sensors.acme.boiler-2", now_reading("temperature", 92, 2ms));
  REQUIRE(eventually([&] { return last_value() == "92"; }, 30s));
  CHECK(p.alerts() == 1);
  CHECK(query_scalar(p.db_url, "SELECT status || ' ' || value || ' ' || peak_value FROM alerts") ==
        "firing 90 92");
  CHECK(query_count(p.db_url, "SELECT count(*) FROM alert_events WHERE kind = 'fired'") == 1);
}

TEST_CASE("Two evaluator instances racing on the same rule and device produce exactly one alert",
          "[evaluator]") {
  Pipeline p;
  p.add_rule("above_threshold", 80, "temperature", 15);
  p.start_ingester({{"STE_BATCH_SIZE", "1"}, {"STE_BATCH_INTERVAL_MS", "1"}});
  p.start_evaluator("a");
  p.start_evaluator("b");
  // Keep crossing the threshold until both instances have evaluated a summary: whether the
  // shared durable consumer hands the first summaries to one instance or both depends on which
  // pull request is waiting, so the race is made certain by publishing until it has happened.
  auto evaluated_by = [&](const char* name) {
    return p.evaluator_metric(name, "ste_eval_summaries_total");
  };
  int crossings = 0;
  const bool both_took_part = eventually(
      [&] {
        for (int k = 0; k < 10; ++k, ++crossings) {
          p.publish("sensors.acme.boiler-3", now_reading("temperature", 100 + crossings,
                                                         std::chrono::milliseconds{crossings}));
        }
        return evaluated_by("a") > 0 && evaluated_by("b") > 0;
      },
      60s, 200ms);
  INFO("crossings published: " << crossings);
  REQUIRE(both_took_part);
  REQUIRE(p.wait_rows(crossings));
  // Wait until every batch summary has been evaluated by one of the two instances.
  REQUIRE(eventually(
      [&] {
        const double batches =
            Pipeline::metric(p.ingester_port, "ste_ingest_batches_total{result=\"ok\"}");
        return batches > 0 && evaluated_by("a") + evaluated_by("b") == batches;
      },
      60s));
  CHECK(p.alerts() == 1);
}

TEST_CASE("Summaries published while no evaluator runs are evaluated once one starts",
          "[evaluator]") {
  Pipeline p;
  p.add_rule("below_threshold", 5, "pressure", 0);
  p.start_ingester();
  p.start_evaluator("a");  // creates the durable consumer, then goes away
  p.evaluators["a"].proc->terminate();
  REQUIRE(p.evaluators["a"].proc->wait_exit(20s));
  p.publish("sensors.acme.pump-1", now_reading("pressure", 1.5));
  p.publish("sensors.acme.pump-2", now_reading("pressure", 2.5));
  REQUIRE(p.wait_rows(2));
  CHECK(p.alerts() == 0);
  p.start_evaluator("a");
  REQUIRE(eventually([&] { return p.alerts() == 2; }, 30s));
}

TEST_CASE("A rule created while the evaluator runs applies within a second", "[evaluator]") {
  Pipeline p;
  p.start_ingester();
  p.start_evaluator("a");
  REQUIRE(p.evaluator_metric("a", "ste_eval_rules") == 0);
  p.add_rule("above_threshold", 10, "level");
  CHECK(eventually([&] { return p.evaluator_metric("a", "ste_eval_rules") == 1; }, 1s));
  p.publish("sensors.acme.tank", now_reading("level", 11));
  REQUIRE(eventually([&] { return p.alerts() == 1; }, 30s));
}
