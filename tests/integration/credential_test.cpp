// A credential belongs to its URL (issue 12 item 2, DESIGN §6): the operator's STE_* key and
// secret go only to the STE_* URLs, a tenant's URL gets only the tenant's own credential, and a
// delivery is sent with the URL and credential it was written with. Real evaluator, real
// receivers, integrations set through PUT /api/integrations.
#include <atomic>

#include "evaluator/delivery/webhook_signer.hpp"
#include "tests/integration/api_client.hpp"
#include "tests/integration/pipeline_fixture.hpp"
#include "tests/integration/webhook_receiver.hpp"

using namespace ste;
using namespace ste::test;
using namespace std::chrono_literals;

namespace {

const Process::Env kOperatorKeys{{"STE_NOTIFICATION_HUB_API_KEY", "operator-hub-key"},
                                 {"STE_WORKFLOW_ENGINE_SECRET", "operator-wf-secret"}};

Process::Env operator_env(WebhookReceiver& rx) {
  Process::Env env = kOperatorKeys;
  env["STE_NOTIFICATION_HUB_URL"] = rx.url("/op-hub");
  env["STE_WORKFLOW_ENGINE_URL"] = rx.url("/op-wf");
  return env;
}

std::string header(const Received& r, const std::string& name) {
  const auto it = r.headers.find(name);
  return it == r.headers.end() ? std::string("<none>") : it->second;
}

/// A rule on temperature > 80 for tenant `slug`, with plain SQL.
void add_rule_for(const Pipeline& p, const std::string& slug) {
  exec_sql(p.db_url, fmt::format("INSERT INTO alert_rules (tenant_id, name, metric, condition, "
                                 "threshold, cooldown_minutes) SELECT id, 'r', 'temperature', "
                                 "'above_threshold', 80, 0 FROM tenants WHERE slug = '{}'",
                                 slug));
}

void put_integrations(Api& api, const std::string& key, const std::string& body) {
  const auto r = api.put("/api/integrations", key, body);
  REQUIRE(r);
  INFO(r->body);
  REQUIRE(r->status == 200);
}

}  // namespace

TEST_CASE("A tenant's own URLs get the tenant's credential or none, never the operator's",
          "[delivery][credentials]") {
  WebhookReceiver op, acme_rx, globex_rx, initech_rx;
  Pipeline p;
  const std::string globex_key = p.create_tenant("globex");
  const std::string initech_key = p.create_tenant("initech");
  for (const auto* slug : {"acme", "globex", "initech"}) add_rule_for(p, slug);
  p.start_ingester();
  p.start_evaluator("a", operator_env(op));
  Api api(p.evaluators["a"].port);
  // acme: its own URLs, no key, no secret. globex: its own URLs with its own key and secret.
  // initech: a hub key but no URL of its own, so the operator's targets with the operator's
  // credentials (initech's key does not go to the operator's URL either).
  put_integrations(api, p.api_key,
                   fmt::format(R"({{"notification_hub_url":"{}","workflow_engine_url":"{}"}})",
                               acme_rx.url("/hub"), acme_rx.url("/wf")));
  put_integrations(
      api, globex_key,
      fmt::format(R"({{"notification_hub_url":"{}","notification_hub_api_key":"globex-key",)"
                  R"("workflow_engine_url":"{}","workflow_engine_secret":"globex-secret"}})",
                  globex_rx.url("/hub"), globex_rx.url("/wf")));
  put_integrations(api, initech_key, R"({"notification_hub_api_key":"initech-key"})");
  for (const auto* slug : {"acme", "globex", "initech"}) {
    p.publish(fmt::format("sensors.{}.boiler-1", slug), now_reading("temperature", 95));
  }
  REQUIRE(eventually([&] { return deliveries_with(p, "status = 'delivered'") == 6; }, 60s));

  const auto acme = acme_rx.received();
  REQUIRE(acme.size() == 2);
  for (const auto& r : acme) {
    INFO(r.path);
    CHECK(header(r, "X-API-Key") == "<none>");
    CHECK(header(r, "X-Hub-Signature-256") == "<none>");
  }
  const auto globex = globex_rx.received();
  REQUIRE(globex.size() == 2);
  for (const auto& r : globex) {
    INFO(r.path);
    if (r.path == "/hub/api/events") {
      CHECK(header(r, "X-API-Key") == "globex-key");
    } else {
      CHECK(header(r, "X-API-Key") == "<none>");
      CHECK(header(r, "X-Hub-Signature-256") ==
            "sha256=" + eval::hmac_sha256_hex("globex-secret", r.body));
    }
  }
  // The operator's targets got initech's two deliveries only, with the operator's credentials.
  const auto mine = op.received();
  REQUIRE(mine.size() == 2);
  for (const auto& r : mine) {
    INFO(r.path);
    CHECK(r.body.find("\"tenant\":\"initech\"") != std::string::npos);
    if (r.path == "/op-hub/api/events") {
      CHECK(header(r, "X-API-Key") == "operator-hub-key");
    } else {
      CHECK(header(r, "X-Hub-Signature-256") ==
            "sha256=" + eval::hmac_sha256_hex("operator-wf-secret", r.body));
    }
  }
  // The credential copied into an outbox row is gone once the row is final.
  CHECK(deliveries_with(p, "credential IS NOT NULL") == 0);
}

TEST_CASE(
    "A delivery written before the tenant rotates (URL, key) goes to the old URL with the "
    "old key — the new key only to the new URL",
    "[delivery][credentials]") {
  WebhookReceiver op, first, second;
  std::atomic<bool> first_up{false};
  first.respond = [&](const Received&) { return first_up ? 200 : 503; };
  Pipeline p;
  add_rule_for(p, "acme");
  p.start_ingester();
  p.start_evaluator("a", operator_env(op));
  Api api(p.evaluators["a"].port);
  put_integrations(api, p.api_key,
                   fmt::format(R"({{"notification_hub_url":"{}","notification_hub_api_key":"K1",)"
                               R"("workflow_engine_url":"{}","workflow_engine_secret":"S1"}})",
                               first.url("/hub"), first.url("/wf")));
  p.publish("sensors.acme.boiler-1", now_reading("temperature", 95));
  // Both rows exist and have been tried (503) at the first URLs before anything changes.
  REQUIRE(eventually([&] { return first.count() >= 2; }, 30s));
  REQUIRE(deliveries_with(p, "status = 'pending'") == 2);
  put_integrations(api, p.api_key,
                   fmt::format(R"({{"notification_hub_url":"{}","notification_hub_api_key":"K2",)"
                               R"("workflow_engine_url":"{}","workflow_engine_secret":"S2"}})",
                               second.url("/hub"), second.url("/wf")));
  first_up = true;
  REQUIRE(eventually([&] { return deliveries_with(p, "status = 'delivered'") == 2; }, 60s));
  // A new alert after the rotation: the new pair.
  p.publish("sensors.acme.boiler-2", now_reading("temperature", 96));
  REQUIRE(eventually([&] { return deliveries_with(p, "status = 'delivered'") == 4; }, 60s));

  const auto old_pair = first.received();
  REQUIRE(old_pair.size() >= 4);  // at least one 503 and the 200 for each row
  for (const auto& r : old_pair) {
    INFO(r.path);
    CHECK(r.body.find("boiler-1") != std::string::npos);
    if (r.path == "/hub/api/events") {
      CHECK(header(r, "X-API-Key") == "K1");
    } else {
      CHECK(header(r, "X-Hub-Signature-256") == "sha256=" + eval::hmac_sha256_hex("S1", r.body));
    }
  }
  const auto new_pair = second.received();
  REQUIRE(new_pair.size() == 2);
  for (const auto& r : new_pair) {
    INFO(r.path);
    CHECK(r.body.find("boiler-2") != std::string::npos);
    if (r.path == "/hub/api/events") {
      CHECK(header(r, "X-API-Key") == "K2");
    } else {
      CHECK(header(r, "X-Hub-Signature-256") == "sha256=" + eval::hmac_sha256_hex("S2", r.body));
    }
  }
  CHECK(op.count() == 0);
}

TEST_CASE("Outbox rows from before schema 004 get a credential only where their URL is current",
          "[delivery][credentials]") {
  WebhookReceiver op, tenant_rx;
  Pipeline p;
  add_rule_for(p, "acme");
  p.start_ingester();
  // The evaluator starts with no targets, so the alert gets no outbox rows of its own.
  p.start_evaluator("a", kOperatorKeys);
  p.publish("sensors.acme.boiler-1", now_reading("temperature", 95));
  REQUIRE(eventually([&] { return p.alerts() == 1; }, 30s));
  p.evaluators["a"].proc->terminate();
  REQUIRE(p.evaluators["a"].proc->wait_exit(20s));
  // Rows as the old code wrote them (no credential source): one at the operator's current hub
  // URL, one at the tenant's current workflow URL (the tenant has no secret, so: none, not the
  // operator's). Then the evaluator comes back with the operator's targets.
  exec_sql(p.db_url,
           fmt::format("INSERT INTO tenant_integrations (tenant_id, workflow_engine_url) VALUES "
                       "({}, '{}')",
                       p.tenant_id, tenant_rx.url("/wf")));
  exec_sql(p.db_url, fmt::format("INSERT INTO deliveries (alert_id, tenant_id, target, url, event, "
                                 "transition_seq) SELECT id, tenant_id, 'notification_hub', '{}', "
                                 "'created', 1 FROM alerts",
                                 op.url("/op-hub")));
  exec_sql(p.db_url, fmt::format("INSERT INTO deliveries (alert_id, tenant_id, target, url, event, "
                                 "transition_seq) SELECT id, tenant_id, 'workflow_engine', '{}', "
                                 "'created', 1 FROM alerts",
                                 tenant_rx.url("/wf")));
  p.start_evaluator("a", operator_env(op));
  REQUIRE(eventually([&] { return deliveries_with(p, "status = 'delivered'") == 2; }, 30s));
  REQUIRE(op.count() == 1);
  CHECK(header(op.received()[0], "X-API-Key") == "operator-hub-key");
  REQUIRE(tenant_rx.count() == 1);
  CHECK(header(tenant_rx.received()[0], "X-Hub-Signature-256") == "<none>");
}
