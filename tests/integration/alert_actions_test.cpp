// Acknowledge, comment, resolve (docs/ALERTING.md §2) and the alert reads of §7, against the
// real ste-ingester, ste-evaluator, PostgreSQL and nats-server: an alert fires through the
// pipeline, then the API changes it.
#include <atomic>
#include <barrier>
#include <thread>
#include <vector>

#include "tests/integration/api_client.hpp"
#include "tests/integration/pipeline_fixture.hpp"
#include "tests/integration/webhook_receiver.hpp"

using namespace ste;
using namespace ste::test;
using namespace std::chrono_literals;

namespace {

/// A pipeline whose evaluator notifies `receiver` (the Workflow Engine target), with one
/// critical rule "temperature above 80" and an alert firing on boiler-1.
struct FiringAlert {
  explicit FiringAlert(WebhookReceiver& receiver) {
    other_key = p.create_tenant("globex");
    p.start_ingester();
    p.start_evaluator("a", {{"STE_WORKFLOW_ENGINE_URL", receiver.url("/wf")}});
    rule_id = p.add_rule("above_threshold", 80, "temperature", 0);
    // The rule reaches the evaluator through NOTIFY: publish until a reading finds it.
    const bool fired = eventually(
        [&] {
          if (p.alerts() == 0) p.publish("sensors.acme.boiler-1", now_reading("temperature", 90));
          return query_count(p.db_url, "SELECT count(*) FROM alerts WHERE status = 'firing'") == 1;
        },
        30s, 300ms);
    INFO(log_tail(p.evaluators["a"].log));
    REQUIRE(fired);
    id = query_scalar(p.db_url, "SELECT id FROM alerts");
    REQUIRE(query_scalar(p.db_url, "SELECT notified FROM alerts") == "t");
  }
  long long events(const std::string& kind) const {
    return query_count(p.db_url, "SELECT count(*) FROM alert_events WHERE alert_id = '" + id +
                                     "' AND kind = '" + kind + "'");
  }
  long long deliveries(const std::string& event) const {
    return deliveries_with(p, "alert_id = '" + id + "' AND event = '" + event + "'");
  }
  std::string path(const std::string& tail = "") const { return "/api/alerts/" + id + tail; }

  Pipeline p;
  std::string other_key;
  std::string rule_id;
  std::string id;
};

httplib::Result post_if_match(Api& api, const std::string& path, const std::string& key,
                              const std::string& if_match, const std::string& body = "{}") {
  return api.client.Post(path.c_str(), {{"X-API-Key", key}, {"If-Match", if_match}}, body,
                         "application/json");
}

std::string str(simdjson::dom::element e) { return std::string(std::string_view(e)); }

}  // namespace

TEST_CASE("An ack records the key's name, one acked event and one acknowledged notification",
          "[alert_actions]") {
  WebhookReceiver receiver;
  FiringAlert f(receiver);
  Api api(f.p.evaluators["a"].port);
  const auto before = Json(api.get(f.path(), f.p.api_key)->body);
  const int64_t version = int64_t(before["version"]);

  auto acked = api.post(f.path("/ack"), f.p.api_key, R"({"comment":"on it"})");
  REQUIRE(acked);
  INFO(acked->body);
  REQUIRE(acked->status == 200);
  Json a(acked->body);
  CHECK(str(a["status"]) == "firing");
  CHECK(str(a["acked_by"]) == "default");
  CHECK(str(a["ack_comment"]) == "on it");
  CHECK(!a["acked_at"].is_null());
  CHECK(int64_t(a["version"]) == version + 1);
  CHECK(acked->get_header_value("ETag") == fmt::format("\"{}\"", version + 1));
  CHECK(f.events("acked") == 1);
  CHECK(f.deliveries("acknowledged") == 1);

  // Acking again changes nothing: the same object, no event, no notification.
  auto again = api.post(f.path("/ack"), f.p.api_key, "");
  REQUIRE(again->status == 200);
  CHECK(int64_t(Json(again->body)["version"]) == version + 1);
  CHECK(str(Json(again->body)["ack_comment"]) == "on it");
  CHECK(f.events("acked") == 1);
  CHECK(f.deliveries("acknowledged") == 1);

  // The receiver gets the acknowledged request, keyed by the acked event's seq.
  const std::string seq =
      query_scalar(f.p.db_url, "SELECT seq FROM alert_events WHERE alert_id = '" + f.id +
                                   "' AND kind = 'acked'");
  const bool arrived = eventually(
      [&] {
        for (const auto& r : receiver.received()) {
          if (r.headers.count("X-STE-Event") && r.headers.at("X-STE-Event") == "alert.acknowledged")
            return r.headers.at("Idempotency-Key") == f.id + ":" + seq;
        }
        return false;
      },
      20s);
  CHECK(arrived);

  // Un-acknowledge: the three fields cleared, an unacked event, no notification.
  auto unacked = api.del(f.path("/ack"), f.p.api_key);
  REQUIRE(unacked->status == 200);
  Json u(unacked->body);
  CHECK(u["acked_at"].is_null());
  CHECK(u["acked_by"].is_null());
  CHECK(u["ack_comment"].is_null());
  CHECK(int64_t(u["version"]) == version + 2);
  CHECK(f.events("unacked") == 1);
  CHECK(f.deliveries("acknowledged") == 1);
  // Not acknowledged: unchanged.
  auto unacked_again = api.del(f.path("/ack"), f.p.api_key);
  REQUIRE(unacked_again->status == 200);
  CHECK(int64_t(Json(unacked_again->body)["version"]) == version + 2);
  CHECK(f.events("unacked") == 1);
}

TEST_CASE("Another tenant's alert answers 404 on every alert endpoint", "[alert_actions]") {
  WebhookReceiver receiver;
  FiringAlert f(receiver);
  Api api(f.p.evaluators["a"].port);
  const std::string& other = f.other_key;
  check_error(api.get(f.path(), other), 404, "not_found", "alert");
  check_error(api.get(f.path("/events"), other), 404, "not_found", "alert");
  check_error(api.post(f.path("/ack"), other, "{}"), 404, "not_found", "alert");
  check_error(api.post(f.path("/ack"), other, "{not json"), 404, "not_found", "alert");
  check_error(post_if_match(api, f.path("/ack"), other, "\"1\""), 404, "not_found", "alert");
  check_error(api.del(f.path("/ack"), other), 404, "not_found", "alert");
  check_error(api.post(f.path("/comments"), other, R"({"text":"x"})"), 404, "not_found", "alert");
  check_error(api.post(f.path("/resolve"), other, "{}"), 404, "not_found", "alert");
  check_error(api.post("/api/alerts/not-a-uuid/ack", f.p.api_key, "{}"), 404, "not_found", "alert");
  Json summary(api.get("/api/alerts/summary", other)->body);
  CHECK(int64_t(summary["open"]["critical"]["unacked"]) == 0);
  CHECK(int64_t(summary["devices"]["online"]) == 0);
  // Nothing changed for the owner.
  CHECK(f.events("acked") == 0);
  CHECK(f.events("comment") == 0);
  CHECK(query_scalar(f.p.db_url, "SELECT status FROM alerts") == "firing");
}

TEST_CASE("Two concurrent acks write one acked event", "[alert_actions]") {
  WebhookReceiver receiver;
  FiringAlert f(receiver);
  const int port = f.p.evaluators["a"].port;
  for (int round = 1; round <= 5; ++round) {
    std::barrier start(2);
    std::atomic<int> ok{0};
    std::vector<std::thread> threads;
    for (int i = 0; i < 2; ++i) {
      threads.emplace_back([&] {
        Api api(port);
        start.arrive_and_wait();
        auto r = api.post(f.path("/ack"), f.p.api_key, "{}");
        if (r && r->status == 200) ++ok;
      });
    }
    for (auto& t : threads) t.join();
    CHECK(ok == 2);
    CHECK(f.events("acked") == round);
    CHECK(f.deliveries("acknowledged") == round);
    Api api(port);
    REQUIRE(api.del(f.path("/ack"), f.p.api_key)->status == 200);
  }
}

TEST_CASE("If-Match: a stale version answers 409, the current one applies", "[alert_actions]") {
  WebhookReceiver receiver;
  FiringAlert f(receiver);
  Api api(f.p.evaluators["a"].port);
  auto got = api.get(f.path(), f.p.api_key);
  const std::string etag = got->get_header_value("ETag");
  const int64_t version = int64_t(Json(got->body)["version"]);
  REQUIRE(etag == fmt::format("\"{}\"", version));

  auto stale = post_if_match(api, f.path("/ack"), f.p.api_key, std::to_string(version - 1));
  check_error(stale, 409, "version_mismatch", fmt::format("version {}", version));
  CHECK(stale->get_header_value("ETag") == etag);
  CHECK(f.events("acked") == 0);
  check_error(post_if_match(api, f.path("/ack"), f.p.api_key, "seven"), 422, "invalid_header",
              "If-Match");
  check_error(post_if_match(api, f.path("/resolve"), f.p.api_key, "\"1"), 422, "invalid_header",
              "If-Match");

  auto current = post_if_match(api, f.path("/ack"), f.p.api_key, etag);
  REQUIRE(current->status == 200);
  CHECK(int64_t(Json(current->body)["version"]) == version + 1);
  // The version it had is stale now, for every write.
  check_error(post_if_match(api, f.path("/resolve"), f.p.api_key, etag), 409, "version_mismatch",
              "If-Match");
  check_error(post_if_match(api, f.path("/comments"), f.p.api_key, etag, R"({"text":"x"})"), 409,
              "version_mismatch", "If-Match");
  auto unack =
      api.client.Delete(f.path("/ack").c_str(), {{"X-API-Key", f.p.api_key}, {"If-Match", etag}});
  check_error(unack, 409, "version_mismatch", "If-Match");
  CHECK(f.events("unacked") == 0);
  // The bare number works as well as the quoted ETag.
  auto resolved = post_if_match(api, f.path("/resolve"), f.p.api_key, std::to_string(version + 1));
  REQUIRE(resolved->status == 200);
  CHECK(str(Json(resolved->body)["status"]) == "resolved");
}

TEST_CASE(
    "Comments join the timeline, and a manual resolve closes the episode once and notifies it",
    "[alert_actions]") {
  WebhookReceiver receiver;
  FiringAlert f(receiver);
  Api api(f.p.evaluators["a"].port);
  auto comment = api.post(f.path("/comments"), f.p.api_key, R"({"text":"checking the pump"})");
  REQUIRE(comment);
  INFO(comment->body);
  REQUIRE(comment->status == 201);
  Json c(comment->body);
  CHECK(str(c["kind"]) == "comment");
  CHECK(str(c["actor"]) == "default");
  CHECK(str(c["detail"]["text"]) == "checking the pump");
  check_error(api.post(f.path("/comments"), f.p.api_key, "{}"), 422, "invalid_field", "text");
  check_error(api.post(f.path("/comments"), f.p.api_key, R"({"text":""})"), 422, "invalid_field",
              "text");
  check_error(
      api.post(f.path("/ack"), f.p.api_key, R"({"comment":")" + std::string(1001, 'x') + "\"}"),
      422, "invalid_field", "comment");
  check_error(api.post(f.path("/ack"), f.p.api_key, R"({"comment":"a\nb"})"), 422, "invalid_field",
              "comment");
  check_error(api.post(f.path("/resolve"), f.p.api_key, R"({"why":"x"})"), 422, "unknown_field",
              "why");
  check_error(api.post(f.path("/resolve"), f.p.api_key, R"({"comment":)"), 400, "malformed_json",
              "JSON");

  auto resolved = api.post(f.path("/resolve"), f.p.api_key, R"({"comment":"pump replaced"})");
  REQUIRE(resolved->status == 200);
  Json r(resolved->body);
  CHECK(str(r["status"]) == "resolved");
  CHECK(str(r["resolve_reason"]) == "manual");
  CHECK(!r["resolved_at"].is_null());
  CHECK(resolved->get_header_value("ETag") == fmt::format("\"{}\"", int64_t(r["version"])));
  CHECK(f.deliveries("resolved") == 1);
  CHECK(f.events("resolved") == 1);

  check_error(api.post(f.path("/resolve"), f.p.api_key, "{}"), 409, "invalid_state", "resolved");
  check_error(api.post(f.path("/ack"), f.p.api_key, "{}"), 409, "invalid_state", "resolved");
  check_error(api.del(f.path("/ack"), f.p.api_key), 409, "invalid_state", "resolved");
  CHECK(f.deliveries("resolved") == 1);
  // A closed episode still takes comments.
  REQUIRE(api.post(f.path("/comments"), f.p.api_key, R"({"text":"post-mortem"})")->status == 201);

  Json events(api.get(f.path("/events"), f.p.api_key)->body);
  std::vector<std::string> kinds;
  int64_t last_seq = 0;
  for (auto e : events["events"].get_array()) {
    kinds.push_back(str(e["kind"]));
    CHECK(int64_t(e["seq"]) > last_seq);
    last_seq = int64_t(e["seq"]);
    if (str(e["kind"]) == "resolved") {
      CHECK(str(e["actor"]) == "default");
      CHECK(str(e["detail"]["reason"]) == "manual");
      CHECK(str(e["detail"]["comment"]) == "pump replaced");
    }
  }
  CHECK(kinds == std::vector<std::string>{"opened", "fired", "comment", "resolved", "comment"});
}

namespace {
/// An episode written with SQL, for list and summary cases the pipeline would take minutes to
/// produce; its own device, and a rule id no evaluator knows.
std::string insert_alert(const Pipeline& p, const std::string& device, const std::string& severity,
                         const std::string& status, bool acked, int minutes_ago) {
  exec_sql(p.db_url, fmt::format("INSERT INTO devices (tenant_id, device_key) VALUES ({}, '{}') "
                                 "ON CONFLICT DO NOTHING",
                                 p.tenant_id, device));
  const bool fired = status != "pending" && status != "cancelled";
  const bool closed = status == "resolved" || status == "cancelled";
  return query_scalar(
      p.db_url,
      fmt::format(
          "INSERT INTO alerts (tenant_id, rule_id, device_id, device_key, metric, condition, "
          "threshold, value, reading_ts, severity, message, created_at, status, started_at, "
          "fired_at, last_value, last_reading_ts, peak_value, resolved_at, resolve_reason, "
          "acked_at, acked_by) "
          "SELECT {0}, gen_random_uuid(), d.id, d.device_key, 'm', 'above_threshold', 1, 2, now(), "
          "'{1}', 'msg', now() - interval '{2} minutes', '{3}', now(), {4}, 2, now(), 2, {5}, {6}, "
          "{7}, {8} FROM devices d WHERE d.tenant_id = {0} AND d.device_key = '{9}' RETURNING id",
          p.tenant_id, severity, minutes_ago, status, fired ? "now()" : "NULL",
          closed ? "now()" : "NULL", status == "resolved" ? "'cleared'" : "NULL",
          acked ? "now()" : "NULL", acked ? "'bob'" : "NULL", device));
}

std::vector<std::string> ids_of(Api& api, const std::string& query, const std::string& key) {
  auto r = api.get("/api/alerts" + query, key);
  REQUIRE(r);
  INFO(query << ": " << r->body);
  REQUIRE(r->status == 200);
  std::vector<std::string> ids;
  const Json j(r->body);  // outlives the loop: the elements point into it
  for (auto a : j["alerts"].get_array()) ids.push_back(str(a["id"]));
  return ids;
}
}  // namespace

TEST_CASE("The alert list filters by status, ack and severity and sorts by severity",
          "[alert_actions]") {
  WebhookReceiver receiver;
  FiringAlert f(receiver);  // critical, firing, unacked, newest
  Api api(f.p.evaluators["a"].port);
  const Pipeline& p = f.p;
  const std::string crit_acked = insert_alert(p, "d1", "critical", "firing", true, 50);
  const std::string crit_old = insert_alert(p, "d2", "critical", "firing", false, 40);
  const std::string warn_pending = insert_alert(p, "d3", "warning", "pending", false, 30);
  const std::string warn_acked = insert_alert(p, "d4", "warning", "firing", true, 60);
  const std::string info_firing = insert_alert(p, "d5", "info", "firing", false, 20);
  const std::string crit_resolved = insert_alert(p, "d6", "critical", "resolved", false, 10);
  const std::string cancelled = insert_alert(p, "d7", "info", "cancelled", false, 5);
  exec_sql(p.db_url,
           "UPDATE devices SET last_seen_at = now() - interval '1 hour' "
           "WHERE device_key IN ('d1', 'd2')");

  using V = std::vector<std::string>;
  const std::string key = p.api_key;
  // sort=severity: critical, warning, info; unacknowledged first; then oldest first.
  const V open_by_severity{crit_old, f.id, crit_acked, warn_pending, warn_acked, info_firing};
  CHECK(ids_of(api, "?status=open&sort=severity", key) == open_by_severity);
  CHECK(ids_of(api, "?status=pending,firing&sort=severity", key) == open_by_severity);
  // Page by page with the severity cursor: the same order, nothing twice, nothing missed.
  V paged;
  std::string cursor;
  for (int pages = 0; pages < 10; ++pages) {
    auto r = api.get("/api/alerts?status=open&sort=severity&limit=4" +
                         (cursor.empty() ? "" : "&cursor=" + cursor),
                     key);
    REQUIRE(r->status == 200);
    Json j(r->body);
    for (auto a : j["alerts"].get_array()) paged.push_back(str(a["id"]));
    if (j["next_cursor"].is_null()) break;
    cursor = str(j["next_cursor"]);
  }
  CHECK(paged == open_by_severity);
  // A severity cursor is not a created cursor, and the reverse.
  check_error(api.get("/api/alerts?status=open&limit=4&cursor=" +
                          str(Json(api.get("/api/alerts?status=open&sort=severity&limit=4", key)
                                       ->body)["next_cursor"]),
                      key),
              422, "invalid_field", "cursor");

  // Default order is newest first.
  CHECK(ids_of(api, "?status=resolved,cancelled", key) == V{cancelled, crit_resolved});
  CHECK(ids_of(api, "?status=firing&acked=true", key) == V{crit_acked, warn_acked});
  CHECK(ids_of(api, "?status=open&acked=false&severity=critical", key) == V{f.id, crit_old});
  CHECK(ids_of(api, "?severity=info,warning&status=firing", key) == V{info_firing, warn_acked});
  CHECK(ids_of(api, "?status=cancelled&acked=true", key).empty());

  check_error(api.get("/api/alerts?status=open,closed", key), 422, "invalid_field", "status");
  check_error(api.get("/api/alerts?status=", key), 422, "invalid_field", "status");
  check_error(api.get("/api/alerts?acked=yes", key), 422, "invalid_field", "acked");
  check_error(api.get("/api/alerts?severity=high", key), 422, "invalid_field", "severity");
  check_error(api.get("/api/alerts?sort=oldest", key), 422, "invalid_field", "sort");
  check_error(api.get("/api/alerts/summary?x=1", key), 422, "unknown_field", "x");

  // Summary: open episodes by severity and acknowledgement; devices by last report.
  auto s = api.get("/api/alerts/summary", key);
  REQUIRE(s->status == 200);
  INFO(s->body);
  Json sum(s->body);
  CHECK(int64_t(sum["open"]["critical"]["acked"]) == 1);
  CHECK(int64_t(sum["open"]["critical"]["unacked"]) == 2);
  CHECK(int64_t(sum["open"]["warning"]["acked"]) == 1);
  CHECK(int64_t(sum["open"]["warning"]["unacked"]) == 1);
  CHECK(int64_t(sum["open"]["info"]["acked"]) == 0);
  CHECK(int64_t(sum["open"]["info"]["unacked"]) == 1);
  CHECK(int64_t(sum["devices"]["online"]) == 1);  // boiler-1, through the ingester
  CHECK(int64_t(sum["devices"]["offline"]) == 2);
  CHECK(int64_t(sum["devices"]["never_seen"]) == 5);

  // A pending episode cannot be acknowledged yet.
  check_error(api.post("/api/alerts/" + warn_pending + "/ack", key, "{}"), 409, "invalid_state",
              "not firing yet");
  check_error(api.post("/api/alerts/" + cancelled + "/resolve", key, "{}"), 409, "invalid_state",
              "cancelled");
  // ...but can be resolved by hand, without a notification (its firing never went out).
  auto resolved = api.post("/api/alerts/" + warn_pending + "/resolve", key, "");
  REQUIRE(resolved->status == 200);
  CHECK(str(Json(resolved->body)["resolve_reason"]) == "manual");
  CHECK(deliveries_with(p, "alert_id = '" + warn_pending + "'") == 0);
  CHECK(int64_t(Json(api.get("/api/alerts/summary", key)->body)["open"]["warning"]["unacked"]) ==
        0);
}
