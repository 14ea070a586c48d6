// Flapping (docs/ALERTING.md §5) and the built-in inhibition (§3) end to end, with the real
// ingester, evaluator, nats-server, PostgreSQL and a webhook receiver. The timer runs every
// second (STE_NODATA_INTERVAL_S=1); time is moved by moving stored times back, never by sleeping.
#include <algorithm>
#include <string>
#include <vector>

#include "tests/integration/api_client.hpp"
#include "tests/integration/episode_test_support.hpp"
#include "tests/integration/pipeline_fixture.hpp"
#include "tests/integration/webhook_receiver.hpp"

using namespace ste;
using namespace ste::test;
using namespace std::chrono_literals;

namespace {

std::vector<std::string> sorted_events(WebhookReceiver& hub) {
  auto e = hub_events(hub);
  std::sort(e.begin(), e.end());
  return e;
}

/// Thirty minutes of a value crossing 80 every minute (device time from `t0`), one message each.
void oscillate(Pipeline& p, TimePoint t0, int from_minute, int minutes) {
  for (int i = from_minute; i < from_minute + minutes; ++i) {
    p.publish("sensors.acme.boiler-1",
              reading_json("temperature", i % 2 == 0 ? 90 : 70, t0 + std::chrono::minutes{i}));
  }
}

/// Every reading of boiler-1 has been evaluated by the evaluator.
void wait_evaluated(Pipeline& p, long long readings) {
  REQUIRE(eventually(
      [&] {
        return query_count(p.db_url, "SELECT count(*) FROM readings") == readings &&
               query_count(p.db_url,
                           "SELECT count(*) FROM alert_fingerprints WHERE seen_until = (SELECT "
                           "max(time) FROM readings)") == 1;
      },
      60s));
}

/// As if the fingerprint's last change were `minutes` ago.
void changes_ago(Pipeline& p, int minutes) {
  exec_sql(p.db_url, fmt::format("UPDATE alert_fingerprints SET flap_changes = "
                                 "ARRAY(SELECT c - interval '{} minutes' FROM unnest(flap_changes) "
                                 "c ORDER BY c)",
                                 minutes));
}

}  // namespace

TEST_CASE(
    "A value oscillating across the threshold every minute gives exactly two "
    "notifications over 30 minutes, then one flapping_ended once it settles",
    "[flapping]") {
  WebhookReceiver hub;
  Pipeline p;
  const TimePoint t0 = std::chrono::time_point_cast<std::chrono::seconds>(SysClock::now() - 40min);
  const std::string rule = p.add_rule("above_threshold", 80, "temperature", 0);
  exec_sql(p.db_url, "UPDATE alert_rules SET flap_changes = 2 WHERE id = '" + rule + "'");
  p.start_ingester();
  p.start_evaluator("a", timer_env(hub));
  oscillate(p, t0, 0, 30);
  wait_evaluated(p, 30);
  REQUIRE(eventually([&] { return hub.count() == 2; }, 30s));
  wait_timer_runs(p, "a", 3);
  CHECK(hub.count() == 2);
  CHECK(sorted_events(hub) ==
        std::vector<std::string>{"sensor.alert.created", "sensor.alert.flapping_started"});
  CHECK(query_scalar(p.db_url, "SELECT flapping FROM alert_fingerprints") == "t");
  CHECK(query_count(p.db_url, "SELECT count(*) FROM alerts WHERE NOT flapping") == 0);

  // Thirty minutes without a change: one flapping_ended, with the state it settled in.
  changes_ago(p, 31);
  REQUIRE(eventually([&] { return hub.count() == 3; }, 30s));
  wait_timer_runs(p, "a", 3);
  CHECK(hub.count() == 3);
  const auto got = hub.received();
  const auto ended = std::find_if(got.begin(), got.end(), [](const Received& r) {
    return r.body.find("sensor.alert.flapping_ended") != std::string::npos;
  });
  REQUIRE(ended != got.end());
  Json body(ended->body);
  CHECK(std::string_view(body["payload"]["status"]) == "resolved");  // the last reading was 70
  CHECK_FALSE(bool(body["payload"]["flapping"]));
  CHECK(query_scalar(p.db_url, "SELECT flapping FROM alert_fingerprints") == "f");
}

TEST_CASE("Flapping state survives an evaluator SIGKILL", "[flapping]") {
  WebhookReceiver hub;
  Pipeline p;
  const TimePoint t0 = std::chrono::time_point_cast<std::chrono::seconds>(SysClock::now() - 50min);
  const std::string rule = p.add_rule("above_threshold", 80, "temperature", 0);
  exec_sql(p.db_url, "UPDATE alert_rules SET flap_changes = 2 WHERE id = '" + rule + "'");
  p.start_ingester();
  p.start_evaluator("a", timer_env(hub));
  oscillate(p, t0, 0, 10);
  wait_evaluated(p, 10);
  REQUIRE(eventually([&] { return hub.count() == 2; }, 30s));
  auto& a = p.evaluators.at("a");
  a.proc->kill();
  REQUIRE(a.proc->wait_exit(30s));
  p.start_evaluator("a", timer_env(hub));
  // Still oscillating: still flapping after the restart, so nothing is notified.
  oscillate(p, t0, 10, 10);
  wait_evaluated(p, 20);
  wait_timer_runs(p, "a", 3);
  CHECK(hub.count() == 2);
  CHECK(query_scalar(p.db_url, "SELECT flapping FROM alert_fingerprints") == "t");
  CHECK(events(p, "flapping_started") == 1);
  changes_ago(p, 31);
  REQUIRE(eventually([&] { return hub.count() == 3; }, 30s));
  wait_timer_runs(p, "a", 3);
  CHECK(hub.count() == 3);
  CHECK(events(p, "flapping_ended") == 1);
}

TEST_CASE("A device's firing no-data episode mutes its other episodes' notifications",
          "[inhibition]") {
  WebhookReceiver hub;
  Pipeline p;
  const TimePoint t0 = test_base_time();
  const std::string hot = p.add_rule("above_threshold", 80, "temperature", 0);
  exec_sql(p.db_url, "UPDATE alert_rules SET renotify_minutes = 1 WHERE id = '" + hot + "'");
  p.start_ingester();
  p.start_evaluator("a", timer_env(hub));
  Api api(p.evaluators.at("a").port);
  auto r = api.post("/api/rules", p.api_key,
                    R"({"name":"dark","metric":"*","condition":"no_data","silent_minutes":5})");
  REQUIRE(r);
  REQUIRE(r->status == 201);
  p.publish("sensors.acme.boiler-1", reading_json("temperature", 90, t0));
  REQUIRE(eventually([&] { return hub.count() == 1; }, 30s));  // created (threshold)

  // The device goes dark for ten minutes: its no-data episode fires and is notified.
  exec_sql(p.db_url,
           "UPDATE devices SET created_at = now() - interval '1 hour', "
           "last_seen_at = now() - interval '10 minutes'; "
           "UPDATE alert_rules SET created_at = now() - interval '1 hour'; "
           "UPDATE nodata_timer SET running_since = now() - interval '1 day'");
  REQUIRE(eventually([&] { return hub.count() == 2; }, 30s));
  // The threshold episode's repeat is due, but its device is dark: the cause is notified, not
  // the symptom.
  exec_sql(p.db_url,
           "UPDATE alerts SET last_notified_at = now() - interval '61 seconds' "
           "WHERE condition = 'above_threshold'");
  wait_timer_runs(p, "a", 3);
  CHECK(hub.count() == 2);
  CHECK(sorted_events(hub) ==
        std::vector<std::string>{"sensor.alert.created", "sensor.alert.created"});
  CHECK(events(p, "repeated") == 0);
  // Back online (still hot): the no-data episode resolves and the repeat goes out.
  p.publish("sensors.acme.boiler-1", reading_json("temperature", 91, t0 + 1s));
  REQUIRE(eventually([&] { return events(p, "repeated") == 1; }, 30s));
  REQUIRE(eventually([&] { return hub.count() == 4; }, 30s));
  CHECK(sorted_events(hub) ==
        std::vector<std::string>{"sensor.alert.created", "sensor.alert.created",
                                 "sensor.alert.repeated", "sensor.alert.resolved"});
}
