// The episode timer end to end (docs/ALERTING.md §1): repeat notifications and the catch-up of
// open episodes, with real ingester, evaluators, nats-server, PostgreSQL and webhook receivers.
// The timer runs every second here (STE_NODATA_INTERVAL_S=1); time is moved by moving
// last_notified_at back, never by sleeping.
#include "tests/integration/api_client.hpp"
#include "tests/integration/episode_test_support.hpp"
#include "tests/integration/pipeline_fixture.hpp"
#include "tests/integration/webhook_receiver.hpp"

using namespace ste;
using namespace ste::test;
using namespace std::chrono_literals;

TEST_CASE("A firing episode is notified again after renotify_minutes, by one of two evaluators",
          "[episodes][renotify]") {
  WebhookReceiver hub;
  Pipeline p;
  const TimePoint t0 = test_base_time();
  const std::string rule = p.add_rule("above_threshold", 80, "temperature");
  exec_sql(p.db_url, "UPDATE alert_rules SET renotify_minutes = 1 WHERE id = '" + rule + "'");
  p.start_ingester();
  const Process::Env env{{"STE_NOTIFICATION_HUB_URL", hub.url("")}, {"STE_NODATA_INTERVAL_S", "1"}};
  p.start_evaluator("a", env);
  p.start_evaluator("b", env);
  const auto timer_runs = [&] {
    return p.evaluator_metric("a", "ste_eval_timer_runs_total") +
           p.evaluator_metric("b", "ste_eval_timer_runs_total");
  };
  p.publish("sensors.acme.boiler-1", reading_json("temperature", 90, t0));
  REQUIRE(eventually([&] { return hub.count() == 1; }, 30s));
  // Not due for a minute; instead of waiting, the last notification is moved a minute back.
  const double runs = timer_runs();
  REQUIRE(eventually([&] { return timer_runs() >= runs + 2; }, 30s));
  CHECK(hub.count() == 1);
  exec_sql(p.db_url, "UPDATE alerts SET last_notified_at = now() - interval '61 seconds'");
  REQUIRE(eventually([&] { return hub.count() == 2; }, 30s));
  CHECK(hub_events(hub) ==
        std::vector<std::string>{"sensor.alert.created", "sensor.alert.repeated"});
  // Two more runs of the timer (by either instance): the repeat was sent once, and is not due
  // again for a minute.
  const double after = timer_runs();
  REQUIRE(eventually([&] { return timer_runs() >= after + 2; }, 30s));
  CHECK(events(p, "repeated") == 1);
  CHECK(query_count(p.db_url, "SELECT count(*) FROM deliveries WHERE event = 'repeated'") == 1);
  CHECK(hub.count() == 2);
  const std::string id = query_scalar(p.db_url, "SELECT id FROM alerts");
  CHECK(header_of(hub.received()[1], "Idempotency-Key") == id + ":3");
}

TEST_CASE("An open episode catches up with stored readings no summary applied to it",
          "[episodes][catch_up]") {
  // The race this covers: a clearing tuple is skipped because, when its summary asked, no
  // episode was open yet (another instance was opening it from an older tuple). Its reading is
  // stored; here it is stored directly, the same end state without the timing.
  WebhookReceiver hub;
  Pipeline p;
  const TimePoint t0 = test_base_time();  // ten minutes back: past the catch-up grace already
  p.add_rule("above_threshold", 80, "temperature");
  p.start_ingester();
  p.start_evaluator("a",
                    {{"STE_NOTIFICATION_HUB_URL", hub.url("")}, {"STE_NODATA_INTERVAL_S", "1"}});
  p.publish("sensors.acme.boiler-1", reading_json("temperature", 90, t0));
  REQUIRE(eventually([&] { return status_of(p) == "firing"; }, 30s));
  REQUIRE(eventually([&] { return hub.count() == 1; }, 30s));  // before the resolution exists
  exec_sql(p.db_url,
           fmt::format("INSERT INTO readings (tenant_id, device_id, metric, time, value) SELECT "
                       "tenant_id, id, 'temperature', '{}', 50 FROM devices WHERE device_key = "
                       "'boiler-1'",
                       format_rfc3339_us(t0 + 1s)));
  REQUIRE(eventually([&] { return status_of(p) == "resolved"; }, 30s));
  CHECK(query_scalar(p.db_url, "SELECT resolve_reason || ' ' || last_value FROM alerts") ==
        "cleared 50");
  CHECK(p.evaluator_metric("a", "ste_eval_episodes_caught_up_total") >= 1);
  REQUIRE(eventually([&] { return hub.count() == 2; }, 30s));
  CHECK(hub_events(hub) ==
        std::vector<std::string>{"sensor.alert.created", "sensor.alert.resolved"});
  // Caught up once: the fingerprint has now seen that reading.
  const double runs = p.evaluator_metric("a", "ste_eval_timer_runs_total");
  REQUIRE(eventually(
      [&] { return p.evaluator_metric("a", "ste_eval_timer_runs_total") >= runs + 2; }, 30s));
  CHECK(events(p, "resolved") == 1);
}

TEST_CASE("Repeat notifications stop when the episode is acknowledged", "[episodes][renotify]") {
  WebhookReceiver hub;
  Pipeline p;
  const TimePoint t0 = test_base_time();
  const std::string rule = p.add_rule("above_threshold", 80, "temperature");
  exec_sql(p.db_url, "UPDATE alert_rules SET renotify_minutes = 1 WHERE id = '" + rule + "'");
  p.start_ingester();
  p.start_evaluator("a",
                    {{"STE_NOTIFICATION_HUB_URL", hub.url("")}, {"STE_NODATA_INTERVAL_S", "1"}});
  Api api(p.evaluators["a"].port);
  const auto runs = [&] { return p.evaluator_metric("a", "ste_eval_timer_runs_total"); };
  p.publish("sensors.acme.boiler-1", reading_json("temperature", 90, t0));
  REQUIRE(eventually([&] { return hub.count() == 1; }, 30s));
  const std::string id = query_scalar(p.db_url, "SELECT id FROM alerts");
  exec_sql(p.db_url, "UPDATE alerts SET last_notified_at = now() - interval '61 seconds'");
  REQUIRE(eventually([&] { return hub.count() == 2; }, 30s));  // repeated

  auto ack = api.post("/api/alerts/" + id + "/ack", p.api_key, "{}");
  REQUIRE(ack);
  REQUIRE(ack->status == 200);
  REQUIRE(eventually([&] { return hub.count() == 3; }, 30s));  // acknowledged
  // Due again by the clock, but acknowledged: two more timer runs send nothing.
  exec_sql(p.db_url, "UPDATE alerts SET last_notified_at = now() - interval '10 minutes'");
  const double before = runs();
  REQUIRE(eventually([&] { return runs() >= before + 2; }, 30s));
  CHECK(hub_events(hub) == std::vector<std::string>{"sensor.alert.created", "sensor.alert.repeated",
                                                    "sensor.alert.acknowledged"});
  CHECK(events(p, "repeated") == 1);
  // Un-acknowledged, it repeats again: the ack, not a broken timer, kept it quiet.
  auto unack = api.del("/api/alerts/" + id + "/ack", p.api_key);
  REQUIRE(unack);
  REQUIRE(unack->status == 200);
  REQUIRE(eventually([&] { return events(p, "repeated") == 2; }, 30s));
}
