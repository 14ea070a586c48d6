// Named API keys with roles (docs/ALERTING.md §2) against the real ste-evaluator, ste-admin and
// PostgreSQL: /api/keys, viewer keys refused on every write, revocation, rotation with two live
// keys, the last operator key, `ste-admin key`, and the upgrade of schema 5's single key.
#include "common/api_keys.hpp"

#include <atomic>
#include <filesystem>
#include <regex>
#include <set>
#include <sstream>
#include <thread>
#include <vector>

#include "common/api_key.hpp"
#include "common/schema_migrator.hpp"
#include "common/tenant_admin.hpp"
#include "evaluator/api/api_handlers.hpp"
#include "evaluator/api/api_server.hpp"
#include "tests/integration/api_client.hpp"
#include "tests/integration/pipeline_fixture.hpp"

using namespace ste;
using namespace ste::test;
using namespace std::chrono_literals;

namespace {

constexpr const char* kRuleBody =
    R"({"name":"hot","metric":"temperature","condition":"above_threshold","threshold":80})";

std::string str(simdjson::dom::element e) { return std::string(std::string_view(e)); }

/// POST /api/keys with `key`; requires 201 and returns the answer.
std::string create_key(Api& api, const std::string& key, const std::string& name,
                       const std::string& role) {
  auto r = api.post("/api/keys", key, fmt::format(R"({{"name":"{}","role":"{}"}})", name, role));
  REQUIRE(r);
  INFO(r->body);
  REQUIRE(r->status == 201);
  return r->body;
}

/// The id of the live key `name` as GET /api/keys lists it ("" when absent).
std::string key_id(Api& api, const std::string& key, const std::string& name) {
  auto r = api.get("/api/keys", key);
  REQUIRE(r);
  REQUIRE(r->status == 200);
  Json j(r->body);
  for (auto k : j["keys"].get_array()) {
    if (str(k["name"]) == name) return str(k["id"]);
  }
  return "";
}

/// A route template made concrete: {id} a uuid that exists nowhere, {device} a device key.
std::string concrete(std::string path) {
  path = std::regex_replace(path, std::regex(R"(\{id\})"), "3f1c2d4e-0000-4000-8000-000000000000");
  return std::regex_replace(path, std::regex(R"(\{device\})"), "boiler-1");
}

}  // namespace

TEST_CASE("A viewer key reads everything and every write answers 403 naming the key",
          "[api][keys]") {
  Pipeline p;
  p.start_evaluator("a");
  Api api(p.evaluators["a"].port);
  const std::string op = p.api_key;

  Json created(create_key(api, op, "bob", "viewer"));
  CHECK(str(created["name"]) == "bob");
  CHECK(str(created["role"]) == "viewer");
  CHECK(str(created["id"]).size() == 36);
  CHECK(!str(created["created_at"]).empty());
  const std::string viewer = str(created["key"]);
  REQUIRE(viewer.rfind("ste_", 0) == 0);

  auto rule = api.post("/api/rules", op, kRuleBody);
  REQUIRE(rule->status == 201);
  const std::string rule_id = str(Json(rule->body)["id"]);
  const std::string bob_id = str(created["id"]);

  // Reads: all of them.
  const std::vector<std::string> reads{"/api/rules",   "/api/rules/" + rule_id, "/api/alerts",
                                       "/api/devices", "/api/integrations",     "/api/keys"};
  for (const auto& path : reads) {
    INFO(path);
    CHECK(api.get(path, viewer)->status == 200);
  }
  CHECK(api.client.Head("/api/rules", {{"X-API-Key", viewer}})->status == 200);

  // Writes: every one of them, with valid bodies, is 403 before anything happens.
  const std::string forbidden = "API key 'bob' has role viewer: it can read but not change";
  check_error(api.post("/api/rules", viewer, kRuleBody), 403, "forbidden", forbidden);
  check_error(api.put("/api/rules/" + rule_id, viewer, kRuleBody), 403, "forbidden", forbidden);
  check_error(api.del("/api/rules/" + rule_id, viewer), 403, "forbidden", forbidden);
  check_error(api.post("/api/devices", viewer, R"({"devices":["d1"]})"), 403, "forbidden",
              forbidden);
  check_error(
      api.put("/api/integrations", viewer, R"({"notification_hub_url":"https://evil.example"})"),
      403, "forbidden", forbidden);
  check_error(api.post("/api/keys", viewer, R"({"name":"mallory","role":"operator"})"), 403,
              "forbidden", forbidden);
  check_error(api.del("/api/keys/" + bob_id, viewer), 403, "forbidden", forbidden);
  CHECK(query_count(p.db_url, "SELECT count(*) FROM alert_rules") == 1);
  CHECK(query_count(p.db_url, "SELECT count(*) FROM devices") == 0);
  CHECK(query_count(p.db_url, "SELECT count(*) FROM tenant_integrations") == 0);
  CHECK(query_count(p.db_url, "SELECT count(*) FROM api_keys WHERE revoked_at IS NULL") == 2);

  // Enforced centrally: every tenant route that is not a read, present or future, refuses it.
  for (const auto& route : api::api_routes()) {
    if (route.path.rfind("/api/", 0) != 0 || route.method == "GET") continue;
    const std::string path = concrete(route.path);
    INFO(route.method << " " << path);
    auto r = api.client.send([&] {
      httplib::Request req;
      req.method = route.method;
      req.path = path;
      req.headers = {{"X-API-Key", viewer}};
      req.body = "{}";
      req.set_header("Content-Type", "application/json");
      return req;
    }());
    check_error(r, 403, "forbidden", forbidden);
  }

  // The same writes with the operator key still work.
  CHECK(api.put("/api/rules/" + rule_id, op, kRuleBody)->status == 200);
}

TEST_CASE("Two keys are valid at once — a revoked key answers 401 at once (rotation)",
          "[api][keys]") {
  Pipeline p;
  p.start_evaluator("a");
  Api api(p.evaluators["a"].port);
  const std::string old_key = p.api_key;

  const std::string new_key = str(Json(create_key(api, old_key, "rotated", "operator"))["key"]);
  CHECK(api.get("/api/rules", old_key)->status == 200);
  CHECK(api.get("/api/rules", new_key)->status == 200);
  CHECK(api.post("/api/rules", new_key, kRuleBody)->status == 201);

  // The clients switched; the old key goes.
  const std::string default_id = key_id(api, new_key, "default");
  REQUIRE(!default_id.empty());
  CHECK(api.del("/api/keys/" + default_id, new_key)->status == 204);
  check_error(api.get("/api/rules", old_key), 401, "unauthorized", "API key");
  check_error(api.post("/api/rules", old_key, kRuleBody), 401, "unauthorized", "API key");
  CHECK(api.get("/api/rules", new_key)->status == 200);
  // Revoked once: its id is gone from the list and a second revoke is 404.
  CHECK(key_id(api, new_key, "default").empty());
  check_error(api.del("/api/keys/" + default_id, new_key), 404, "not_found", default_id);
  // The row stays, marked revoked; the name is free for a new key.
  CHECK(query_count(p.db_url, "SELECT count(*) FROM api_keys WHERE revoked_at IS NOT NULL") == 1);
  const std::string again = str(Json(create_key(api, new_key, "default", "viewer"))["key"]);
  CHECK(api.get("/api/rules", again)->status == 200);
}

TEST_CASE("GET /api/keys lists names, roles and ids, never a secret or a hash", "[api][keys]") {
  Pipeline p;
  p.start_evaluator("a");
  Api api(p.evaluators["a"].port);
  const std::string alice =
      str(Json(create_key(api, p.api_key, "alice@acme.example", "operator"))["key"]);
  const std::string bob = str(Json(create_key(api, p.api_key, "bob", "viewer"))["key"]);

  for (const std::string& caller : {p.api_key, alice, bob}) {
    auto r = api.get("/api/keys", caller);
    REQUIRE(r->status == 200);
    INFO(r->body);
    for (const std::string& secret : {p.api_key, alice, bob}) {
      CHECK(r->body.find(secret) == std::string::npos);
      CHECK(r->body.find(sha256_hex(secret)) == std::string::npos);
      CHECK(r->body.find(secret.substr(4)) == std::string::npos);  // not even without ste_
    }
    Json j(r->body);
    auto keys = j["keys"].get_array();
    REQUIRE(keys.size() == 3);
    std::set<std::string> names;
    for (auto k : keys) {
      names.insert(str(k["name"]));
      std::set<std::string> fields;
      for (auto f : k.get_object()) fields.insert(std::string(f.key));
      CHECK(fields == std::set<std::string>{"id", "name", "role", "created_at"});
    }
    CHECK(names == std::set<std::string>{"default", "alice@acme.example", "bob"});
  }
  Json first(api.get("/api/keys", bob)->body);
  CHECK(str(first["keys"].at(0)["name"]) == "default");
  CHECK(str(first["keys"].at(0)["role"]) == "operator");
}

TEST_CASE("The tenant's last operator key cannot be revoked — viewer keys do not count",
          "[api][keys]") {
  Pipeline p;
  p.start_evaluator("a");
  Api api(p.evaluators["a"].port);
  create_key(api, p.api_key, "bob", "viewer");
  const std::string default_id = key_id(api, p.api_key, "default");
  check_error(api.del("/api/keys/" + default_id, p.api_key), 409, "last_operator_key",
              "API key 'default' is the tenant's last operator key");
  CHECK(api.get("/api/rules", p.api_key)->status == 200);

  // With a second operator key, a key may even revoke itself.
  const std::string second = str(Json(create_key(api, p.api_key, "second", "operator"))["key"]);
  CHECK(api.del("/api/keys/" + default_id, p.api_key)->status == 204);
  CHECK(api.get("/api/rules", p.api_key)->status == 401);
  check_error(api.del("/api/keys/" + key_id(api, second, "second"), second), 409,
              "last_operator_key", "'second'");
}

TEST_CASE("Concurrent revocations of the last two operator keys leave one of them", "[keys]") {
  const std::string url = fresh_database_url();
  PgConnection setup(url);
  apply_migrations(setup, STE_SCHEMA_DIR);
  const auto t = admin::create_tenant(setup, "acme", "Acme");
  auto second = admin::create_api_key(setup, t.id, "second", admin::KeyRole::operator_);
  REQUIRE(std::holds_alternative<admin::CreatedApiKey>(second));
  for (int round = 0; round < 5; ++round) {
    std::atomic<int> revoked{0}, refused{0};
    auto revoke = [&](const std::string& name) {
      PgConnection db(url);
      auto r = admin::revoke_api_key(db, t.id, name, admin::KeyLookup::id_or_name);
      if (std::holds_alternative<admin::ApiKeyInfo>(r)) {
        ++revoked;
      } else if (std::get<admin::KeyError>(r).code == admin::KeyErrc::last_operator) {
        ++refused;
      }
    };
    std::thread a(revoke, "default"), b(revoke, "second");
    a.join();
    b.join();
    CHECK(revoked == 1);
    CHECK(refused == 1);
    CHECK(admin::list_api_keys(setup, t.id).size() == 1);
    // Back to two operator keys for the next round.
    setup.exec("UPDATE api_keys SET revoked_at = NULL WHERE tenant_id = $1",
               {std::to_string(t.id)});
  }
}

TEST_CASE("/api/keys refuses a duplicate name, a bad name or role, and another tenant's key",
          "[api][keys]") {
  Pipeline p;
  const std::string globex = p.create_tenant("globex");
  p.start_evaluator("a");
  Api api(p.evaluators["a"].port);
  const std::string key = p.api_key;
  create_key(api, key, "alice", "viewer");

  check_error(api.post("/api/keys", key, R"({"name":"alice","role":"operator"})"), 409, "conflict",
              "an API key named 'alice' already exists");
  check_error(api.post("/api/keys", key, R"({"name":"default","role":"viewer"})"), 409, "conflict",
              "'default'");
  check_error(api.post("/api/keys", key, R"({"name":"carol","role":"admin"})"), 422,
              "invalid_field", "role must be operator or viewer");
  check_error(api.post("/api/keys", key, R"({"name":"carol","role":"Operator"})"), 422,
              "invalid_field", "role");
  check_error(api.post("/api/keys", key, R"({"name":"carol"})"), 422, "invalid_field",
              "role is required");
  check_error(api.post("/api/keys", key, R"({"role":"viewer"})"), 422, "invalid_field",
              "name is required");
  check_error(api.post("/api/keys", key, R"({"name":"has space","role":"viewer"})"), 422,
              "invalid_field", "name must be 1-64 characters of [A-Za-z0-9_.@-]");
  check_error(api.post("/api/keys", key, R"({"name":"","role":"viewer"})"), 422, "invalid_field",
              "name");
  check_error(
      api.post("/api/keys", key, R"({"name":")" + std::string(65, 'a') + R"(","role":"viewer"})"),
      422, "invalid_field", "name");
  check_error(api.post("/api/keys", key, R"({"name":"carol","role":"viewer","key":"ste_mine"})"),
              422, "unknown_field", "'key'");
  check_error(api.post("/api/keys", key, R"({"name":"carol","role":"viewer")"), 400,
              "malformed_json", "JSON");
  check_error(api.get("/api/keys?all=1", key), 422, "unknown_field", "'all'");

  // Another tenant's key id answers exactly like one that does not exist, and stays live.
  const std::string globex_id =
      query_scalar(p.db_url,
                   "SELECT k.id FROM api_keys k JOIN tenants t ON t.id = k.tenant_id WHERE "
                   "t.slug = 'globex'");
  create_key(api, globex, "spare", "operator");  // so the 404 is not the last-operator rule
  check_error(api.del("/api/keys/" + globex_id, key), 404, "not_found", globex_id);
  check_error(api.del("/api/keys/not-a-uuid", key), 404, "not_found", "not-a-uuid");
  check_error(api.del("/api/keys/3f1c2d4e-0000-4000-8000-000000000000", key), 404, "not_found",
              "API key");
  CHECK(api.get("/api/rules", globex)->status == 200);
  CHECK(key_id(api, key, "spare").empty());
  CHECK(query_count(p.db_url, "SELECT count(*) FROM api_keys WHERE revoked_at IS NOT NULL") == 0);
  CHECK(query_count(p.db_url, "SELECT count(*) FROM api_keys") == 4);
}

TEST_CASE("ste-admin key create, list and revoke manage a tenant's keys end to end",
          "[admin][keys]") {
  Pipeline p;
  p.start_evaluator("a");
  Api api(p.evaluators["a"].port);
  const auto log = [&](const std::string& name) { return p.logs.path() + "/" + name + ".log"; };
  const auto admin = [&](std::vector<std::string> args, const std::string& name) {
    args.insert(args.begin(), STE_ADMIN_BIN);
    args.push_back("--database-url=" + p.db_url);
    return run_command(args, log(name));
  };
  // The JSON line a command printed (its stdout), skipping the JSON log lines.
  const auto output = [&](const std::string& name) {
    std::istringstream in(read_file(log(name)));
    for (std::string line; std::getline(in, line);) {
      if (line.rfind("{\"tenant\":", 0) == 0) return line;
    }
    FAIL("no output line in " << read_file(log(name)));
    return std::string();
  };

  REQUIRE(admin({"key", "create", "acme", "--name", "alice", "--role", "viewer"}, "create") == 0);
  Json created(output("create"));
  CHECK(str(created["tenant"]) == "acme");
  CHECK(str(created["name"]) == "alice");
  CHECK(str(created["role"]) == "viewer");
  const std::string alice = str(created["key"]);
  const std::string alice_id = str(created["id"]);
  CHECK(api.get("/api/rules", alice)->status == 200);
  check_error(api.post("/api/rules", alice, kRuleBody), 403, "forbidden", "'alice'");
  // The secret is in the output of create only, not in a log line.
  CHECK(read_file(log("create")).find(alice) == read_file(log("create")).rfind(alice));

  REQUIRE(admin({"key", "create", "acme", "--name", "ops", "--role", "operator"}, "create-ops") ==
          0);
  const std::string ops = str(Json(output("create-ops"))["key"]);
  CHECK(api.post("/api/rules", ops, kRuleBody)->status == 201);

  REQUIRE(admin({"key", "list", "acme"}, "list") == 0);
  const std::string listed = output("list");
  Json list(listed);
  CHECK(list["keys"].get_array().size() == 3);
  for (const std::string& secret : {p.api_key, alice, ops}) {
    CHECK(listed.find(secret) == std::string::npos);
    CHECK(listed.find(sha256_hex(secret)) == std::string::npos);
  }

  // Refusals: non-zero exit, nothing changed.
  CHECK(admin({"key", "create", "acme", "--name", "alice", "--role", "viewer"}, "dup") != 0);
  CHECK(read_file(log("dup")).find("already exists") != std::string::npos);
  CHECK(admin({"key", "create", "acme", "--name", "carol", "--role", "admin"}, "bad-role") != 0);
  CHECK(admin({"key", "create", "acme", "--name", "bad name", "--role", "viewer"}, "bad-name") !=
        0);
  CHECK(admin({"key", "create", "nobody", "--name", "x", "--role", "viewer"}, "no-tenant") != 0);
  CHECK(admin({"key", "revoke", "acme", "nobody"}, "revoke-unknown") != 0);
  CHECK(query_count(p.db_url, "SELECT count(*) FROM api_keys") == 3);

  // Revoke by name, then by id.
  REQUIRE(admin({"key", "revoke", "acme", "alice"}, "revoke-name") == 0);
  CHECK(str(Json(output("revoke-name"))["id"]) == alice_id);
  CHECK(api.get("/api/rules", alice)->status == 401);
  const std::string default_id = key_id(api, ops, "default");
  REQUIRE(admin({"key", "revoke", "acme", default_id}, "revoke-id") == 0);
  CHECK(api.get("/api/rules", p.api_key)->status == 401);
  // The last operator key stays.
  CHECK(admin({"key", "revoke", "acme", "ops"}, "revoke-last") != 0);
  CHECK(read_file(log("revoke-last")).find("last operator key") != std::string::npos);
  CHECK(api.get("/api/rules", ops)->status == 200);
}

TEST_CASE("A tenant's key from schema 5 authenticates after the upgrade as `default` operator",
          "[keys][upgrade]") {
  const std::string url = fresh_database_url();
  PgConnection db(url);
  // Schema 5 exactly: the migrations up to 005, as an older release would have applied them.
  TempDir old_schema("ste-schema5-");
  for (const auto& m : list_migrations(STE_SCHEMA_DIR)) {
    if (m.version <= 5) {
      std::filesystem::copy_file(m.path, std::filesystem::path(old_schema.path()) / m.name);
    }
  }
  apply_migrations(db, old_schema.path());
  REQUIRE(schema_version(db) == 5);
  const std::string old_key = generate_api_key();
  const std::string other_key = generate_api_key();
  db.exec(
      "INSERT INTO tenants (slug, name, api_key_hash) VALUES ('acme', 'Acme', decode($1, 'hex')), "
      "('globex', 'Globex', decode($2, 'hex'))",
      {sha256_hex(old_key), sha256_hex(other_key)});

  REQUIRE(apply_migrations(db, STE_SCHEMA_DIR) >= 1);
  CHECK(schema_version(db) == kSchemaVersion);
  CHECK(kSchemaVersion >= 6);
  CHECK(query_count(url,
                    "SELECT count(*) FROM information_schema.columns WHERE table_name = "
                    "'tenants' AND column_name = 'api_key_hash'") == 0);

  const auto acme = api::authenticate(db, old_key);
  REQUIRE(acme);
  CHECK(acme->slug == "acme");
  CHECK(acme->key_name == "default");
  CHECK_FALSE(acme->read_only);
  CHECK(acme->key_id.size() == 36);
  const auto globex = api::authenticate(db, other_key);
  REQUIRE(globex);
  CHECK(globex->slug == "globex");
  CHECK(globex->key_name == "default");
  CHECK_FALSE(api::authenticate(db, generate_api_key()));

  // And the real evaluator takes the old key, with full rights.
  NatsServer nats;
  const int port = free_tcp_port();
  TempDir logs;
  Process evaluator({STE_EVALUATOR_BIN}, logs.path() + "/evaluator.log",
                    {{"STE_NATS_URL", nats.url()},
                     {"STE_DATABASE_URL", url},
                     {"STE_HTTP_ADDR", fmt::format("127.0.0.1:{}", port)},
                     {"STE_API_RATE_PER_SECOND", "0"},
                     {"STE_LOG_LEVEL", "info"}});
  REQUIRE(eventually(
      [&] {
        return read_file(logs.path() + "/evaluator.log").find("\"evaluator started\"") !=
               std::string::npos;
      },
      30s));
  Api api(port);
  CHECK(api.post("/api/rules", old_key, kRuleBody)->status == 201);
  CHECK(key_id(api, old_key, "default") == acme->key_id);
}
