// No-data rules end to end (docs/ALERTING.md §4) with the real ste-ingester, ste-evaluator(s),
// nats-server, PostgreSQL and a webhook receiver. The timer runs every second here
// (STE_NODATA_INTERVAL_S=1). Time is moved by moving timestamps back (devices and rules created,
// received times, the no-data watch in nodata_timer), never by sleeping; "after N timer runs" is
// read from the evaluator's ste_eval_timer_runs_total, which counts a run after its no-data part.
#include <set>
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

std::string create_rule(Api& api, const std::string& key, const std::string& body) {
  auto r = api.post("/api/rules", key, body);
  REQUIRE(r);
  INFO(r->body);
  REQUIRE(r->status == 201);
  Json j(r->body);
  return std::string(std::string_view(j["id"]));
}

void register_devices(Api& api, const std::string& key, const std::vector<std::string>& devices) {
  JsonWriter w;
  w.begin_object().key("devices").begin_array();
  for (const auto& d : devices) w.value(d);
  w.end_array().end_object();
  auto r = api.post("/api/devices", key, w.take());
  REQUIRE(r);
  INFO(r->body);
  REQUIRE(r->status < 300);
}

/// As if the evaluators had watched for no data for a day: the start-up guard is not what a test
/// is about unless it says so.
void watched_for_a_day(Pipeline& p) {
  REQUIRE(eventually(
      [&] { return query_count(p.db_url, "SELECT count(*) FROM nodata_timer") == 1; }, 30s));
  exec_sql(p.db_url, "UPDATE nodata_timer SET running_since = now() - interval '1 day'");
}

/// Devices and rules created `minutes` ago.
void created_ago(Pipeline& p, int minutes) {
  exec_sql(p.db_url,
           fmt::format("UPDATE devices SET created_at = now() - interval '{} minutes'; "
                       "UPDATE alert_rules SET created_at = now() - interval '{} minutes'",
                       minutes, minutes));
}

/// The devices with a no-data episode in `status` (comma list in device order).
std::string devices_with(Pipeline& p, const std::string& status) {
  return query_scalar(p.db_url,
                      "SELECT coalesce(string_agg(device_key, ',' ORDER BY device_key), "
                      "'') FROM alerts WHERE condition = 'no_data' AND status = '" +
                          status + "'");
}

bool received(Pipeline& p, const std::string& device) {
  return query_count(p.db_url, "SELECT count(*) FROM devices WHERE device_key = '" + device +
                                   "' AND last_seen_at > now() - interval '1 minute'") == 1;
}

/// Devices `key_format` 0..n-1 each send one reading; waits until all n have been received.
void report_once(Pipeline& p, const char* key_format, int n) {
  for (int i = 0; i < n; ++i) {
    p.publish("sensors.acme." + fmt::format(fmt::runtime(key_format), i),
              now_reading("temperature", i));
  }
  REQUIRE(eventually(
      [&] {
        return query_count(p.db_url,
                           "SELECT count(*) FROM devices WHERE last_seen_at IS NOT NULL") == n;
      },
      30s));
}

double held(Pipeline& p, const std::string& evaluator, const std::string& reason) {
  return p.evaluator_metric(evaluator, "ste_eval_nodata_held{reason=\"" + reason + "\"}");
}

std::size_t count_of(const std::string& text, const std::string& needle) {
  std::size_t n = 0;
  for (auto at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) ++n;
  return n;
}

}  // namespace

TEST_CASE(
    "A device registered and never heard from fires after silent_minutes — a reading "
    "resolves it",
    "[no_data]") {
  WebhookReceiver hub;
  Pipeline p;
  p.start_ingester();
  p.start_evaluator("a", timer_env(hub));
  Api api(p.evaluators.at("a").port);
  register_devices(api, p.api_key, {"quiet-1"});
  p.publish("sensors.acme.chatty-1", now_reading("temperature", 20));
  REQUIRE(eventually([&] { return received(p, "chatty-1"); }, 30s));

  auto r = api.post("/api/rules", p.api_key,
                    R"({"name":"went quiet","metric":"*","condition":"no_data",)"
                    R"("silent_minutes":5,"severity":"critical"})");
  REQUIRE(r);
  INFO(r->body);
  REQUIRE(r->status == 201);
  Json rule(r->body);
  CHECK(rule["threshold"].is_null());
  CHECK(int64_t(rule["silent_minutes"]) == 5);
  CHECK(std::string_view(rule["metric"]) == "*");

  // Everything was created just now: nobody has been silent for 5 minutes.
  watched_for_a_day(p);
  wait_timer_runs(p, "a", 3);
  CHECK(p.alerts() == 0);

  // Six minutes later, as far as the database can tell: quiet-1 never reported; chatty-1 did.
  created_ago(p, 6);
  REQUIRE(eventually([&] { return devices_with(p, "firing") == "quiet-1"; }, 30s));
  REQUIRE(eventually([&] { return hub.count() == 1; }, 30s));
  wait_timer_runs(p, "a", 2);
  CHECK(p.alerts() == 1);
  CHECK(hub_events(hub) == std::vector<std::string>{"sensor.alert.created"});
  {
    Json body(hub.received()[0].body);
    const auto a = body["payload"];
    CHECK(std::string_view(a["condition"]) == "no_data");
    CHECK(std::string_view(a["metric"]) == "*");
    CHECK(std::string_view(a["device"]) == "quiet-1");
    CHECK(double(a["threshold"]) == 5);
    CHECK(double(a["value"]) >= 6);
    CHECK(double(a["value"]) < 7);
    CHECK(std::string_view(a["message"]) ==
          "quiet-1 sent no reading for 6 minutes (silent_minutes 5)");
    CHECK(std::string_view(a["status"]) == "firing");
  }

  // It reports: resolved (cleared) at the received time, with one resolved notification.
  p.publish("sensors.acme.quiet-1", now_reading("temperature", 21));
  REQUIRE(eventually([&] { return devices_with(p, "resolved") == "quiet-1"; }, 30s));
  CHECK(query_scalar(p.db_url, "SELECT resolve_reason FROM alerts") == "cleared");
  REQUIRE(eventually([&] { return hub.count() == 2; }, 30s));
  CHECK(hub_events(hub) ==
        std::vector<std::string>{"sensor.alert.created", "sensor.alert.resolved"});
  CHECK(query_scalar(p.db_url, "SELECT string_agg(kind, ',' ORDER BY seq) FROM alert_events") ==
        "opened,fired,resolved");
  // Heard from now: no new episode.
  wait_timer_runs(p, "a", 2);
  CHECK(p.alerts() == 1);
  CHECK(p.evaluator_metric("a", "ste_eval_nodata_fired_total") == 1);
  CHECK(p.evaluator_metric("a", "ste_eval_nodata_resolved_total") == 1);
}

TEST_CASE("A batch of old readings (device clock an hour behind) counts as activity", "[no_data]") {
  WebhookReceiver hub;
  Pipeline p;
  p.start_ingester();
  p.start_evaluator("a", timer_env(hub));
  Api api(p.evaluators.at("a").port);
  register_devices(api, p.api_key, {"dead-1"});
  const TimePoint hour_ago =
      std::chrono::time_point_cast<std::chrono::seconds>(SysClock::now() - 1h);
  for (int i = 0; i < 10; ++i) {
    p.publish("sensors.acme.skewed-1",
              reading_json("temperature", 20 + i, hour_ago + std::chrono::seconds{i}));
  }
  REQUIRE(eventually([&] { return received(p, "skewed-1"); }, 30s));
  const std::string rule =
      create_rule(api, p.api_key,
                  R"({"name":"went quiet","metric":"temperature","condition":"no_data",)"
                  R"("silent_minutes":5})");
  watched_for_a_day(p);
  created_ago(p, 6);
  // dead-1 fires (the timer works); skewed-1's newest reading is an hour old by its own clock,
  // but was received now.
  REQUIRE(eventually([&] { return devices_with(p, "firing") == "dead-1"; }, 30s));
  wait_timer_runs(p, "a", 3);
  CHECK(devices_with(p, "firing") == "dead-1");
  CHECK(p.alerts() == 1);

  // Allowing 10 minutes of silence changes what the rule watches: the episode resolves as
  // rule_changed, and dead-1 (silent for 6) is not raised again.
  auto r = api.put("/api/rules/" + rule, p.api_key,
                   R"({"name":"went quiet","metric":"temperature","condition":"no_data",)"
                   R"("silent_minutes":10})");
  REQUIRE(r);
  INFO(r->body);
  REQUIRE(r->status == 200);
  CHECK(query_scalar(p.db_url, "SELECT status || ' ' || resolve_reason FROM alerts") ==
        "resolved rule_changed");
  wait_timer_runs(p, "a", 3);
  CHECK(p.alerts() == 1);
}

TEST_CASE("An evaluator restarted after 30 minutes down raises no burst", "[no_data]") {
  WebhookReceiver hub;
  Pipeline p;
  p.start_ingester();
  constexpr int kDevices = 20;
  report_once(p, "dev-{:02}", kDevices);
  p.start_evaluator("a", timer_env(hub));
  {
    Api api(p.evaluators.at("a").port);
    create_rule(api, p.api_key,
                R"({"name":"went quiet","metric":"*","condition":"no_data","silent_minutes":5})");
  }
  REQUIRE(eventually(
      [&] { return query_count(p.db_url, "SELECT count(*) FROM nodata_timer") == 1; }, 30s));
  auto& a = p.evaluators.at("a");
  a.proc->terminate();
  REQUIRE(a.proc->wait_exit(30s));

  // Thirty minutes of everything down, as the database sees it: the last readings and the last
  // timer run are 30 minutes old; devices and the rule are old.
  exec_sql(p.db_url,
           "UPDATE devices SET created_at = now() - interval '2 hours', "
           "last_seen_at = now() - interval '30 minutes'; "
           "UPDATE series_activity SET last_received_at = now() - interval '30 minutes'; "
           "UPDATE alert_rules SET created_at = now() - interval '2 hours'; "
           "UPDATE nodata_timer SET running_since = now() - interval '3 hours', "
           "last_run_at = now() - interval '30 minutes'");
  p.start_evaluator("a", timer_env(hub));
  // Every device looks silent, but the watch has just started again: all held, none raised.
  REQUIRE(eventually([&] { return held(p, "a", "starting") == kDevices; }, 30s));
  wait_timer_runs(p, "a", 3);
  CHECK(p.alerts() == 0);
  CHECK(held(p, "a", "starting") == kDevices);

  // The fleet reports again, except dev-07, before silent_minutes of watching have passed.
  for (int i = 0; i < kDevices; ++i) {
    if (i != 7) p.publish(fmt::format("sensors.acme.dev-{:02}", i), now_reading("temperature", i));
  }
  REQUIRE(eventually(
      [&] {
        return query_count(p.db_url,
                           "SELECT count(*) FROM devices WHERE last_seen_at > now() - "
                           "interval '1 minute'") == kDevices - 1;
      },
      30s));
  wait_timer_runs(p, "a", 2);
  CHECK(p.alerts() == 0);
  CHECK(held(p, "a", "starting") == 1);
  // Five minutes of watching later: only the device that stayed silent fires.
  exec_sql(p.db_url, "UPDATE nodata_timer SET running_since = now() - interval '6 minutes'");
  REQUIRE(eventually([&] { return devices_with(p, "firing") == "dev-07"; }, 30s));
  wait_timer_runs(p, "a", 2);
  CHECK(p.alerts() == 1);
  CHECK(held(p, "a", "starting") == 0);
  const std::string log = read_file(p.evaluators.at("a").log);
  INFO(log_tail(p.evaluators.at("a").log));
  CHECK(count_of(log, "\"no-data alerts held back\"") == 1);  // once, not once per run
  CHECK(count_of(log, "silent_minutes (5)") == 1);
  CHECK(count_of(log, "\"no-data alerts no longer held back\"") == 1);
}

TEST_CASE("A SENSORS backlog above the limit holds no-data alerts back until it drains",
          "[no_data]") {
  WebhookReceiver hub;
  Pipeline p;
  p.start_ingester();
  constexpr int kLive = 5;
  report_once(p, "live-{}", kLive);
  p.start_evaluator("a", timer_env(hub, {{"STE_NODATA_MAX_LAG", "50"}}));
  Api api(p.evaluators.at("a").port);
  register_devices(api, p.api_key, {"dead-1"});
  create_rule(api, p.api_key,
              R"({"name":"went quiet","metric":"*","condition":"no_data","silent_minutes":5})");

  // The ingester stops; 100 readings queue up in SENSORS, round-robin over the live devices, so
  // any 50 of them stored include every live device.
  p.ingester->terminate();
  REQUIRE(p.ingester->wait_exit(30s));
  for (int n = 0; n < 100; ++n) {
    p.publish(fmt::format("sensors.acme.live-{}", n % kLive), now_reading("temperature", n));
  }
  // Ten minutes on: every device looks silent, the live ones only because their readings wait.
  exec_sql(p.db_url,
           "UPDATE devices SET created_at = now() - interval '2 hours', "
           "last_seen_at = CASE WHEN last_seen_at IS NULL THEN NULL "
           "ELSE now() - interval '10 minutes' END; "
           "UPDATE alert_rules SET created_at = now() - interval '2 hours'");
  watched_for_a_day(p);
  REQUIRE(eventually([&] { return held(p, "a", "backlog") == kLive + 1; }, 30s));
  wait_timer_runs(p, "a", 3);
  CHECK(p.alerts() == 0);
  {
    const std::string log = read_file(p.evaluators.at("a").log);
    INFO(log_tail(p.evaluators.at("a").log));
    CHECK(log.find("the ingester's SENSORS backlog is 100 messages, above STE_NODATA_MAX_LAG 50") !=
          std::string::npos);
  }

  // The ingester drains the backlog: the live devices are heard from, dead-1 fires alone.
  p.start_ingester();
  REQUIRE(eventually([&] { return devices_with(p, "firing") == "dead-1"; }, 30s));
  wait_timer_runs(p, "a", 2);
  CHECK(p.alerts() == 1);
  CHECK(held(p, "a", "backlog") == 0);
  CHECK(query_count(p.db_url,
                    "SELECT count(*) FROM devices WHERE last_seen_at > now() - "
                    "interval '1 minute'") == kLive);
}

TEST_CASE("Two evaluators never both raise the same no-data episode", "[no_data]") {
  WebhookReceiver hub;
  Pipeline p;
  p.start_ingester();
  p.start_evaluator("a", timer_env(hub));
  p.start_evaluator("b", timer_env(hub));
  Api api(p.evaluators.at("a").port);
  constexpr int kDevices = 200;
  std::vector<std::string> devices;
  for (int i = 0; i < kDevices; ++i) devices.push_back(fmt::format("never-{:03}", i));
  register_devices(api, p.api_key, devices);
  create_rule(api, p.api_key,
              R"({"name":"went quiet","metric":"*","condition":"no_data","silent_minutes":5})");
  watched_for_a_day(p);
  created_ago(p, 6);
  REQUIRE(eventually([&] { return p.alerts() == kDevices; }, 60s));
  REQUIRE(eventually([&] { return hub.count() == kDevices; }, 60s));
  wait_timer_runs(p, "a", 2);
  wait_timer_runs(p, "b", 2);
  CHECK(p.alerts() == kDevices);
  CHECK(query_count(p.db_url, "SELECT count(DISTINCT device_id) FROM alerts") == kDevices);
  CHECK(query_count(p.db_url, "SELECT count(*) FROM deliveries") == kDevices);
  CHECK(events(p, "fired") == kDevices);
  std::set<std::string> keys;  // Idempotency-Key "<alert id>:<seq>": one per transition
  for (const auto& r : hub.received()) keys.insert(header_of(r, "Idempotency-Key"));
  CHECK(keys.size() == kDevices);
  CHECK(p.evaluator_metric("a", "ste_eval_nodata_fired_total") +
            p.evaluator_metric("b", "ste_eval_nodata_fired_total") ==
        kDevices);
}

TEST_CASE(
    "A per-series rule fires for the silent metric only while the device's other metrics "
    "keep reporting",
    "[no_data]") {
  WebhookReceiver hub;
  Pipeline p;
  p.start_ingester();
  p.start_evaluator("a", timer_env(hub));
  Api api(p.evaluators.at("a").port);
  // boiler-1 reports temperature but its humidity sensor is dead; boiler-2 reports both.
  p.publish("sensors.acme.boiler-1", now_reading("temperature", 20));
  p.publish("sensors.acme.boiler-2",
            R"([{"metric":"temperature","value":20},{"metric":"humidity","value":40}])");
  REQUIRE(eventually(
      [&] { return query_count(p.db_url, "SELECT count(*) FROM series_activity") == 3; }, 30s));
  create_rule(api, p.api_key,
              R"({"name":"humidity quiet","metric":"humidity","condition":"no_data",)"
              R"("silent_minutes":5})");
  watched_for_a_day(p);
  created_ago(p, 6);
  REQUIRE(eventually([&] { return devices_with(p, "firing") == "boiler-1"; }, 30s));
  CHECK(query_scalar(p.db_url, "SELECT metric || ' / ' || message FROM alerts") ==
        "humidity / boiler-1 sent no humidity reading for 6 minutes (silent_minutes 5)");
  // Temperature keeps coming: still firing for humidity.
  p.publish("sensors.acme.boiler-1", now_reading("temperature", 21, 1000ms));
  wait_timer_runs(p, "a", 3);
  CHECK(devices_with(p, "firing") == "boiler-1");
  CHECK(p.alerts() == 1);
  // The humidity sensor is back: resolved.
  p.publish("sensors.acme.boiler-1", now_reading("humidity", 41));
  REQUIRE(eventually([&] { return devices_with(p, "resolved") == "boiler-1"; }, 30s));
  CHECK(p.alerts() == 1);
}
