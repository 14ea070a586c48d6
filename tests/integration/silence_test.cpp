// Silences end to end (docs/ALERTING.md §3) with the real ingester, evaluator, nats-server,
// PostgreSQL and a webhook receiver: what a silence mutes and what it does not, what is sent
// when it ends, preview, tenant isolation and roles. The timer runs every second here
// (STE_NODATA_INTERVAL_S=1); time is moved by moving last_notified_at back, never by sleeping.
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

std::string str(simdjson::dom::element e) { return std::string(std::string_view(e)); }

/// A silence for the next hour with `matchers` (JSON array); returns its id.
std::string create_silence(Api& api, const std::string& key, const std::string& matchers) {
  auto r = api.post("/api/silences", key,
                    R"({"matchers":)" + matchers + R"(,"ends_at":")" +
                        format_rfc3339_ms(SysClock::now() + std::chrono::hours{1}) +
                        R"(","comment":"boiler maintenance"})");
  REQUIRE(r);
  INFO(r->body);
  REQUIRE(r->status == 201);
  Json j(r->body);
  CHECK(str(j["status"]) == "active");
  return str(j["id"]);
}

std::vector<std::string> silenced_by(Api& api, const std::string& key, const std::string& id) {
  auto r = api.get("/api/alerts/" + id, key);
  REQUIRE(r);
  REQUIRE(r->status == 200);
  Json j(r->body);
  std::vector<std::string> out;
  for (auto s : j["silenced_by"].get_array()) out.push_back(str(s));
  return out;
}

std::string alert_of(Pipeline& p, const std::string& device) {
  return query_scalar(
      p.db_url,
      "SELECT coalesce(max(id::text), '') FROM alerts WHERE device_key = '" + device + "'");
}

}  // namespace

TEST_CASE(
    "A silence created while an episode fires mutes its repeats — its resolution is "
    "notified because its firing was",
    "[silences]") {
  WebhookReceiver hub;
  Pipeline p;
  const TimePoint t0 = test_base_time();
  const std::string rule = p.add_rule("above_threshold", 80, "temperature", 0);
  exec_sql(p.db_url, "UPDATE alert_rules SET renotify_minutes = 1 WHERE id = '" + rule + "'");
  p.start_ingester();
  p.start_evaluator("a", timer_env(hub));
  Api api(p.evaluators.at("a").port);
  p.publish("sensors.acme.boiler-1", reading_json("temperature", 90, t0));
  REQUIRE(eventually([&] { return hub.count() == 1; }, 30s));
  const std::string id = alert_of(p, "boiler-1");

  const std::string silence =
      create_silence(api, p.api_key, R"([{"field":"device","op":"=","value":"boiler-1"}])");
  CHECK(silenced_by(api, p.api_key, id) == std::vector<std::string>{silence});
  // A repeat is due, but the episode is silenced: none goes out.
  exec_sql(p.db_url, "UPDATE alerts SET last_notified_at = now() - interval '61 seconds'");
  wait_timer_runs(p, "a", 3);
  CHECK(hub.count() == 1);
  CHECK(events(p, "repeated") == 0);
  // It clears while silenced: the resolution goes out, since the firing did.
  p.publish("sensors.acme.boiler-1", reading_json("temperature", 70, t0 + 1s));
  REQUIRE(eventually([&] { return hub.count() == 2; }, 30s));
  CHECK(hub_events(hub) ==
        std::vector<std::string>{"sensor.alert.created", "sensor.alert.resolved"});
  CHECK(silenced_by(api, p.api_key, id).empty());  // closed: silenced by nothing
}

TEST_CASE(
    "An episode that fired while silenced is notified when the silence ends — one that "
    "resolved while silenced never is",
    "[silences]") {
  WebhookReceiver hub;
  Pipeline p;
  const TimePoint t0 = test_base_time();
  p.add_rule("above_threshold", 80, "temperature", 0);
  p.start_ingester();
  p.start_evaluator("a", timer_env(hub));
  Api api(p.evaluators.at("a").port);
  const std::string silence =
      create_silence(api, p.api_key, R"([{"field":"device","op":"=~","value":"boiler-.*"}])");
  p.publish("sensors.acme.boiler-1", reading_json("temperature", 90, t0));
  p.publish("sensors.acme.boiler-2", reading_json("temperature", 91, t0));
  REQUIRE(eventually([&] { return status_of(p) == "firing,firing"; }, 30s));
  p.publish("sensors.acme.boiler-2", reading_json("temperature", 70, t0 + 1s));
  REQUIRE(eventually([&] { return status_of(p, "device_key = 'boiler-2'") == "resolved"; }, 30s));
  wait_timer_runs(p, "a", 3);
  CHECK(hub.count() == 0);
  CHECK(query_count(p.db_url,
                    "SELECT count(*) FROM alert_events WHERE kind = "
                    "'notification_suppressed' AND detail->>'reason' LIKE 'silenced by " +
                        silence + "%'") == 2);
  // The silence ends (expired now): boiler-1, still firing, is notified; boiler-2 is not.
  auto r = api.del("/api/silences/" + silence, p.api_key);
  REQUIRE(r);
  REQUIRE(r->status == 200);
  CHECK(str(Json(r->body)["status"]) == "expired");
  REQUIRE(eventually([&] { return hub.count() == 1; }, 30s));
  wait_timer_runs(p, "a", 3);
  CHECK(hub.count() == 1);
  const auto got = hub.received();
  CHECK(hub_events(hub) == std::vector<std::string>{"sensor.alert.created"});
  const std::string id = alert_of(p, "boiler-1");
  const std::string seq = query_scalar(
      p.db_url, "SELECT seq FROM alert_events WHERE kind = 'unmuted' AND alert_id = '" + id + "'");
  CHECK(header_of(got[0], "Idempotency-Key") == id + ":" + seq);
  CHECK(query_scalar(p.db_url, "SELECT notified FROM alerts WHERE id = '" + id + "'") == "t");
}

TEST_CASE(
    "A silence that runs out by itself over a firing episode lets its notification out "
    "within a timer interval",
    "[silences]") {
  WebhookReceiver hub;
  Pipeline p;
  const TimePoint t0 = test_base_time();
  p.add_rule("above_threshold", 80, "temperature", 0);
  p.start_ingester();
  p.start_evaluator("a", timer_env(hub));
  Api api(p.evaluators.at("a").port);
  const std::string silence =
      create_silence(api, p.api_key, R"([{"field":"device","op":"=","value":"boiler-1"}])");
  p.publish("sensors.acme.boiler-1", reading_json("temperature", 90, t0));
  REQUIRE(eventually([&] { return status_of(p) == "firing"; }, 30s));
  CHECK(query_scalar(p.db_url, "SELECT muted FROM alerts") == "t");
  // The silence now runs out by itself in two seconds (no DELETE).
  exec_sql(p.db_url, "UPDATE silences SET ends_at = now() + interval '2 seconds'");
  const std::string ends = query_scalar(p.db_url, "SELECT ends_at FROM silences");
  REQUIRE(eventually([&] { return hub.count() == 1; }, 30s));
  // Sent by the timer after the end (timeline 'unmuted'), once.
  CHECK(query_count(p.db_url,
                    "SELECT count(*) FROM alert_events WHERE kind = 'unmuted' AND "
                    "at >= '" +
                        ends + "'") == 1);
  auto got = api.get("/api/silences/" + silence, p.api_key);
  REQUIRE(got);
  CHECK(std::string_view(Json(got->body)["status"]) == "expired");
  wait_timer_runs(p, "a", 3);
  CHECK(hub.count() == 1);
  CHECK(hub_events(hub) == std::vector<std::string>{"sensor.alert.created"});
}

TEST_CASE("A silence never reaches another tenant, however broad its regex", "[silences]") {
  WebhookReceiver hub;
  Pipeline p;
  const TimePoint t0 = test_base_time();
  p.add_rule("above_threshold", 80, "temperature", 0);
  const std::string other = p.create_tenant("other");
  p.start_ingester();
  p.start_evaluator("a", timer_env(hub));
  Api api(p.evaluators.at("a").port);
  create_silence(api, other, R"([{"field":"device","op":"=~","value":".*"}])");
  p.publish("sensors.acme.boiler-1", reading_json("temperature", 90, t0));
  REQUIRE(eventually([&] { return hub.count() == 1; }, 30s));
  CHECK(silenced_by(api, p.api_key, alert_of(p, "boiler-1")).empty());
  auto r = api.post("/api/silences/preview", other,
                    R"({"matchers":[{"field":"device","op":"=~","value":".*"}]})");
  REQUIRE(r);
  REQUIRE(r->status == 200);
  CHECK(Json(r->body)["alerts"].get_array().size() == 0);
  // Nor can it be read or expired from the other tenant.
  auto mine = api.get("/api/silences", p.api_key);
  REQUIRE(mine);
  CHECK(Json(mine->body)["silences"].get_array().size() == 0);
}

TEST_CASE("A viewer key cannot create, preview or expire a silence — it can read them",
          "[silences]") {
  Pipeline p;
  p.start_evaluator("a");
  Api api(p.evaluators.at("a").port);
  auto k = api.post("/api/keys", p.api_key, R"({"name":"wall","role":"viewer"})");
  REQUIRE(k);
  REQUIRE(k->status == 201);
  const std::string viewer = str(Json(k->body)["key"]);
  const std::string silence =
      create_silence(api, p.api_key, R"([{"field":"severity","op":"=","value":"info"}])");
  const std::string body = R"({"matchers":[{"field":"device","op":"=","value":"a"}],"ends_at":")" +
                           format_rfc3339_ms(SysClock::now() + std::chrono::hours{1}) +
                           R"(","comment":"x"})";
  check_error(api.post("/api/silences", viewer, body), 403, "forbidden", "wall");
  check_error(api.post("/api/silences/preview", viewer,
                       R"({"matchers":[{"field":"device","op":"=","value":"a"}]})"),
              403, "forbidden", "wall");
  check_error(api.del("/api/silences/" + silence, viewer), 403, "forbidden", "wall");
  auto r = api.get("/api/silences/" + silence, viewer);
  REQUIRE(r);
  CHECK(r->status == 200);
  Json j(r->body);
  CHECK(str(j["created_by"]) == "default");
  CHECK(str(j["comment"]) == "boiler maintenance");
  CHECK(str(j["matchers"].at(0)["field"]) == "severity");
  check_error(api.get("/api/silences/00000000-0000-4000-8000-000000000000", viewer), 404,
              "not_found", "no silence with id");
  // A regex PostgreSQL cannot compile is refused by name before anything is stored.
  check_error(api.post("/api/silences", p.api_key,
                       R"({"matchers":[{"field":"device","op":"=","value":"a"},)"
                       R"({"field":"metric","op":"=~","value":"temp(("}],"ends_at":")" +
                           format_rfc3339_ms(SysClock::now() + std::chrono::hours{1}) +
                           R"(","comment":"x"})"),
              422, "invalid_field", "matchers[1].value is not a valid regular expression");
  CHECK(query_count(p.db_url, "SELECT count(*) FROM silences") == 1);
}

TEST_CASE("Preview lists exactly the open episodes a silence would match", "[silences]") {
  Pipeline p;
  const TimePoint t0 = test_base_time();
  p.add_rule("above_threshold", 80, "temperature", 0);
  p.start_ingester();
  p.start_evaluator("a");
  Api api(p.evaluators.at("a").port);
  for (const char* d : {"boiler-1", "boiler-2", "boiler-3", "pump-1"}) {
    p.publish(std::string("sensors.acme.") + d, reading_json("temperature", 90, t0));
  }
  REQUIRE(eventually([&] { return p.alerts() == 4; }, 30s));
  p.publish("sensors.acme.boiler-3", reading_json("temperature", 70, t0 + 1s));
  REQUIRE(eventually([&] { return status_of(p, "device_key = 'boiler-3'") == "resolved"; }, 30s));
  const auto preview = [&](const std::string& matchers) {
    auto r = api.post("/api/silences/preview", p.api_key, R"({"matchers":)" + matchers + "}");
    REQUIRE(r);
    INFO(r->body);
    REQUIRE(r->status == 200);
    std::vector<std::string> devices;
    const Json j(r->body);
    for (auto a : j["alerts"].get_array()) devices.push_back(str(a["device"]));
    std::sort(devices.begin(), devices.end());
    return devices;
  };
  CHECK(preview(R"([{"field":"device","op":"=~","value":"boiler-.*"}])") ==
        std::vector<std::string>{"boiler-1", "boiler-2"});
  // Anchored: "boiler" alone matches no device; != and !~ exclude.
  CHECK(preview(R"([{"field":"device","op":"=~","value":"boiler"}])").empty());
  CHECK(preview(R"([{"field":"device","op":"!~","value":"boiler-.*"}])") ==
        std::vector<std::string>{"pump-1"});
  CHECK(preview(R"([{"field":"metric","op":"=","value":"temperature"},)"
                R"({"field":"device","op":"!=","value":"boiler-1"}])") ==
        std::vector<std::string>{"boiler-2", "pump-1"});
  CHECK(preview(R"([{"field":"severity","op":"=","value":"critical"}])").size() == 3);
  CHECK(preview(R"([{"field":"severity","op":"=","value":"info"}])").empty());
}
