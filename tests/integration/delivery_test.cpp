// Webhook deliveries through the outbox, against a real HTTP receiver (WebhookReceiver) started
// by the test, with the real ingester and evaluator.
#include <atomic>
#include <set>

#include "evaluator/delivery/webhook_signer.hpp"
#include "tests/integration/pipeline_fixture.hpp"
#include "tests/integration/webhook_receiver.hpp"

using namespace ste;
using namespace ste::test;
using namespace std::chrono_literals;

TEST_CASE(
    "Both webhook requests carry exactly the contract's headers and body, signature verifiable",
    "[delivery]") {
  WebhookReceiver rx;
  Pipeline p;
  p.add_rule("above_threshold", 80, "temperature");
  p.start_ingester();
  p.start_evaluator("a", {{"STE_NOTIFICATION_HUB_URL", rx.url("/hub/")},
                          {"STE_NOTIFICATION_HUB_API_KEY", "hub-key-123"},
                          {"STE_WORKFLOW_ENGINE_URL", rx.url("/wf/hook")},
                          {"STE_WORKFLOW_ENGINE_SECRET", "s3cret"}});
  p.publish("sensors.acme.boiler-7", now_reading("temperature", 93.2));
  REQUIRE(eventually([&] { return deliveries_with(p, "status = 'delivered'") == 2; }, 30s));
  const std::string alert_id = query_scalar(p.db_url, "SELECT id FROM alerts");
  const auto got = rx.received();
  REQUIRE(got.size() == 2);
  for (const auto& r : got) {
    CHECK(r.headers.at("Content-Type") == "application/json");
    simdjson::dom::parser parser;
    simdjson::dom::element body = parser.parse(r.body);
    if (r.path == "/hub/api/events") {
      CHECK(r.headers.at("X-API-Key") == "hub-key-123");
      CHECK(std::string_view(body["event_type"]) == "sensor.alert.created");
      CHECK(std::string_view(body["event_id"]) == alert_id);
      CHECK(std::string_view(body["payload"]["id"]) == alert_id);
      CHECK(double(body["payload"]["value"]) == 93.2);
      CHECK(r.headers.count("X-Hub-Signature-256") == 0);
    } else {
      CHECK(r.path == "/wf/hook");
      CHECK(r.headers.at("X-STE-Event") == "alert.created");
      CHECK(r.headers.at("X-STE-Delivery") ==
            query_scalar(p.db_url, "SELECT id FROM deliveries WHERE target = 'workflow_engine'"));
      // The receiver verifies the signature over the exact bytes it received.
      CHECK(r.headers.at("X-Hub-Signature-256") ==
            "sha256=" + eval::hmac_sha256_hex("s3cret", r.body));
      CHECK(std::string_view(body["event"]) == "alert.created");
      CHECK(std::string_view(body["alert"]["id"]) == alert_id);
      CHECK(r.headers.count("X-API-Key") == 0);
    }
  }
  CHECK(query_count(p.db_url,
                    "SELECT count(*) FROM delivery_attempts WHERE outcome = 'delivered' AND "
                    "http_status = 200") == 2);
}

TEST_CASE("500, 500, 200 is delivered on attempt 3 — 400 fails after one attempt", "[delivery]") {
  WebhookReceiver flaky, rejecting;
  std::atomic<int> calls{0};
  flaky.respond = [&](const Received&) { return ++calls <= 2 ? 500 : 200; };
  rejecting.respond = [](const Received&) { return 400; };
  Pipeline p;
  p.add_rule("above_threshold", 80, "temperature");
  p.start_ingester();
  p.start_evaluator("a", {{"STE_NOTIFICATION_HUB_URL", flaky.url("")},
                          {"STE_WORKFLOW_ENGINE_URL", rejecting.url("/wf")}});
  p.publish("sensors.acme.boiler-7", now_reading("temperature", 99));
  REQUIRE(eventually([&] { return deliveries_with(p, "status = 'delivered'") == 1; }, 60s));
  REQUIRE(eventually([&] { return deliveries_with(p, "status = 'failed'") == 1; }, 30s));
  CHECK(query_scalar(p.db_url,
                     "SELECT attempts FROM deliveries WHERE target = 'notification_hub'") == "3");
  CHECK(query_scalar(
            p.db_url,
            "SELECT string_agg(http_status::text, ',' ORDER BY attempt) FROM delivery_attempts a "
            "JOIN deliveries d ON d.id = a.delivery_id WHERE d.target = 'notification_hub'") ==
        "500,500,200");
  CHECK(query_scalar(p.db_url,
                     "SELECT attempts FROM deliveries WHERE target = 'workflow_engine'") == "1");
  CHECK(query_scalar(p.db_url,
                     "SELECT last_status FROM deliveries WHERE target = 'workflow_engine'") ==
        "400");
  CHECK(rejecting.count() == 1);
}

TEST_CASE(
    "A receiver that never answers slows neither alerts nor ingestion — deliveries follow once it "
    "answers",
    "[delivery]") {
  WebhookReceiver rx;
  rx.hold();
  rx.respond = [&](const Received&) {
    rx.wait_while_held();
    return 200;
  };
  Pipeline p;
  p.add_rule("above_threshold", 80, "temperature", 15);
  p.start_ingester();
  p.start_evaluator("a", {{"STE_WORKFLOW_ENGINE_URL", rx.url("/wf")}});
  constexpr int kDevices = 20;
  const auto started = std::chrono::steady_clock::now();
  for (int d = 0; d < kDevices; ++d) {
    p.publish(fmt::format("sensors.acme.dev-{}", d), now_reading("temperature", 90 + d));
  }
  // Every crossing becomes an alert and every reading is stored while the receiver hangs.
  REQUIRE(eventually([&] { return p.alerts() == kDevices; }, 30s));
  REQUIRE(p.rows() == kDevices);
  const auto detection = std::chrono::steady_clock::now() - started;
  CHECK(detection < 20s);  // far below 20 × the 5 s send timeout: detection did not wait on sends
  CHECK(deliveries_with(p, "status = 'pending'") == kDevices);
  CHECK(deliveries_with(p, "status = 'delivered'") == 0);
  rx.release();
  REQUIRE(eventually([&] { return deliveries_with(p, "status = 'delivered'") == kDevices; }, 90s));
}

TEST_CASE("Pending deliveries of a SIGKILLed evaluator are delivered after its restart",
          "[delivery]") {
  WebhookReceiver rx;
  std::atomic<bool> healthy{false};
  rx.respond = [&](const Received&) { return healthy ? 200 : 503; };
  Pipeline p;
  p.add_rule("above_threshold", 80, "temperature");
  p.start_ingester();
  const Process::Env env{{"STE_NOTIFICATION_HUB_URL", rx.url("")}};
  p.start_evaluator("a", env);
  p.publish("sensors.acme.boiler-9", now_reading("temperature", 99));
  REQUIRE(eventually(
      [&] { return query_count(p.db_url, "SELECT count(*) FROM delivery_attempts") >= 1; }, 30s));
  p.evaluators["a"].proc->kill();
  REQUIRE(p.evaluators["a"].proc->wait_exit(10s));
  CHECK(deliveries_with(p, "status = 'pending'") == 1);
  healthy = true;
  p.start_evaluator("a", env);
  REQUIRE(eventually([&] { return deliveries_with(p, "status = 'delivered'") == 1; }, 60s));
}

TEST_CASE("Two evaluator instances side by side never send a delivery twice", "[delivery]") {
  WebhookReceiver rx;
  Pipeline p;
  p.add_rule("above_threshold", 80, "temperature");
  p.start_ingester();
  const Process::Env env{{"STE_WORKFLOW_ENGINE_URL", rx.url("/wf")}};
  p.start_evaluator("a", env);
  p.start_evaluator("b", env);
  constexpr int kDevices = 40;
  for (int d = 0; d < kDevices; ++d) {
    p.publish(fmt::format("sensors.acme.dev-{}", d), now_reading("temperature", 95));
  }
  REQUIRE(eventually([&] { return deliveries_with(p, "status = 'delivered'") == kDevices; }, 60s));
  const auto got = rx.received();
  std::set<std::string> ids;
  for (const auto& r : got) ids.insert(r.headers.at("X-STE-Delivery"));
  CHECK(got.size() == static_cast<size_t>(kDevices));
  CHECK(ids.size() == static_cast<size_t>(kDevices));
}

TEST_CASE("A tenant's own targets set with ste-admin replace the defaults", "[delivery]") {
  WebhookReceiver defaults, own;
  Pipeline p;
  run_admin(p.db_url,
            {"integrations", "set", "acme", "--workflow-url", own.url("/mine"), "--workflow-secret",
             "tenant-secret"},
            p.logs.path() + "/integrations.log");
  p.add_rule("above_threshold", 80, "temperature");
  p.start_ingester();
  p.start_evaluator("a", {{"STE_WORKFLOW_ENGINE_URL", defaults.url("/default")},
                          {"STE_WORKFLOW_ENGINE_SECRET", "default-secret"},
                          {"STE_NOTIFICATION_HUB_URL", defaults.url("")}});
  p.publish("sensors.acme.boiler-1", now_reading("temperature", 85));
  REQUIRE(eventually([&] { return deliveries_with(p, "status = 'delivered'") == 2; }, 30s));
  const auto mine = own.received();
  REQUIRE(mine.size() == 1);
  CHECK(mine[0].path == "/mine");
  CHECK(mine[0].headers.at("X-Hub-Signature-256") ==
        "sha256=" + eval::hmac_sha256_hex("tenant-secret", mine[0].body));
  // The hub is not set for the tenant, so the default hub still gets its delivery.
  const auto def = defaults.received();
  REQUIRE(def.size() == 1);
  CHECK(def[0].path == "/api/events");
  // The secret was never printed by ste-admin.
  CHECK(read_file(p.logs.path() + "/integrations.log").find("tenant-secret") == std::string::npos);
}
