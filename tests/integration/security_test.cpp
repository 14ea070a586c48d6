// An attacker's view of the running services (docs/security.md): limits a stranger can reach,
// SQL injection through every text field and filter, and secrets that must never leak into logs,
// metrics or API responses. Real ste-ingester / ste-evaluator, PostgreSQL and nats-server.
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <mutex>
#include <set>

#include "tests/integration/api_client.hpp"
#include "tests/integration/pipeline_fixture.hpp"
#include "tests/integration/webhook_receiver.hpp"

using namespace ste;
using namespace ste::test;
using namespace std::chrono_literals;

namespace {

constexpr const char* kRuleBody =
    R"({"name":"hot","metric":"temperature","condition":"above_threshold","threshold":80,"cooldown_minutes":0})";

/// The Retry-After header of a response as whole seconds (-1 when absent or not a number).
int retry_after_seconds(const httplib::Response& r) {
  try {
    return std::stoi(r.get_header_value("Retry-After"));
  } catch (const std::exception&) {
    return -1;
  }
}

/// An evaluator with a small, explicit request budget. The rate is slow (one request per 5 s
/// after the burst) so that a loaded machine cannot refill a token between the test's requests.
Process::Env rate_env(const std::string& per_second, const std::string& burst) {
  return {{"STE_API_RATE_PER_SECOND", per_second}, {"STE_API_RATE_BURST", burst}};
}

std::string quoted(const std::string& s) {
  std::string out;
  append_json_string(out, s);
  return out;
}

/// A valid rule body except that `field` has the JSON value `json_value`.
std::string rule_body_with(const std::string& field, const std::string& json_value) {
  std::map<std::string, std::string> fields{{"name", "\"n\""},
                                            {"metric", "\"m\""},
                                            {"condition", "\"above_threshold\""},
                                            {"threshold", "1"}};
  fields[field] = json_value;
  std::string body = "{";
  for (const auto& [k, v] : fields) body += (body.size() > 1 ? "," : "") + quoted(k) + ":" + v;
  return body + "}";
}

}  // namespace

TEST_CASE("Over its budget a key gets 429 with Retry-After while other keys are still served",
          "[security][limits]") {
  Pipeline p;
  const std::string other_key = p.create_tenant("globex");
  p.start_evaluator("a", rate_env("0.2", "3"));
  Api api(p.evaluators["a"].port);
  for (int i = 0; i < 3; ++i) REQUIRE(api.get("/api/rules", p.api_key)->status == 200);
  auto refused = api.get("/api/rules", p.api_key);
  check_error(refused, 429, "rate_limited", "requests per second with this API key");
  CHECK(retry_after_seconds(*refused) >= 1);
  CHECK(retry_after_seconds(*refused) <= 5);  // one token per 5 s
  CHECK(api.get("/api/rules", other_key)->status == 200);
  CHECK(p.evaluator_metric("a", "ste_api_rate_limited_total{by=\"key\"}") == 1);
  // Tokens come back at one per 5 s: the same key is served again.
  CHECK(eventually([&] { return api.get("/api/rules", p.api_key)->status == 200; }, 15s, 250ms));
  // Health, readiness and metrics are for operators and are never rate-limited.
  for (int i = 0; i < 10; ++i) REQUIRE(api.client.Get("/healthz")->status == 200);
}

TEST_CASE("Guessing keys from one address is throttled after a burst of 401s",
          "[security][limits]") {
  Pipeline p;
  p.start_evaluator("a", rate_env("0.2", "3"));
  Api api(p.evaluators["a"].port);
  for (int i = 0; i < 3; ++i) {
    check_error(api.get("/api/rules", "guess-" + std::to_string(i)), 401, "unauthorized",
                "API key");
  }
  auto refused = api.get("/api/rules", "guess-next");
  check_error(refused, 429, "rate_limited", "missing or invalid API key from this address");
  CHECK(retry_after_seconds(*refused) >= 1);
  CHECK(retry_after_seconds(*refused) <= 5);  // one token per 5 s
  // Requests without any key count the same way.
  check_error(api.client.Get("/api/alerts"), 429, "rate_limited", "this address");
  CHECK(p.evaluator_metric("a", "ste_api_rate_limited_total{by=\"address\"}") == 2);
  CHECK(eventually([&] { return api.get("/api/rules", p.api_key)->status == 200; }, 15s, 250ms));
}

TEST_CASE("Oversized bodies get 413 and oversized headers are refused", "[security][limits]") {
  Pipeline p;
  p.start_evaluator("a", {{"STE_API_MAX_BODY_BYTES", "4096"}});
  Api api(p.evaluators["a"].port);
  check_error(api.post("/api/rules", p.api_key, std::string(5000, ' ')), 413, "too_large",
              "4096 bytes");
  // A body just under the limit is read and judged on its content.
  check_error(api.post("/api/rules", p.api_key, std::string(4000, ' ')), 400, "malformed_json",
              "JSON");
  // cpp-httplib refuses a header line over 8 KiB before any handler runs.
  auto big = api.client.Get("/api/rules",
                            {{"X-API-Key", p.api_key}, {"X-Padding", std::string(16 * 1024, 'x')}});
  CHECK((!big || big->status == 400));
  // ... and the server is unharmed.
  CHECK(api.get("/api/rules", p.api_key)->status == 200);
}

TEST_CASE("A tenant cannot create more rules than STE_MAX_RULES_PER_TENANT", "[security][limits]") {
  Pipeline p;
  const std::string other_key = p.create_tenant("globex");
  p.start_evaluator("a", {{"STE_MAX_RULES_PER_TENANT", "3"}});
  Api api(p.evaluators["a"].port);
  std::string first_id;
  for (int i = 0; i < 3; ++i) {
    auto r = api.post("/api/rules", p.api_key, kRuleBody);
    REQUIRE(r->status == 201);
    if (i == 0) first_id = std::string(std::string_view(Json(r->body)["id"]));
  }
  check_error(api.post("/api/rules", p.api_key, kRuleBody), 409, "limit_reached",
              "STE_MAX_RULES_PER_TENANT");
  CHECK(query_count(p.db_url, "SELECT count(*) FROM alert_rules") == 3);
  // The limit is per tenant, and deleting a rule makes room.
  CHECK(api.post("/api/rules", other_key, kRuleBody)->status == 201);
  CHECK(api.del("/api/rules/" + first_id, p.api_key)->status == 204);
  CHECK(api.post("/api/rules", p.api_key, kRuleBody)->status == 201);
}

TEST_CASE("The device list is bounded by limit and pages with a cursor without gaps",
          "[security][limits]") {
  Pipeline p;
  std::string values;
  for (int i = 0; i < 25; ++i) {
    values += fmt::format("{}({}, 'dev-{:02}')", i ? "," : "", p.tenant_id, i);
  }
  exec_sql(p.db_url, "INSERT INTO devices (tenant_id, device_key) VALUES " + values);
  p.start_evaluator("a");
  Api api(p.evaluators["a"].port);
  std::vector<std::string> seen;
  std::string cursor;
  int pages = 0;
  do {
    auto r =
        api.get("/api/devices?limit=10" + (cursor.empty() ? "" : "&cursor=" + cursor), p.api_key);
    REQUIRE(r->status == 200);
    Json page(r->body);
    CHECK(page["devices"].get_array().size() <= 10);
    for (auto d : page["devices"].get_array()) seen.emplace_back(std::string_view(d["device"]));
    cursor =
        page["next_cursor"].is_null() ? "" : std::string(std::string_view(page["next_cursor"]));
    ++pages;
  } while (!cursor.empty() && pages < 10);
  CHECK(pages == 3);
  REQUIRE(seen.size() == 25);
  CHECK(std::set<std::string>(seen.begin(), seen.end()).size() == 25);
  CHECK(std::is_sorted(seen.begin(), seen.end()));
  check_error(api.get("/api/devices?limit=10001", p.api_key), 422, "invalid_field", "limit");
  check_error(api.get("/api/devices?page=2", p.api_key), 422, "unknown_field", "page");
}

TEST_CASE("The ingester's message size and readings-per-message limits follow their settings",
          "[security][limits]") {
  Pipeline p;
  p.start_ingester({{"STE_MAX_MESSAGE_BYTES", "1024"}, {"STE_MAX_READINGS_PER_MESSAGE", "2"}});
  const TimePoint ts = test_base_time();
  auto array_of = [&](int n, int first) {
    std::string arr = "[";
    for (int i = 0; i < n; ++i) {
      arr += (i ? "," : "") + reading_json("flow", i, ts + std::chrono::seconds{first + i});
    }
    return arr + "]";
  };
  p.publish("sensors.acme.m-1", array_of(3, 0));  // one reading too many
  p.publish("sensors.acme.m-1",
            R"({"metric":"flow","value":1,"unit":")" + std::string(1100, 'u') + R"("})");
  p.publish("sensors.acme.m-1", array_of(2, 10));  // at both limits: stored
  REQUIRE(p.wait_rows(2));
  auto rejected = [&](const char* reason) {
    return Pipeline::metric(p.ingester_port,
                            fmt::format("ste_ingest_rejected_total{{reason=\"{}\"}}", reason));
  };
  CHECK(eventually([&] { return rejected("too_many_readings") == 1 && rejected("too_large") == 1; },
                   20s));
  CHECK(p.rows() == 2);
}

TEST_CASE("Injection strings in every text field and filter are data, never SQL",
          "[security][injection]") {
  Pipeline p;
  constexpr const char* kAdminKey = "admin-key-injection-test";
  const std::string other_key = p.create_tenant("globex");
  p.start_ingester();
  p.start_evaluator("a", {{"STE_ADMIN_API_KEY", kAdminKey}});
  Api api(p.evaluators["a"].port);
  // Another tenant's data that an injection would have to reach.
  REQUIRE(api.post("/api/rules", other_key, kRuleBody)->status == 201);
  p.publish("sensors.globex.canary", now_reading("temperature", 20));
  REQUIRE(p.wait_rows(1));
  const std::string tables_before =
      query_scalar(p.db_url,
                   "SELECT string_agg(tablename, ',' ORDER BY tablename) FROM pg_tables WHERE "
                   "schemaname = 'public'");

  const std::vector<std::string> injections{
      "'; DROP TABLE readings; --",
      "' OR '1'='1",
      "\"; DELETE FROM alert_rules; --",
      "') UNION SELECT key_hash::text FROM api_keys --",
      "1; SELECT pg_sleep(30)",
      "$1",
      "%",
      "_",
      "\\",
      "acme' --",
      std::string("x\0y", 3)};  // sent as \u0000: a character PostgreSQL's text cannot hold
  std::set<int> statuses;
  auto expect_handled = [&](const httplib::Result& r, const std::string& what) {
    REQUIRE(r);
    INFO(what << " -> " << r->status << " " << r->body);
    statuses.insert(r->status);
    CHECK((r->status == 200 || r->status == 201 || r->status == 204 || r->status == 404 ||
           r->status == 409 || r->status == 422));
  };
  int stored_names = 0;
  for (const std::string& inj : injections) {
    const std::string j = quoted(inj);  // the string as a JSON literal (no further escaping)
    // Rule fields: free text (name) is stored verbatim; constrained ones are refused.
    auto created = api.post(
        "/api/rules", p.api_key,
        fmt::format(
            R"({{"name":{},"metric":"temperature","condition":"above_threshold","threshold":1}})",
            j));
    expect_handled(created, "rule name " + inj);
    if (created->status == 201) {
      ++stored_names;
      const std::string id{std::string_view(Json(created->body)["id"])};
      auto back = api.get("/api/rules/" + id, p.api_key);
      CHECK(std::string_view(Json(back->body)["name"]) == inj);
    }
    for (const char* field : {"metric", "device", "condition", "severity"}) {
      expect_handled(api.post("/api/rules", p.api_key, rule_body_with(field, j)),
                     std::string("rule ") + field);
    }
    for (const char* field : {"notification_hub_url", "notification_hub_api_key",
                              "workflow_engine_url", "workflow_engine_secret"}) {
      expect_handled(
          api.put("/api/integrations", p.api_key, fmt::format(R"({{"{}":{}}})", field, j)),
          std::string("integrations ") + field);
    }
    httplib::Client admin("127.0.0.1", p.evaluators["a"].port);
    expect_handled(admin.Post("/admin/tenants", {{"X-API-Key", kAdminKey}},
                              fmt::format(R"({{"slug":{}}})", j), "application/json"),
                   "tenant slug");
    // Path segments and every filter, URL-encoded by the client.
    const std::string enc = httplib::detail::encode_query_param(inj);
    for (const std::string& path :
         {"/api/rules/" + enc, "/api/alerts/" + enc, "/api/devices/" + enc + "/readings"}) {
      expect_handled(api.get(path, p.api_key), "GET " + path);
    }
    expect_handled(api.del("/api/rules/" + enc, p.api_key), "DELETE rule " + inj);
    for (const char* filter : {"device", "metric", "rule_id", "since", "until", "cursor"}) {
      expect_handled(api.client.Get("/api/alerts", httplib::Params{{filter, inj}},
                                    httplib::Headers{{"X-API-Key", p.api_key}}),
                     std::string("alerts ?") + filter);
    }
    expect_handled(api.client.Get("/api/devices", httplib::Params{{"cursor", inj}},
                                  httplib::Headers{{"X-API-Key", p.api_key}}),
                   "devices ?cursor");
    for (const char* filter : {"metric", "from", "to", "resolution", "limit"}) {
      expect_handled(api.client.Get("/api/devices/canary/readings", httplib::Params{{filter, inj}},
                                    httplib::Headers{{"X-API-Key", other_key}}),
                     std::string("readings ?") + filter);
    }
  }
  // Tenant names are free text: stored verbatim.
  httplib::Client admin("127.0.0.1", p.evaluators["a"].port);
  auto named =
      admin.Post("/admin/tenants", {{"X-API-Key", kAdminKey}},
                 R"({"slug":"named","name":"'; DROP TABLE tenants; --"})", "application/json");
  REQUIRE(named->status == 201);
  CHECK(query_scalar(p.db_url, "SELECT name FROM tenants WHERE slug = 'named'") ==
        "'; DROP TABLE tenants; --");
  // Readings: a unit is free text and stored verbatim; a metric with SQL in it is rejected.
  p.publish("sensors.acme.dev-1",
            R"({"metric":"temperature","value":1,"unit":"'); DROP TABLE readings;--"})");
  p.publish("sensors.acme.dev-1", R"({"metric":"x'; DROP TABLE readings; --","value":1})");
  REQUIRE(p.wait_rows(2));
  CHECK(eventually(
      [&] {
        return Pipeline::metric(p.ingester_port,
                                "ste_ingest_rejected_total{reason=\"invalid_metric\"}") == 1;
      },
      20s));
  CHECK(query_scalar(p.db_url,
                     "SELECT unit FROM readings WHERE metric = 'temperature' AND "
                     "device_id = (SELECT id FROM devices WHERE device_key = 'dev-1')") ==
        "'); DROP TABLE readings;--");

  // Nothing was executed: the same tables, the other tenant's rule and reading are intact, and no
  // request failed with a server error.
  CHECK(query_scalar(p.db_url,
                     "SELECT string_agg(tablename, ',' ORDER BY tablename) FROM pg_tables WHERE "
                     "schemaname = 'public'") == tables_before);
  CHECK(query_count(p.db_url,
                    "SELECT count(*) FROM alert_rules r JOIN tenants t ON t.id = "
                    "r.tenant_id WHERE t.slug = 'globex'") == 1);
  CHECK(p.rows() == 2);
  // Every injection string but the one with NUL is a valid rule name (NUL is refused with 422).
  CHECK(stored_names == static_cast<int>(injections.size()) - 1);
  CHECK(statuses.count(500) == 0);
  CHECK(p.evaluators["a"].proc->running());
}

namespace {
/// Makes `target` careless: the first request to each path is answered 500 with a body echoing
/// the credentials it received, so that a service logging response bodies would leak them;
/// later requests get 200.
void echo_credentials_first(WebhookReceiver& target) {
  struct Seen {
    std::mutex mu;
    std::set<std::string> paths;
  };
  auto seen = std::make_shared<Seen>();
  target.respond = [seen](const Received& r) {
    bool first = false;
    {
      std::lock_guard lock(seen->mu);
      first = seen->paths.insert(r.path).second;
    }
    const auto header = [&](const char* name) {
      const auto it = r.headers.find(name);
      return it == r.headers.end() ? std::string() : it->second;
    };
    return Answer{first ? 500 : 200,
                  "you sent " + header("X-API-Key") + " " + header("X-Hub-Signature-256")};
  };
}
}  // namespace

TEST_CASE("No configured secret appears in logs, metrics or API responses of a full run",
          "[security][secrets]") {
  Pipeline p;
  // NATS with a password, PostgreSQL reached through a URL with one (trust authentication
  // ignores it, but the services must still never print it).
  const std::string nats_password = "nats-pw-7Hq2ZxA9";
  const std::string wrong_nats_password = "nats-wrong-pw-3Kd8";
  const std::string db_password = "db-pw-Vb61Lq0T";
  const std::string admin_key = "admin-key-R2d9Kw7P";
  const std::string hub_key = "hub-key-default-9Fz3Qm";
  const std::string wf_secret = "wf-secret-default-4Tx8Ln";
  const std::string tenant_hub_key = "hub-key-tenant-6Gp1Rs";
  const std::string tenant_wf_secret = "wf-secret-tenant-2Yc5Mb";
  const std::string guessed_key = "ste_guessed-key-0Wn4Ej";
  const int nats_port = free_tcp_port();
  TempDir nats_dir("ste-it-nats-auth-");
  Process nats({"nats-server", "-a", "127.0.0.1", "-p", std::to_string(nats_port), "-js", "-sd",
                nats_dir.path(), "--user", "ste", "--pass", nats_password},
               p.logs.path() + "/nats-auth.log");
  const std::string nats_url = fmt::format("nats://127.0.0.1:{}", nats_port);
  const std::string db_url =
      "postgresql://postgres:" + db_password + "@" + p.db_url.substr(p.db_url.find("127.0.0.1"));
  const Process::Env nats_env{{"STE_NATS_URL", nats_url},
                              {"STE_NATS_USER", "ste"},
                              {"STE_NATS_PASSWORD", nats_password},
                              {"STE_DATABASE_URL", db_url},
                              {"STE_LOG_LEVEL", "debug"}};
  // An instance configured with the password inside its URL, and a wrong one: it cannot connect
  // and says so, without the password.
  const std::string bad_log = p.logs.path() + "/evaluator-bad.log";
  Process bad(
      {STE_EVALUATOR_BIN}, bad_log,
      {{"STE_NATS_URL", fmt::format("nats://ste:{}@127.0.0.1:{}", wrong_nats_password, nats_port)},
       {"STE_DATABASE_URL", db_url},
       {"STE_HTTP_ADDR", fmt::format("127.0.0.1:{}", free_tcp_port())}});

  WebhookReceiver hub, workflow;
  echo_credentials_first(hub);
  echo_credentials_first(workflow);
  p.start_ingester(nats_env);
  Process::Env eval_env = nats_env;
  eval_env.insert({{"STE_ADMIN_API_KEY", admin_key},
                   {"STE_NOTIFICATION_HUB_URL", hub.url("/hub")},
                   {"STE_NOTIFICATION_HUB_API_KEY", hub_key},
                   {"STE_WORKFLOW_ENGINE_URL", workflow.url("/wf")},
                   {"STE_WORKFLOW_ENGINE_SECRET", wf_secret}});
  p.start_evaluator("a", eval_env);
  Api api(p.evaluators["a"].port);
  std::string responses;  // every response's status line, headers and body
  auto keep = [&](httplib::Result r) -> httplib::Result {
    REQUIRE(r);
    responses += std::to_string(r->status) + "\n";
    for (const auto& [k, v] : r->headers) responses += k + ": " + v + "\n";
    responses += r->body + "\n";
    return r;
  };

  // A second tenant through the admin API: its key is shown once, in this response only.
  httplib::Client admin("127.0.0.1", p.evaluators["a"].port);
  auto created = admin.Post("/admin/tenants", {{"X-API-Key", admin_key}},
                            R"({"slug":"globex","name":"Globex"})", "application/json");
  REQUIRE(created->status == 201);
  const std::string globex_key{std::string_view(Json(created->body)["api_key"])};
  keep(admin.Post("/admin/tenants", {{"X-API-Key", hub_key}}, R"({"slug":"x"})",
                  "application/json"));
  keep(api.get("/api/rules", guessed_key));
  keep(api.client.Get("/api/rules", {{"Authorization", "Bearer " + guessed_key}}));
  // acme's own targets with its own secrets; globex uses the defaults.
  keep(api.put("/api/integrations", p.api_key,
               fmt::format(R"({{"notification_hub_url":"{}","notification_hub_api_key":"{}",)"
                           R"("workflow_engine_url":"{}","workflow_engine_secret":"{}"}})",
                           hub.url("/tenant-hub"), tenant_hub_key, workflow.url("/tenant-wf"),
                           tenant_wf_secret)));
  keep(api.get("/api/integrations", p.api_key));
  keep(api.get("/api/integrations", globex_key));
  REQUIRE(keep(api.post("/api/rules", p.api_key, kRuleBody))->status == 201);
  REQUIRE(keep(api.post("/api/rules", globex_key, kRuleBody))->status == 201);

  NatsSettings ns;
  ns.urls = nats_url;
  ns.user = "ste";
  ns.password = nats_password;
  NatsClient publisher(ns);
  publisher.js_publish("sensors.acme.boiler-1", now_reading("temperature", 95));
  publisher.js_publish("sensors.globex.press-1", now_reading("temperature", 96));
  publisher.js_publish("sensors.acme.boiler-1", "not json");
  // Two alerts, four targets: each answers 500 (echoing the credentials) once, then 200.
  REQUIRE(eventually([&] { return hub.count() >= 4 && workflow.count() >= 4; }, 60s, 100ms));
  REQUIRE(eventually(
      [&] {
        return query_count(p.db_url,
                           "SELECT count(*) FROM deliveries WHERE status = 'delivered'") == 4;
      },
      30s));
  auto alerts = keep(api.get("/api/alerts", p.api_key));
  const std::string alert_id{std::string_view(Json(alerts->body)["alerts"].at(0)["id"])};
  keep(api.get("/api/alerts/" + alert_id, p.api_key));
  keep(api.get("/api/devices", p.api_key));
  keep(api.client.Get("/metrics"));
  keep(api.client.Get("/readyz"));
  httplib::Client ingester_http("127.0.0.1", p.ingester_port);
  keep(ingester_http.Get("/metrics"));
  keep(ingester_http.Get("/readyz"));

  int bad_status = -1;
  REQUIRE(bad.wait_exit(60s, &bad_status));
  CHECK(bad_status != 0);
  const std::string bad_text = read_file(bad_log);
  CHECK(bad_text.find("cannot connect to NATS at nats://***@127.0.0.1") != std::string::npos);

  // Stop the services so their logs are complete.
  p.evaluators["a"].proc->terminate();
  REQUIRE(p.evaluators["a"].proc->wait_exit(20s));
  p.ingester->terminate();
  REQUIRE(p.ingester->wait_exit(20s));

  std::string logs;
  for (const auto& entry : std::filesystem::directory_iterator(p.logs.path())) {
    const std::string name = entry.path().filename().string();
    if (name.rfind("ingester", 0) == 0 || name.rfind("evaluator", 0) == 0) {
      logs += "== " + name + "\n" + read_file(entry.path().string());
    }
  }
  REQUIRE(logs.find("evaluator stopped") != std::string::npos);  // the logs are the real ones
  // The deliveries' recorded outcomes are readable through the API, so they count as responses.
  const std::string recorded =
      query_scalar(p.db_url,
                   "SELECT coalesce(string_agg(coalesce(error, '') || ' ' || "
                   "coalesce(http_status::text, ''), ';'), '') FROM delivery_attempts");
  for (const std::string& secret :
       {nats_password, wrong_nats_password, db_password, admin_key, hub_key, wf_secret,
        tenant_hub_key, tenant_wf_secret, guessed_key, p.api_key, globex_key}) {
    INFO("secret: " << secret);
    CHECK(logs.find(secret) == std::string::npos);
    CHECK(responses.find(secret) == std::string::npos);
    CHECK(recorded.find(secret) == std::string::npos);
  }
  // API keys are stored only as their SHA-256.
  const std::string key_rows =
      query_scalar(p.db_url,
                   "SELECT string_agg(t::text || k::text, ';') FROM tenants t JOIN api_keys k ON "
                   "k.tenant_id = t.id");
  CHECK(key_rows.find(p.api_key) == std::string::npos);
  CHECK(key_rows.find(globex_key) == std::string::npos);
  CHECK(query_count(p.db_url, fmt::format("SELECT count(*) FROM api_keys WHERE key_hash = "
                                          "sha256(convert_to('{}', 'UTF8'))",
                                          globex_key)) == 1);
}

namespace {
/// A raw cnats connection as one NATS user, collecting the server's asynchronous errors
/// (permission violations arrive that way, not as the publish call's result).
class DeviceConnection {
 public:
  DeviceConnection(const std::string& url, const std::string& user, const std::string& password,
                   const std::string& inbox_prefix) {
    natsOptions* opts = nullptr;
    REQUIRE(natsOptions_Create(&opts) == NATS_OK);
    natsOptions_SetURL(opts, url.c_str());
    natsOptions_SetUserInfo(opts, user.c_str(), password.c_str());
    natsOptions_SetCustomInboxPrefix(opts, inbox_prefix.c_str());
    natsOptions_SetErrorHandler(opts, &DeviceConnection::on_error, this);
    const natsStatus s = natsConnection_Connect(&nc_, opts);
    natsOptions_Destroy(opts);
    if (s != NATS_OK) throw std::runtime_error(std::string("connect: ") + natsStatus_GetText(s));
  }
  ~DeviceConnection() {
    for (natsSubscription* sub : subs_) natsSubscription_Destroy(sub);
    natsConnection_Destroy(nc_);
  }
  void publish(const std::string& subject, const std::string& payload) {
    REQUIRE(natsConnection_PublishString(nc_, subject.c_str(), payload.c_str()) == NATS_OK);
    natsConnection_FlushTimeout(nc_, 2000);
  }
  void subscribe(const std::string& subject) {
    natsSubscription* sub = nullptr;
    REQUIRE(natsConnection_SubscribeSync(&sub, nc_, subject.c_str()) == NATS_OK);
    subs_.push_back(sub);
    natsConnection_FlushTimeout(nc_, 2000);
  }
  /// The server's error texts so far, one per line.
  std::string errors() {
    std::lock_guard lock(mu_);
    return errors_;
  }
  std::size_t error_count() {
    std::lock_guard lock(mu_);
    return count_;
  }

 private:
  static void on_error(natsConnection* nc, natsSubscription*, natsStatus, void* self) {
    auto* me = static_cast<DeviceConnection*>(self);
    const char* text = nullptr;
    natsConnection_GetLastError(nc, &text);
    std::lock_guard lock(me->mu_);
    me->errors_ += std::string(text ? text : "?") + "\n";
    ++me->count_;
  }
  natsConnection* nc_ = nullptr;
  std::vector<natsSubscription*> subs_;
  std::mutex mu_;
  std::string errors_;
  std::size_t count_ = 0;
};
}  // namespace

TEST_CASE("A device credential publishes only its tenant's readings and can read nothing else",
          "[security][nats]") {
  Pipeline p;
  p.create_tenant("globex");
  // The shipped accounts and permissions (deploy/nats/accounts.conf, placeholder passwords),
  // included from a configuration like deploy/nats/single.conf but on test ports and storage.
  const int port = free_tcp_port();
  TempDir dir("ste-it-nats-perm-");
  {
    // nats-server resolves `include` relative to the including file only.
    std::filesystem::copy_file(std::string(STE_SOURCE_DIR) + "/deploy/nats/accounts.conf",
                               dir.path() + "/accounts.conf");
    std::ofstream conf(dir.path() + "/server.conf");
    conf << fmt::format(
        "listen: 127.0.0.1:{}\nmax_payload: 1MB\njetstream {{ store_dir: \"{}/js\" }}\n"
        "include ./accounts.conf\n",
        port, dir.path());
  }
  Process nats({"nats-server", "-c", dir.path() + "/server.conf"},
               p.logs.path() + "/nats-perm.log");
  const std::string url = fmt::format("nats://127.0.0.1:{}", port);
  REQUIRE(eventually(
      [&] {
        try {
          DeviceConnection probe(url, "tenant-acme", "REPLACE-ME-acme-password", "_INBOX_acme");
          return true;
        } catch (...) {
          return false;
        }
      },
      10s, 100ms));
  p.start_ingester({{"STE_NATS_URL", url},
                    {"STE_NATS_USER", "ste-ingester"},
                    {"STE_NATS_PASSWORD", "REPLACE-ME-ingester-password"}});
  {
    // The ingester may not purge streams here, so SENSORS is a work queue whatever the server
    // version, and the purge probe said why without creating a scratch stream.
    const std::string log = read_file(p.ingester_log());
    INFO(log);
    CHECK(log.find("this NATS user may not purge streams") != std::string::npos);
    CHECK(log.find("\"sensors_retention\":\"work-queue\"") != std::string::npos);
  }

  DeviceConnection acme(url, "tenant-acme", "REPLACE-ME-acme-password", "_INBOX_acme");
  // One refused operation at a time, so each error text is read before the next one replaces it.
  auto refused = [&](const std::string& what, const std::function<void()>& op) {
    const std::size_t before = acme.error_count();
    op();
    INFO(what << "; errors so far:\n" << acme.errors());
    CHECK(eventually([&] { return acme.error_count() > before; }, 5s));
    CHECK(acme.errors().find(what) != std::string::npos);
  };
  // Writing for another tenant, forging a batch summary (which would make evaluators raise
  // alerts), rejections or alert events, and JetStream administration: all refused.
  for (const std::string subject :
       {"sensors.globex.spoofed", "ste.batches.flushed", "ste.alerts.acme", "ste.rejected.globex",
        "$JS.API.STREAM.PURGE.SENSORS"}) {
    refused(fmt::format("Permissions Violation for Publish to \"{}\"", subject),
            [&] { acme.publish(subject, now_reading("temperature", 1)); });
  }
  // Reading anything: other tenants' readings, every reply inbox, alerts, rejections.
  for (const std::string subject : {"sensors.>", "_INBOX.>", "ste.alerts.>", "ste.rejected.>"}) {
    refused(fmt::format("Permissions Violation for Subscription to \"{}\"", subject),
            [&] { acme.subscribe(subject); });
  }
  acme.publish("sensors.acme.own-device", now_reading("temperature", 2));
  REQUIRE(p.wait_rows(1, 30s));
  CHECK(p.rows() == 1);
  CHECK(query_count(p.db_url,
                    "SELECT count(*) FROM devices d JOIN tenants t ON t.id = "
                    "d.tenant_id WHERE t.slug = 'globex'") == 0);
  CHECK(Pipeline::metric(p.ingester_port, "ste_ingest_messages_total") == 1);
}

TEST_CASE("A tenant's webhook URL on a private address is never called — the operator's is",
          "[security][ssrf]") {
  Pipeline p;
  WebhookReceiver internal, operator_wf;
  p.add_rule("above_threshold", 80, "temperature");
  p.start_ingester();
  p.start_evaluator("a", {{"STE_ALLOW_PRIVATE_TENANT_WEBHOOKS", "false"},
                          {"STE_WORKFLOW_ENGINE_URL", operator_wf.url("/wf")}});
  Api api(p.evaluators["a"].port);
  auto hub_row_where = [&](const std::string& device) {
    return "target = 'notification_hub' AND alert_id = (SELECT id FROM alerts WHERE device_key = "
           "'" +
           device + "')";
  };
  // The tenant points its hub at a service on the evaluator's own network: by address, then by
  // a name that resolves to it.
  int step = 0;
  for (const std::string& url :
       {internal.url("/by-address"),
        fmt::format("http://localhost:{}/by-name",
                    internal.url("").substr(internal.url("").rfind(':') + 1))}) {
    const std::string device = "boiler-" + std::to_string(++step);
    REQUIRE(api.put("/api/integrations", p.api_key,
                    fmt::format(R"({{"notification_hub_url":"{}"}})", url))
                ->status == 200);
    p.publish("sensors.acme." + device, now_reading("temperature", 95));
    REQUIRE(eventually(
        [&] {
          return query_count(p.db_url,
                             "SELECT count(*) FROM deliveries WHERE status <> "
                             "'pending' AND " +
                                 hub_row_where(device)) == 1;
        },
        30s));
    INFO(url);
    CHECK(query_scalar(p.db_url, "SELECT status || ' ' || attempts FROM deliveries WHERE " +
                                     hub_row_where(device)) == "failed 1");
    const std::string error =
        query_scalar(p.db_url, "SELECT last_error FROM deliveries WHERE " + hub_row_where(device));
    CHECK(error.find("is a loopback address") != std::string::npos);
    CHECK(error.find("STE_ALLOW_PRIVATE_TENANT_WEBHOOKS") != std::string::npos);
  }
  CHECK(internal.count() == 0);
  // The operator's default target on the same loopback network is trusted and delivered to.
  CHECK(eventually(
      [&] {
        return query_count(p.db_url,
                           "SELECT count(*) FROM deliveries WHERE target = "
                           "'workflow_engine' AND status = 'delivered'") == 2;
      },
      30s));
  CHECK(operator_wf.count() >= 2);
}
