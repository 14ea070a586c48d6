// Alert episodes end to end (docs/ALERTING.md §1, §6): real ingester, evaluators, nats-server,
// PostgreSQL and webhook receivers. Readings carry explicit device timestamps, because
// for_minutes and clear_for_minutes are counted in data time.
#include <filesystem>

#include "tests/integration/api_client.hpp"
#include "tests/integration/episode_test_support.hpp"
#include "tests/integration/pipeline_fixture.hpp"
#include "tests/integration/webhook_receiver.hpp"

using namespace ste;
using namespace ste::test;
using namespace std::chrono_literals;

TEST_CASE(
    "An episode that clears inside the cooldown sends one created and one resolved "
    "notification — the next episode inside the cooldown notifies neither",
    "[episodes]") {
  WebhookReceiver hub;
  Pipeline p;
  const TimePoint t0 = test_base_time();
  p.add_rule("above_threshold", 80, "temperature", /*cooldown_minutes=*/15);
  p.start_ingester();
  p.start_evaluator("a", {{"STE_NOTIFICATION_HUB_URL", hub.url("")}});

  p.publish("sensors.acme.boiler-1", reading_json("temperature", 90, t0));
  REQUIRE(eventually([&] { return status_of(p) == "firing"; }, 30s));
  // The deliveries of two transitions may be sent in parallel: the order of arrival is checked
  // only because the first arrived before the second transition happened.
  REQUIRE(eventually([&] { return hub.count() == 1; }, 30s));
  p.publish("sensors.acme.boiler-1", reading_json("temperature", 50, t0 + 1s));
  REQUIRE(eventually([&] { return status_of(p) == "resolved"; }, 30s));
  REQUIRE(eventually([&] { return hub.count() == 2; }, 30s));
  CHECK(hub_events(hub) ==
        std::vector<std::string>{"sensor.alert.created", "sensor.alert.resolved"});
  const std::string id = query_scalar(p.db_url, "SELECT id FROM alerts");
  CHECK(header_of(hub.received()[0], "Idempotency-Key") == id + ":2");  // opened 1, fired 2
  CHECK(header_of(hub.received()[1], "Idempotency-Key") == id + ":3");
  CHECK(query_scalar(p.db_url, "SELECT resolve_reason FROM alerts") == "cleared");

  // Fires again 2 s later (data time and server time): inside the 15-minute cooldown of the
  // last firing notification, so stored and visible but not notified, and neither is its end.
  p.publish("sensors.acme.boiler-1", reading_json("temperature", 95, t0 + 2s));
  REQUIRE(eventually([&] { return status_of(p) == "resolved,firing"; }, 30s));
  p.publish("sensors.acme.boiler-1", reading_json("temperature", 40, t0 + 3s));
  REQUIRE(eventually([&] { return status_of(p) == "resolved,resolved"; }, 30s));
  CHECK(query_scalar(p.db_url,
                     "SELECT string_agg(notified::text, ',' ORDER BY created_at) "
                     "FROM alerts") == "true,false");
  // Outbox rows are written in the transitions' transactions: all that will ever exist exist.
  CHECK(query_count(p.db_url, "SELECT count(*) FROM deliveries") == 2);
  CHECK(events(p, "notification_suppressed") == 2);
  REQUIRE(eventually(
      [&] {
        return query_count(p.db_url,
                           "SELECT count(*) FROM deliveries WHERE status = "
                           "'delivered'") == 2;
      },
      30s));
  CHECK(hub.count() == 2);
}

TEST_CASE("A value between clear_threshold and threshold keeps the episode firing", "[episodes]") {
  Pipeline p;
  const TimePoint t0 = test_base_time();
  const std::string rule = p.add_rule("above_threshold", 80, "temperature");
  exec_sql(p.db_url, "UPDATE alert_rules SET clear_threshold = 70 WHERE id = '" + rule + "'");
  p.start_ingester();
  p.start_evaluator("a");
  const auto last_value = [&] { return query_scalar(p.db_url, "SELECT last_value FROM alerts"); };

  p.publish("sensors.acme.boiler-1", reading_json("temperature", 90, t0));
  REQUIRE(eventually([&] { return status_of(p) == "firing"; }, 30s));
  p.publish("sensors.acme.boiler-1", reading_json("temperature", 75, t0 + 1s));
  REQUIRE(eventually([&] { return last_value() == "75"; }, 30s));
  CHECK(status_of(p) == "firing");  // 75 is above clear_threshold 70: hysteresis
  p.publish("sensors.acme.boiler-1", reading_json("temperature", 70, t0 + 2s));
  REQUIRE(eventually([&] { return status_of(p) == "resolved"; }, 30s));  // <= 70 clears
  CHECK(p.alerts() == 1);
}

TEST_CASE("for_minutes fires on time and once with the evaluator SIGKILLed in the pending period",
          "[episodes]") {
  Pipeline p;
  const TimePoint t0 = test_base_time();
  const std::string rule = p.add_rule("above_threshold", 80, "temperature");
  exec_sql(p.db_url, "UPDATE alert_rules SET for_minutes = 1 WHERE id = '" + rule + "'");
  p.start_ingester();
  const Process::Env env{{"STE_NOTIFICATION_HUB_URL", "http://127.0.0.1:1/hub"}};
  p.start_evaluator("a", env);
  const auto last_value = [&] { return query_scalar(p.db_url, "SELECT last_value FROM alerts"); };

  p.publish("sensors.acme.boiler-1", reading_json("temperature", 90, t0));
  REQUIRE(eventually([&] { return status_of(p) == "pending"; }, 30s));
  p.publish("sensors.acme.boiler-1", reading_json("temperature", 91, t0 + 30s));
  REQUIRE(eventually([&] { return last_value() == "91"; }, 30s));
  CHECK(status_of(p) == "pending");  // 30 s of a 60 s period
  CHECK(query_count(p.db_url, "SELECT count(*) FROM deliveries") == 0);

  p.evaluators["a"].proc->kill();
  REQUIRE(p.evaluators["a"].proc->wait_exit(10s));
  p.start_evaluator("a", env);
  p.publish("sensors.acme.boiler-1", reading_json("temperature", 92, t0 + 61s));
  REQUIRE(eventually([&] { return status_of(p) == "firing"; }, 30s));
  CHECK(p.alerts() == 1);
  CHECK(events(p, "opened") == 1);
  CHECK(events(p, "fired") == 1);
  // It fired with the first reading that showed the condition held for a minute: t0 + 61 s.
  CHECK(
      query_scalar(p.db_url,
                   "SELECT extract(epoch FROM data_ts)::bigint FROM alert_events WHERE kind = "
                   "'fired'") ==
      std::to_string(
          std::chrono::duration_cast<std::chrono::seconds>((t0 + 61s).time_since_epoch()).count()));
  CHECK(query_scalar(p.db_url, "SELECT extract(epoch FROM started_at)::bigint FROM alerts") ==
        std::to_string(
            std::chrono::duration_cast<std::chrono::seconds>(t0.time_since_epoch()).count()));
  CHECK(query_count(p.db_url, "SELECT count(*) FROM deliveries WHERE event = 'created'") == 1);
}

TEST_CASE("A pending episode is cancelled by a reading that breaks the condition", "[episodes]") {
  Pipeline p;
  const TimePoint t0 = test_base_time();
  const std::string rule = p.add_rule("above_threshold", 80, "temperature");
  exec_sql(p.db_url, "UPDATE alert_rules SET for_minutes = 5 WHERE id = '" + rule + "'");
  p.start_ingester();
  p.start_evaluator("a", {{"STE_NOTIFICATION_HUB_URL", "http://127.0.0.1:1/hub"}});
  p.publish("sensors.acme.boiler-1", reading_json("temperature", 90, t0));
  REQUIRE(eventually([&] { return status_of(p) == "pending"; }, 30s));
  p.publish("sensors.acme.boiler-1", reading_json("temperature", 60, t0 + 10s));
  REQUIRE(eventually([&] { return status_of(p) == "cancelled"; }, 30s));
  CHECK(query_count(p.db_url, "SELECT count(*) FROM deliveries") == 0);  // notifies nothing
}

TEST_CASE("Editing a rule's threshold resolves its open episodes with rule_changed", "[episodes]") {
  WebhookReceiver hub;
  Pipeline p;
  const TimePoint t0 = test_base_time();
  p.start_ingester();
  p.start_evaluator("a", {{"STE_NOTIFICATION_HUB_URL", hub.url("")}});
  Api api(p.evaluators["a"].port);
  auto created = api.post("/api/rules", p.api_key,
                          R"({"name":"hot","metric":"temperature","condition":"above_threshold",)"
                          R"("threshold":80,"cooldown_minutes":0})");
  REQUIRE(created);
  REQUIRE(created->status == 201);
  const std::string id(std::string_view(Json(created->body)["id"]));
  REQUIRE(eventually([&] { return p.evaluator_metric("a", "ste_eval_rules") == 1; }, 10s));
  p.publish("sensors.acme.boiler-1", reading_json("temperature", 90, t0));
  p.publish("sensors.acme.boiler-2", reading_json("temperature", 91, t0));
  REQUIRE(eventually([&] { return status_of(p) == "firing,firing"; }, 30s));

  // A new name alone leaves them open; a new threshold closes them.
  auto renamed = api.put("/api/rules/" + id, p.api_key,
                         R"({"name":"boiler hot","metric":"temperature",)"
                         R"("condition":"above_threshold","threshold":80,"cooldown_minutes":0})");
  REQUIRE(renamed);
  REQUIRE(renamed->status == 200);
  CHECK(status_of(p) == "firing,firing");
  auto edited = api.put("/api/rules/" + id, p.api_key,
                        R"({"name":"boiler hot","metric":"temperature",)"
                        R"("condition":"above_threshold","threshold":95,"cooldown_minutes":0})");
  REQUIRE(edited);
  REQUIRE(edited->status == 200);
  CHECK(status_of(p) == "resolved,resolved");
  CHECK(query_scalar(p.db_url, "SELECT string_agg(DISTINCT resolve_reason, ',') FROM alerts") ==
        "rule_changed");
  CHECK(query_scalar(p.db_url,
                     "SELECT string_agg(DISTINCT actor, ',') FROM alert_events WHERE "
                     "kind = 'resolved'") == "default");
  REQUIRE(eventually([&] { return hub.count() == 4; }, 30s));  // 2 created, 2 resolved

  // New episodes start from the new definition. Until the evaluator's rule cache has reloaded
  // (a NOTIFY away), a crossing is judged by the old rule and skipped as stale rather than
  // stored: each reading below either fires under the new threshold or counts as stale, so the
  // loop ends once the cache has the edit.
  bool fired = false;
  for (int k = 0; k < 20 && !fired; ++k) {
    const double stale_before = p.evaluator_metric("a", "ste_eval_rule_stale_total");
    p.publish("sensors.acme.boiler-1",
              reading_json("temperature", 96, t0 + 5s + std::chrono::seconds{k}));
    REQUIRE(eventually(
        [&] {
          fired = status_of(p, "device_key = 'boiler-1'") == "resolved,firing";
          return fired || p.evaluator_metric("a", "ste_eval_rule_stale_total") > stale_before;
        },
        30s));
  }
  REQUIRE(fired);
  CHECK(query_scalar(p.db_url, "SELECT threshold FROM alerts WHERE status = 'firing'") == "95");

  // Deleting the rule resolves that one with rule_deleted.
  auto deleted = api.del("/api/rules/" + id, p.api_key);
  REQUIRE(deleted);
  CHECK(deleted->status == 204);
  CHECK(query_scalar(p.db_url,
                     "SELECT resolve_reason FROM alerts ORDER BY created_at DESC "
                     "LIMIT 1") == "rule_deleted");
  CHECK(query_count(p.db_url,
                    "SELECT count(*) FROM alerts WHERE status IN ('pending', "
                    "'firing')") == 0);
}

TEST_CASE("Disabling a rule resolves its open episodes with rule_disabled", "[episodes]") {
  Pipeline p;
  const TimePoint t0 = test_base_time();
  p.start_ingester();
  p.start_evaluator("a", {{"STE_NOTIFICATION_HUB_URL", "http://127.0.0.1:1/hub"}});
  Api api(p.evaluators["a"].port);
  const std::string body =
      R"({"name":"hot","metric":"temperature","condition":"above_threshold","threshold":80)";
  auto created = api.post("/api/rules", p.api_key, body + "}");
  REQUIRE(created);
  REQUIRE(created->status == 201);
  const std::string id(std::string_view(Json(created->body)["id"]));
  REQUIRE(eventually([&] { return p.evaluator_metric("a", "ste_eval_rules") == 1; }, 10s));
  p.publish("sensors.acme.boiler-1", reading_json("temperature", 90, t0));
  REQUIRE(eventually([&] { return status_of(p) == "firing"; }, 30s));

  auto disabled = api.put("/api/rules/" + id, p.api_key, body + R"(,"enabled":false})");
  REQUIRE(disabled);
  REQUIRE(disabled->status == 200);
  CHECK(query_scalar(p.db_url, "SELECT status || ' ' || resolve_reason FROM alerts") ==
        "resolved rule_disabled");
  // Its firing was notified, so its resolution is too, as its own transition.
  CHECK(query_scalar(p.db_url,
                     "SELECT string_agg(event || transition_seq, ',' ORDER BY "
                     "transition_seq) FROM deliveries") == "created2,resolved3");
}

TEST_CASE(
    "Three evaluators racing on one fingerprint make one episode, one firing and one "
    "resolved notification",
    "[episodes]") {
  WebhookReceiver hub;
  Pipeline p;
  const TimePoint t0 = test_base_time();
  p.add_rule("above_threshold", 80, "temperature", /*cooldown_minutes=*/0);
  // One reading per summary, so consecutive readings of the device go to different instances.
  p.start_ingester({{"STE_BATCH_SIZE", "1"}, {"STE_BATCH_INTERVAL_MS", "1"}});
  const Process::Env env{{"STE_NOTIFICATION_HUB_URL", hub.url("")}, {"STE_EVAL_WORKERS", "2"}};
  for (const char* name : {"a", "b", "c"}) p.start_evaluator(name, env);
  const auto all_evaluated = [&] {
    for (const char* name : {"a", "b", "c"}) {
      if (p.evaluator_metric(name, "ste_eval_summaries_total") < 1) return false;
    }
    return true;
  };
  // Crossing readings until every instance has evaluated some: the race is certain, not likely.
  int i = 0;
  const auto deadline = std::chrono::steady_clock::now() + 60s;
  while (!all_evaluated()) {
    REQUIRE(std::chrono::steady_clock::now() < deadline);
    for (int k = 0; k < 20; ++k, ++i) {
      p.publish("sensors.acme.boiler-1",
                reading_json("temperature", 90 + i % 5, t0 + std::chrono::milliseconds{i * 10}));
    }
  }
  REQUIRE(eventually([&] { return status_of(p) == "firing"; }, 30s));
  REQUIRE(eventually([&] { return hub.count() == 1; }, 30s));  // before the resolution exists
  // Then clearing readings, later in data time, also spread over the instances.
  const int before_clear = i;
  for (int k = 0; k < 30; ++k, ++i) {
    p.publish("sensors.acme.boiler-1",
              reading_json("temperature", 50, t0 + std::chrono::milliseconds{i * 10}));
  }
  REQUIRE(eventually([&] { return status_of(p) == "resolved"; }, 30s));
  // Every summary evaluated: nothing is still in flight that could open another episode.
  REQUIRE(eventually([&] { return p.rows() == i; }, 60s));
  REQUIRE(eventually(
      [&] {
        double n = 0;
        for (const char* name : {"a", "b", "c"}) {
          n += p.evaluator_metric(name, "ste_eval_summaries_total");
        }
        return n >= Pipeline::metric(p.ingester_port, "ste_ingest_summary_parts_total");
      },
      60s));
  INFO("published " << i << " readings, " << i - before_clear << " clearing");
  CHECK(p.alerts() == 1);
  CHECK(events(p, "fired") == 1);
  CHECK(events(p, "resolved") == 1);
  REQUIRE(eventually([&] { return hub.count() == 2; }, 30s));
  CHECK(hub_events(hub) ==
        std::vector<std::string>{"sensor.alert.created", "sensor.alert.resolved"});
}

TEST_CASE(
    "Upgrading a database with one-shot alerts keeps every alert, resolved as migrated, and "
    "their cooldown",
    "[episodes][migration]") {
  Pipeline p;  // migrated to the newest schema already; start again from schema 4
  const std::string db = fresh_database_url();
  TempDir old_schema;
  for (const auto& f : std::filesystem::directory_iterator(STE_SCHEMA_DIR)) {
    if (f.path().filename().string() < "005") {
      std::filesystem::copy_file(f.path(), old_schema.path() + "/" + f.path().filename().string());
    }
  }
  run_admin(db, {"migrate", "--schema-dir", old_schema.path()}, p.logs.path() + "/m4.log");
  exec_sql(
      db,
      "INSERT INTO tenants (slug, name, api_key_hash) VALUES ('acme', 'acme', "
      "sha256('k'::bytea));"
      "INSERT INTO devices (tenant_id, device_key) SELECT id, 'boiler-1' FROM tenants;"
      "INSERT INTO alert_rules (id, tenant_id, name, metric, condition, threshold) SELECT "
      "'00000000-0000-4000-8000-000000000001', id, 'hot', 'temperature', 'above_threshold', "
      "80 FROM tenants;"
      "INSERT INTO alerts (tenant_id, rule_id, device_id, device_key, metric, condition, "
      "threshold, value, reading_ts, severity, message, created_at) SELECT t.id, "
      "'00000000-0000-4000-8000-000000000001', d.id, 'boiler-1', 'temperature', "
      "'above_threshold', 80, 90 + g, now() - g * interval '1 minute', 'warning', 'old ' || g, "
      "now() - g * interval '1 minute' FROM tenants t, devices d, generate_series(1, 3) g;"
      "INSERT INTO deliveries (alert_id, tenant_id, target, url, status) SELECT id, tenant_id, "
      "'notification_hub', 'http://192.0.2.1/hub', 'delivered' FROM alerts;");
  const std::string ids_before =
      query_scalar(db, "SELECT string_agg(id::text || value, ',' ORDER BY id) FROM alerts");

  run_admin(db, {"migrate", "--schema-dir", STE_SCHEMA_DIR}, p.logs.path() + "/m5.log");
  CHECK(query_scalar(db, "SELECT string_agg(id::text || value, ',' ORDER BY id) FROM alerts") ==
        ids_before);
  CHECK(query_scalar(db,
                     "SELECT string_agg(DISTINCT status || '/' || resolve_reason || '/' || "
                     "notified, ',') FROM alerts") == "resolved/migrated/true");
  CHECK(query_count(db, "SELECT count(*) FROM alert_events") == 6);  // fired + resolved each
  CHECK(query_scalar(db,
                     "SELECT string_agg(DISTINCT event || transition_seq, ',') FROM "
                     "deliveries") == "created1");
  // The fingerprint remembers the newest notification (1 minute ago): a 15-minute cooldown runs.
  CHECK(query_count(db,
                    "SELECT count(*) FROM alert_fingerprints WHERE last_notified_at > now() - "
                    "interval '2 minutes'") == 1);
  // No open episode: the API's open filter and the one-open index have nothing to trip on.
  CHECK(query_count(db, "SELECT count(*) FROM alerts WHERE status IN ('pending', 'firing')") == 0);
}

TEST_CASE(
    "Acknowledged, resolved, then firing again gives a new unacknowledged episode — a viewer "
    "key cannot acknowledge",
    "[episodes][ack]") {
  Pipeline p;
  const TimePoint t0 = test_base_time();
  p.add_rule("above_threshold", 80, "temperature", /*cooldown_minutes=*/0);
  p.start_ingester();
  p.start_evaluator("a");
  Api api(p.evaluators["a"].port);
  auto viewer = api.post("/api/keys", p.api_key, R"({"name":"wall","role":"viewer"})");
  REQUIRE(viewer);
  REQUIRE(viewer->status == 201);
  const std::string viewer_key(std::string_view(Json(viewer->body)["key"]));

  p.publish("sensors.acme.boiler-1", reading_json("temperature", 90, t0));
  REQUIRE(eventually([&] { return status_of(p) == "firing"; }, 30s));
  const std::string first = query_scalar(p.db_url, "SELECT id FROM alerts");
  check_error(api.post("/api/alerts/" + first + "/ack", viewer_key, R"({"comment":"mine"})"), 403,
              "forbidden", "viewer");
  CHECK(query_scalar(p.db_url, "SELECT acked_at IS NULL FROM alerts") == "t");
  auto ack = api.post("/api/alerts/" + first + "/ack", p.api_key, R"({"comment":"on it"})");
  REQUIRE(ack);
  REQUIRE(ack->status == 200);
  CHECK(std::string_view(Json(ack->body)["acked_by"]) == "default");

  p.publish("sensors.acme.boiler-1", reading_json("temperature", 50, t0 + 1s));
  REQUIRE(eventually([&] { return status_of(p) == "resolved"; }, 30s));
  p.publish("sensors.acme.boiler-1", reading_json("temperature", 91, t0 + 2s));
  REQUIRE(eventually([&] { return status_of(p) == "resolved,firing"; }, 30s));
  const std::string second =
      query_scalar(p.db_url, "SELECT id FROM alerts WHERE status = 'firing'");
  CHECK(second != first);
  auto got = api.get("/api/alerts/" + second, p.api_key);
  REQUIRE(got);
  REQUIRE(got->status == 200);
  CHECK(Json(got->body)["acked_at"].is_null());
  CHECK(Json(got->body)["acked_by"].is_null());
  // The first keeps its acknowledgement in history.
  CHECK(query_scalar(p.db_url, "SELECT acked_by FROM alerts WHERE id = '" + first + "'") ==
        "default");
}
