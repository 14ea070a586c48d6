// The HTTP API against the real ste-evaluator, PostgreSQL and nats-server.
#include <atomic>
#include <set>
#include <thread>

#include "tests/integration/api_client.hpp"
#include "tests/integration/pipeline_fixture.hpp"

using namespace ste;
using namespace ste::test;
using namespace std::chrono_literals;

namespace {

constexpr const char* kAdminKey = "admin-key-for-tests";

constexpr const char* kRuleBody =
    R"({"name":"hot","metric":"temperature","condition":"above_threshold","threshold":80,"cooldown_minutes":0})";

}  // namespace

TEST_CASE("Every endpoint answers its success path", "[api]") {
  Pipeline p;
  p.start_ingester();
  p.start_evaluator("a", {{"STE_ADMIN_API_KEY", kAdminKey},
                          {"STE_WORKFLOW_ENGINE_URL", "http://127.0.0.1:1/wf"}});
  Api api(p.evaluators["a"].port);
  const std::string key = p.api_key;

  // Rules: create, list, read, replace.
  auto created = api.post("/api/rules", key, kRuleBody);
  REQUIRE(created);
  INFO(created->body);
  REQUIRE(created->status == 201);
  Json rule(created->body);
  const std::string id{std::string_view(rule["id"])};
  CHECK(std::string_view(rule["severity"]) == "warning");
  CHECK(int64_t(rule["window_minutes"]) == 60);
  CHECK(rule["device"].is_null());
  CHECK(Json(api.get("/api/rules", key)->body)["rules"].get_array().size() == 1);
  CHECK(api.get("/api/rules/" + id, key)->status == 200);
  auto replaced = api.put(
      "/api/rules/" + id, key,
      R"({"name":"hotter","metric":"temperature","condition":"above_threshold","threshold":85,"cooldown_minutes":0,"severity":"critical"})");
  REQUIRE(replaced->status == 200);
  CHECK(double(Json(replaced->body)["threshold"]) == 85.0);

  // A reading crosses the rule: devices, readings (raw and 1m) and alerts appear.
  p.publish("sensors.acme.boiler-1", now_reading("temperature", 90));
  REQUIRE(eventually([&] { return p.alerts() == 1; }, 30s));
  Json devices(api.get("/api/devices", key)->body);
  REQUIRE(devices["devices"].get_array().size() == 1);
  CHECK(std::string_view(devices["devices"].at(0)["device"]) == "boiler-1");
  Json raw(api.get("/api/devices/boiler-1/readings?metric=temperature", key)->body);
  REQUIRE(raw["readings"].get_array().size() == 1);
  CHECK(double(raw["readings"].at(0)["value"]) == 90.0);
  Json buckets(api.get("/api/devices/boiler-1/readings?resolution=1m", key)->body);
  REQUIRE(buckets["buckets"].get_array().size() == 1);
  CHECK(int64_t(buckets["buckets"].at(0)["count"]) == 1);
  CHECK(double(buckets["buckets"].at(0)["avg"]) == 90.0);

  Json alerts(api.get("/api/alerts", key)->body);
  REQUIRE(alerts["alerts"].get_array().size() == 1);
  CHECK(alerts["next_cursor"].is_null());
  const std::string alert_id{std::string_view(alerts["alerts"].at(0)["id"])};
  CHECK(std::string_view(alerts["alerts"].at(0)["rule_id"]) == id);
  auto one = api.get("/api/alerts/" + alert_id, key);
  REQUIRE(one->status == 200);
  Json detail(one->body);
  REQUIRE(detail["deliveries"].get_array().size() == 1);
  CHECK(std::string_view(detail["deliveries"].at(0)["target"]) == "workflow_engine");
  CHECK(eventually(
      [&] {
        return Json(api.get("/api/alerts/" + alert_id, key)->body)["deliveries"]
                   .at(0)["attempt_log"]
                   .get_array()
                   .size() >= 1;
      },
      20s));
  CHECK(Json(api.get("/api/alerts?device=boiler-1&metric=temperature&rule_id=" + id, key)
                 ->body)["alerts"]
            .get_array()
            .size() == 1);
  CHECK(Json(api.get("/api/alerts?device=other", key)->body)["alerts"].get_array().size() == 0);

  // Integrations: secrets are write-only.
  auto put = api.put(
      "/api/integrations", key,
      R"({"workflow_engine_url":"https://wf.example/hook","workflow_engine_secret":"s3cret"})");
  REQUIRE(put->status == 200);
  Json integ(api.get("/api/integrations", key)->body);
  CHECK(std::string_view(integ["workflow_engine_url"]) == "https://wf.example/hook");
  CHECK(bool(integ["workflow_engine_secret_set"]));
  CHECK(!bool(integ["notification_hub_api_key_set"]));
  CHECK(integ.text.find("s3cret") == std::string::npos);

  // Admin: a new tenant whose key works right away (Bearer form too).
  httplib::Client admin("127.0.0.1", p.evaluators["a"].port);
  auto t = admin.Post("/admin/tenants", {{"X-API-Key", kAdminKey}},
                      R"({"slug":"globex","name":"Globex"})", "application/json");
  REQUIRE(t);
  REQUIRE(t->status == 201);
  const std::string new_key{std::string_view(Json(t->body)["api_key"])};
  auto bearer = admin.Get("/api/rules", {{"Authorization", "Bearer " + new_key}});
  REQUIRE(bearer->status == 200);
  CHECK(Json(bearer->body)["rules"].get_array().size() == 0);

  CHECK(api.del("/api/rules/" + id, key)->status == 204);
  CHECK(api.get("/api/rules/" + id, key)->status == 404);
  CHECK(api.client.Get("/healthz")->status == 200);
  CHECK(api.client.Get("/readyz")->status == 200);
  CHECK(api.client.Get("/metrics")->body.find("ste_eval_summaries_total") != std::string::npos);
}

TEST_CASE("Every error status comes with a message that names the problem", "[api]") {
  Pipeline p;
  p.start_evaluator("a", {{"STE_ADMIN_API_KEY", kAdminKey}});
  Api api(p.evaluators["a"].port);
  const std::string key = p.api_key;
  check_error(api.post("/api/rules", key, R"({"name": )"), 400, "malformed_json", "not valid JSON");
  check_error(api.post("/api/rules", key, "[1]"), 400, "malformed_json", "object");
  check_error(api.client.Get("/api/rules"), 401, "unauthorized", "API key");
  check_error(api.get("/api/rules", "ste_wrong"), 401, "unauthorized", "API key");
  check_error(api.get("/api/rules/3f1c2d4e-0000-4000-8000-000000000000", key), 404, "not_found",
              "rule");
  check_error(api.get("/api/nothing-here", key), 404, "not_found", "/api/nothing-here");
  check_error(
      api.post(
          "/api/rules", key,
          R"({"name":"n","metric":"m","condition":"deviation_from_mean","threshold":3,"window_minutes":0})"),
      422, "invalid_field", "window_minutes must be an integer 1..1440");
  check_error(api.post("/api/rules", key,
                       R"({"name":"n","metric":"m","condition":"sideways","threshold":3})"),
              422, "invalid_field", "condition");
  check_error(
      api.post("/api/rules", key, R"({"name":"n","metric":"m","condition":"above_threshold"})"),
      422, "invalid_field", "threshold");
  check_error(
      api.post(
          "/api/rules", key,
          R"({"name":"n","metric":"m","condition":"above_threshold","threshold":1,"colour":"red"})"),
      422, "unknown_field", "colour");
  check_error(api.get("/api/alerts?limit=501", key), 422, "invalid_field", "limit");
  check_error(api.get("/api/alerts?cursor=garbage", key), 422, "invalid_field", "cursor");
  check_error(api.get("/api/alerts?since=yesterday", key), 422, "invalid_field", "since");
  check_error(api.post("/api/rules", key, std::string(1024 * 1024 + 10, ' ')), 413, "too_large",
              "STE_API_MAX_BODY_BYTES");
  httplib::Client admin("127.0.0.1", p.evaluators["a"].port);
  check_error(admin.Post("/admin/tenants", {{"X-API-Key", kAdminKey}}, R"({"slug":"acme"})",
                         "application/json"),
              409, "conflict", "acme");
  check_error(
      admin.Post("/admin/tenants", {{"X-API-Key", "nope"}}, R"({"slug":"x"})", "application/json"),
      401, "unauthorized", "admin");
  check_error(admin.Post("/admin/tenants", {{"X-API-Key", kAdminKey}}, R"({"slug":"Bad Slug"})",
                         "application/json"),
              422, "invalid_field", "slug");
}

TEST_CASE("No endpoint lets one tenant read, change or delete another tenant's data", "[api]") {
  Pipeline p;
  const std::string other_key = p.create_tenant("globex");
  p.start_ingester();
  p.start_evaluator("a");
  Api api(p.evaluators["a"].port);
  auto created = api.post("/api/rules", p.api_key, kRuleBody);
  REQUIRE(created->status == 201);
  const std::string rule_id{std::string_view(Json(created->body)["id"])};
  REQUIRE(
      api.put("/api/integrations", p.api_key, R"({"notification_hub_url":"https://acme.example"})")
          ->status == 200);
  p.publish("sensors.acme.boiler-1", now_reading("temperature", 99));
  REQUIRE(eventually([&] { return p.alerts() == 1; }, 30s));
  const std::string alert_id = query_scalar(p.db_url, "SELECT id FROM alerts");

  // Another tenant's ids answer exactly like ids that do not exist, even with a bad body.
  check_error(api.get("/api/rules/" + rule_id, other_key), 404, "not_found", "rule");
  check_error(api.put("/api/rules/" + rule_id, other_key, "{not json"), 404, "not_found", "rule");
  check_error(api.put("/api/rules/" + rule_id, other_key, kRuleBody), 404, "not_found", "rule");
  check_error(api.del("/api/rules/" + rule_id, other_key), 404, "not_found", "rule");
  check_error(api.get("/api/alerts/" + alert_id, other_key), 404, "not_found", "alert");
  check_error(api.get("/api/devices/boiler-1/readings", other_key), 404, "not_found", "device");
  CHECK(Json(api.get("/api/rules", other_key)->body)["rules"].get_array().size() == 0);
  CHECK(Json(api.get("/api/alerts", other_key)->body)["alerts"].get_array().size() == 0);
  CHECK(Json(api.get("/api/alerts?rule_id=" + rule_id, other_key)->body)["alerts"]
            .get_array()
            .size() == 0);
  CHECK(Json(api.get("/api/devices", other_key)->body)["devices"].get_array().size() == 0);
  CHECK(Json(api.get("/api/integrations", other_key)->body)["notification_hub_url"].is_null());
  // Writing its own integrations does not touch the first tenant's.
  REQUIRE(api.put("/api/integrations", other_key,
                  R"({"notification_hub_url":"https://globex.example"})")
              ->status == 200);
  CHECK(std::string_view(
            Json(api.get("/api/integrations", p.api_key)->body)["notification_hub_url"]) ==
        "https://acme.example");
  // Nothing of the first tenant changed.
  CHECK(api.get("/api/rules/" + rule_id, p.api_key)->status == 200);
  CHECK(query_count(p.db_url, "SELECT count(*) FROM alert_rules") == 1);
}

TEST_CASE("Cursor pagination has no duplicates and no gaps while new alerts arrive", "[api]") {
  Pipeline p;
  p.start_evaluator("a");
  Api api(p.evaluators["a"].port);
  const std::string rule_id = p.add_rule("above_threshold", 1, "m", 0);
  exec_sql(p.db_url, fmt::format("INSERT INTO devices (tenant_id, device_key) VALUES ({}, 'd')",
                                 p.tenant_id));
  auto insert_alerts = [&](int from, int n) {
    exec_sql(p.db_url,
             fmt::format("INSERT INTO alerts (tenant_id, rule_id, device_id, device_key, metric, "
                         "condition, threshold, value, reading_ts, "
                         "severity, message, created_at, status, started_at, last_value, "
                         "last_reading_ts, peak_value, resolved_at, resolve_reason) "
                         "SELECT {}, '{}', d.id, 'd', 'm', "
                         "'above_threshold', 1, g, "
                         "now() - interval '1 day' + g * interval '1 ms', 'warning', 'm ' || g, "
                         "now() - interval '1 hour' + g * interval '1 ms', 'resolved', "
                         "now() - interval '1 day', g, now() - interval '1 day', g, now(), "
                         "'cleared' "
                         "FROM generate_series({}, {}) g, devices d WHERE d.device_key = 'd'",
                         p.tenant_id, rule_id, from, from + n - 1));
  };
  insert_alerts(1, 230);
  std::set<std::string> before;
  {
    auto r = std::stoi(query_scalar(p.db_url, "SELECT count(*) FROM alerts"));
    REQUIRE(r == 230);
  }
  std::atomic<bool> stop{false};
  std::thread writer([&] {
    for (int i = 0; !stop && i < 50; ++i) {
      insert_alerts(1000 + i * 5, 5);  // newer alerts keep arriving during the walk
      std::this_thread::sleep_for(10ms);
    }
  });
  std::vector<std::string> seen;
  std::string cursor;
  for (int page = 0; page < 100; ++page) {
    auto r =
        api.get("/api/alerts?limit=25" + (cursor.empty() ? "" : "&cursor=" + cursor), p.api_key);
    REQUIRE(r->status == 200);
    Json j(r->body);
    for (auto a : j["alerts"].get_array()) seen.emplace_back(std::string_view(a["message"]));
    if (j["next_cursor"].is_null()) break;
    cursor = std::string(std::string_view(j["next_cursor"]));
  }
  stop = true;
  writer.join();
  const std::set<std::string> unique(seen.begin(), seen.end());
  CHECK(unique.size() == seen.size());  // no duplicates
  for (int g = 1; g <= 230; ++g) {      // no gaps among the alerts that existed when the walk began
    INFO(g);
    CHECK(unique.contains("m " + std::to_string(g)));
  }
}

TEST_CASE("A rule created through the API fires on the next matching reading", "[api]") {
  Pipeline p;
  p.start_ingester();
  p.start_evaluator("a");
  Api api(p.evaluators["a"].port);
  REQUIRE(
      api.post("/api/rules", p.api_key,
               R"({"name":"low","metric":"pressure","condition":"below_threshold","threshold":2})")
          ->status == 201);
  REQUIRE(eventually([&] { return p.evaluator_metric("a", "ste_eval_rules") == 1; }, 5s));
  p.publish("sensors.acme.pump", now_reading("pressure", 1.5));
  REQUIRE(eventually([&] { return p.alerts() == 1; }, 30s));
  Json alerts(api.get("/api/alerts", p.api_key)->body);
  CHECK(std::string_view(alerts["alerts"].at(0)["condition"]) == "below_threshold");
  CHECK(double(alerts["alerts"].at(0)["value"]) == 1.5);
}
