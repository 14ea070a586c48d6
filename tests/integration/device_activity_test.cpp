// When devices and series last received a reading (server time, kept by the ingester), device
// status in GET /api/devices and the alert summary, and /api/settings (docs/ALERTING.md §4),
// against the real ste-ingester, ste-evaluator, PostgreSQL and nats-server.
#include <set>
#include <string>
#include <vector>

#include "common/time_format.hpp"
#include "tests/integration/api_client.hpp"
#include "tests/integration/pipeline_fixture.hpp"

using namespace ste;
using namespace ste::test;
using namespace std::chrono_literals;

namespace {

std::string str(simdjson::dom::element e) { return std::string(std::string_view(e)); }

/// The device's object in GET /api/devices (the first page holds every test device).
struct DeviceView {
  bool found = false;
  std::string status;
  std::optional<std::string> last_received_at;
  std::optional<std::string> last_seen_at;
};

DeviceView device_view(Api& api, const std::string& key, const std::string& device) {
  auto r = api.get("/api/devices", key);
  REQUIRE(r);
  REQUIRE(r->status == 200);
  Json j(r->body);
  for (auto d : j["devices"].get_array()) {
    if (str(d["device"]) != device) continue;
    DeviceView v;
    v.found = true;
    v.status = str(d["status"]);
    if (!d["last_received_at"].is_null()) v.last_received_at = str(d["last_received_at"]);
    if (!d["last_seen_at"].is_null()) v.last_seen_at = str(d["last_seen_at"]);
    return v;
  }
  return {};
}

/// Device keys of one page of GET `path`, and its next_cursor ("" when null).
std::pair<std::vector<std::string>, std::string> page(Api& api, const std::string& key,
                                                      const std::string& path) {
  auto r = api.get(path, key);
  REQUIRE(r);
  INFO(path << " -> " << r->body);
  REQUIRE(r->status == 200);
  Json j(r->body);
  std::vector<std::string> keys;
  for (auto d : j["devices"].get_array()) keys.push_back(str(d["device"]));
  const auto cursor = j["next_cursor"];
  return {keys, cursor.is_null() ? std::string() : str(cursor)};
}

/// Every device key a filter lists, following next_cursor with `limit` per page.
std::vector<std::string> all_pages(Api& api, const std::string& key, const std::string& status,
                                   int limit) {
  std::vector<std::string> out;
  std::string cursor;
  for (int pages = 0; pages < 100; ++pages) {
    std::string path = "/api/devices?limit=" + std::to_string(limit);
    if (!status.empty()) path += "&status=" + status;
    if (!cursor.empty()) path += "&cursor=" + cursor;
    auto [keys, next] = page(api, key, path);
    CHECK(static_cast<int>(keys.size()) <= limit);
    out.insert(out.end(), keys.begin(), keys.end());
    if (next.empty()) break;
    CHECK(static_cast<int>(keys.size()) == limit);  // a page before the last is full
    cursor = next;
  }
  return out;
}

std::int64_t summary_devices(Api& api, const std::string& key, const char* status) {
  auto r = api.get("/api/alerts/summary", key);
  REQUIRE(r);
  REQUIRE(r->status == 200);
  Json j(r->body);
  return std::int64_t(j["devices"][status]);
}

/// Seconds between the database's now() and a device's last received time (NULL -> -1).
double seconds_since_received(const Pipeline& p, const std::string& device) {
  const std::string v = query_scalar(
      p.db_url,
      "SELECT coalesce(extract(epoch FROM now() - last_seen_at), -1) FROM devices WHERE "
      "device_key = '" +
          device + "'");
  return std::stod(v);
}

}  // namespace

TEST_CASE("A device registered ahead is never_seen until a reading makes it online",
          "[api][device_activity]") {
  Pipeline p;
  p.start_ingester();
  p.start_evaluator("a");
  Api api(p.evaluators["a"].port);
  REQUIRE(api.post("/api/devices", p.api_key, R"({"devices":["quiet-1","boiler-1"]})")->status ==
          200);

  for (const char* d : {"quiet-1", "boiler-1"}) {
    const auto v = device_view(api, p.api_key, d);
    REQUIRE(v.found);
    CHECK(v.status == "never_seen");
    CHECK_FALSE(v.last_received_at);
  }
  CHECK(summary_devices(api, p.api_key, "never_seen") == 2);

  p.publish("sensors.acme.boiler-1", now_reading("temperature", 21.5));
  REQUIRE(
      eventually([&] { return device_view(api, p.api_key, "boiler-1").status == "online"; }, 30s));
  const auto v = device_view(api, p.api_key, "boiler-1");
  REQUIRE(v.last_received_at);
  CHECK(v.last_seen_at == v.last_received_at);
  CHECK(device_view(api, p.api_key, "quiet-1").status == "never_seen");
  CHECK(summary_devices(api, p.api_key, "online") == 1);
  CHECK(summary_devices(api, p.api_key, "never_seen") == 1);

  // The series row exists, stamped by the same statement (same server time) as the device.
  CHECK(query_count(p.db_url,
                    "SELECT count(*) FROM series_activity a JOIN devices d ON d.id = a.device_id "
                    "AND d.tenant_id = a.tenant_id WHERE d.device_key = 'boiler-1' AND "
                    "a.metric = 'temperature' AND a.last_received_at = d.last_seen_at AND "
                    "a.last_received_at > now() - interval '1 minute'") == 1);
  CHECK(query_count(p.db_url, "SELECT count(*) FROM series_activity") == 1);
}

TEST_CASE("Readings with hour-old device timestamps count as received now",
          "[api][device_activity]") {
  Pipeline p;
  p.start_ingester();
  p.start_evaluator("a");
  Api api(p.evaluators["a"].port);
  const TimePoint hour_ago =
      std::chrono::time_point_cast<std::chrono::milliseconds>(SysClock::now() - 1h);
  p.publish("sensors.acme.late-1", "[" + reading_json("temperature", 1, hour_ago) + "," +
                                       reading_json("temperature", 2, hour_ago + 1s) + "," +
                                       reading_json("humidity", 3, hour_ago) + "]");
  p.require_stored_exactly(3, 30s);

  REQUIRE(
      eventually([&] { return device_view(api, p.api_key, "late-1").status == "online"; }, 30s));
  const auto v = device_view(api, p.api_key, "late-1");
  REQUIRE(v.last_received_at);
  const auto received = parse_rfc3339(*v.last_received_at);
  REQUIRE(received);
  // Received (server clock) within the last minute, not the device's hour-old time.
  CHECK(*received > SysClock::now() - 1min);
  CHECK(*received - hour_ago > 50min);
  const double ago = seconds_since_received(p, "late-1");
  CHECK(ago >= 0);
  CHECK(ago < 60);
  CHECK(query_count(p.db_url,
                    "SELECT count(*) FROM series_activity WHERE last_received_at > now() - "
                    "interval '1 minute'") == 2);
}

TEST_CASE("A device silent longer than the tenant's device_offline_minutes is offline",
          "[api][device_activity]") {
  Pipeline p;
  p.start_ingester();
  p.start_evaluator("a");
  Api api(p.evaluators["a"].port);
  p.publish("sensors.acme.boiler-1", now_reading("temperature", 21.5));
  REQUIRE(
      eventually([&] { return device_view(api, p.api_key, "boiler-1").status == "online"; }, 30s));

  REQUIRE(api.put("/api/settings", p.api_key, R"({"device_offline_minutes": 1})")->status == 200);
  // Two minutes of silence without sleeping: move the received times back.
  exec_sql(p.db_url,
           "UPDATE devices SET last_seen_at = now() - interval '2 minutes' WHERE device_key = "
           "'boiler-1'");
  exec_sql(p.db_url, "UPDATE series_activity SET last_received_at = now() - interval '2 minutes'");
  CHECK(device_view(api, p.api_key, "boiler-1").status == "offline");
  CHECK(summary_devices(api, p.api_key, "offline") == 1);
  CHECK(summary_devices(api, p.api_key, "online") == 0);
  CHECK(page(api, p.api_key, "/api/devices?status=offline").first ==
        std::vector<std::string>{"boiler-1"});

  // The same silence is within a 10-minute threshold.
  REQUIRE(api.put("/api/settings", p.api_key, R"({"device_offline_minutes": 10})")->status == 200);
  CHECK(device_view(api, p.api_key, "boiler-1").status == "online");
  CHECK(summary_devices(api, p.api_key, "online") == 1);
  CHECK(summary_devices(api, p.api_key, "offline") == 0);

  // A new reading brings the stored times back to now (older than the granularity: rewritten).
  REQUIRE(api.put("/api/settings", p.api_key, R"({"device_offline_minutes": 1})")->status == 200);
  p.publish("sensors.acme.boiler-1", now_reading("temperature", 22.5));
  REQUIRE(
      eventually([&] { return device_view(api, p.api_key, "boiler-1").status == "online"; }, 30s));
  CHECK(query_count(p.db_url,
                    "SELECT count(*) FROM series_activity WHERE last_received_at > now() - "
                    "interval '1 minute'") == 1);
}

TEST_CASE("The status filter lists only the chosen statuses and pages by device key",
          "[api][device_activity]") {
  Pipeline p;
  p.start_evaluator("a");
  Api api(p.evaluators["a"].port);
  REQUIRE(api.post("/api/devices", p.api_key,
                   R"({"devices":["d-1","d-2","d-3","d-4","d-5","d-6","d-7"]})")
              ->status == 200);
  // d-1, d-3, d-7 online; d-2, d-5 offline (an hour of silence); d-4, d-6 never seen.
  exec_sql(p.db_url,
           "UPDATE devices SET last_seen_at = now() WHERE device_key IN ('d-1', 'd-3', 'd-7')");
  exec_sql(p.db_url,
           "UPDATE devices SET last_seen_at = now() - interval '1 hour' WHERE device_key IN "
           "('d-2', 'd-5')");

  using Keys = std::vector<std::string>;
  CHECK(all_pages(api, p.api_key, "online", 1) == Keys{"d-1", "d-3", "d-7"});
  CHECK(all_pages(api, p.api_key, "online", 2) == Keys{"d-1", "d-3", "d-7"});
  CHECK(all_pages(api, p.api_key, "offline", 5) == Keys{"d-2", "d-5"});
  CHECK(all_pages(api, p.api_key, "never_seen", 1) == Keys{"d-4", "d-6"});
  CHECK(all_pages(api, p.api_key, "offline,never_seen", 2) == Keys{"d-2", "d-4", "d-5", "d-6"});
  CHECK(all_pages(api, p.api_key, "online,offline,never_seen", 3) ==
        Keys{"d-1", "d-2", "d-3", "d-4", "d-5", "d-6", "d-7"});
  CHECK(all_pages(api, p.api_key, "", 4) == Keys{"d-1", "d-2", "d-3", "d-4", "d-5", "d-6", "d-7"});
  // A filter that matches nothing after the cursor: an empty last page.
  CHECK(page(api, p.api_key, "/api/devices?status=online&cursor=d-7").first.empty());

  check_error(api.get("/api/devices?status=asleep", p.api_key), 422, "invalid_field", "status");
  check_error(api.get("/api/devices?status=online,", p.api_key), 422, "invalid_field", "status");
  check_error(api.get("/api/devices?state=online", p.api_key), 422, "unknown_field", "state");

  CHECK(summary_devices(api, p.api_key, "online") == 3);
  CHECK(summary_devices(api, p.api_key, "offline") == 2);
  CHECK(summary_devices(api, p.api_key, "never_seen") == 2);
}

TEST_CASE("Settings read and write device_offline_minutes and reject anything else",
          "[api][device_activity]") {
  Pipeline p;
  p.start_evaluator("a");
  Api api(p.evaluators["a"].port);
  auto got = api.get("/api/settings", p.api_key);
  REQUIRE(got);
  REQUIRE(got->status == 200);
  CHECK(std::int64_t(Json(got->body)["device_offline_minutes"]) == 10);

  auto put = api.put("/api/settings", p.api_key, R"({"device_offline_minutes": 30})");
  REQUIRE(put);
  CHECK(put->status == 200);
  CHECK(std::int64_t(Json(put->body)["device_offline_minutes"]) == 30);
  CHECK(std::int64_t(Json(api.get("/api/settings", p.api_key)->body)["device_offline_minutes"]) ==
        30);
  // An empty body changes nothing.
  CHECK(std::int64_t(
            Json(api.put("/api/settings", p.api_key, "{}")->body)["device_offline_minutes"]) == 30);

  check_error(api.put("/api/settings", p.api_key, R"({"device_offline_minutes": 0})"), 422,
              "invalid_field", "device_offline_minutes");
  check_error(api.put("/api/settings", p.api_key, R"({"device_offline_minutes": 10081})"), 422,
              "invalid_field", "device_offline_minutes");
  check_error(api.put("/api/settings", p.api_key, R"({"device_offline_minutes": "5"})"), 422,
              "invalid_field", "device_offline_minutes");
  check_error(api.put("/api/settings", p.api_key, R"({"device_offline_minutes": 5, "x": 1})"), 422,
              "unknown_field", "'x'");
  check_error(api.put("/api/settings", p.api_key, R"({"device_offline_minutes": )"), 400,
              "malformed_json", "JSON");
  CHECK(std::int64_t(Json(api.get("/api/settings", p.api_key)->body)["device_offline_minutes"]) ==
        30);

  // A viewer key reads the settings but cannot change them; another tenant has its own.
  auto created = api.post("/api/keys", p.api_key, R"({"name":"bob","role":"viewer"})");
  REQUIRE(created);
  REQUIRE(created->status == 201);
  const std::string viewer = str(Json(created->body)["key"]);
  CHECK(api.get("/api/settings", viewer)->status == 200);
  check_error(api.put("/api/settings", viewer, R"({"device_offline_minutes": 5})"), 403,
              "forbidden", "viewer");
  const std::string other = p.create_tenant("globex");
  CHECK(std::int64_t(Json(api.get("/api/settings", other)->body)["device_offline_minutes"]) == 10);
}
