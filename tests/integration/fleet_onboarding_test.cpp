// A fleet coming online loses nothing (issue 12 item 8): readings of new devices over the
// new-device cap wait in JetStream (bounded) instead of being rejected, and devices can be
// registered ahead in bulk with ste-admin and the API. Real nats-server, PostgreSQL, ste-ingester,
// ste-evaluator and ste-admin.
#include <fmt/format.h>

#include <catch2/catch.hpp>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "tests/integration/api_client.hpp"
#include "tests/integration/async_publisher.hpp"
#include "tests/integration/pipeline_fixture.hpp"

using namespace ste;
using namespace ste::test;
using namespace std::chrono_literals;

namespace {

const std::string kDeviceLimitRejections = R"(ste_ingest_rejected_total{reason="device_limit"})";
const std::string kDeferred = "ste_ingest_device_cap_deferred_total";

/// Publishes `msgs` into SENSORS (created if the ingester has not yet) and waits for the acks.
void publish_fleet(const std::string& nats_url, const std::vector<OutMsg>& msgs) {
  NatsSettings s;
  s.urls = nats_url;
  NatsClient(s).ensure_stream(kSensorsStream);
  publish_all(nats_url, msgs);
}

/// One reading per device: `devices` keys `<prefix>-<i>`.
std::vector<OutMsg> one_reading_each(const std::string& prefix, int devices, TimePoint ts) {
  std::vector<OutMsg> msgs;
  for (int d = 0; d < devices; ++d) {
    msgs.push_back({fmt::format("sensors.acme.{}-{}", prefix, d), reading_json("temp", d, ts)});
  }
  return msgs;
}

std::string keys_file(const std::string& dir, const std::string& name, const std::string& text) {
  const std::string path = dir + "/" + name;
  std::ofstream(path) << text;
  return path;
}

}  // namespace

TEST_CASE("1,000 new devices publishing at once against a small cap lose nothing", "[fleet]") {
  Pipeline p;
  // 200 new devices per 3-s window: the fleet needs at least five windows, so most of its first
  // readings must wait; 20,000 waiting messages stay below the bound (half the consumer's 65,536
  // unacknowledged messages) and the default 600-s wait is far beyond the ~15 s this takes.
  p.start_ingester({{"STE_MAX_NEW_DEVICES_PER_MINUTE", "200"},
                    {"STE_NEW_DEVICE_WINDOW_SECONDS", "3"},
                    {"STE_BATCH_SIZE", "2000"}});
  constexpr int kDevices = 1000;
  constexpr int kReadings = 20;
  const TimePoint base = test_base_time();
  std::vector<OutMsg> msgs;
  msgs.reserve(kDevices * kReadings);
  for (int r = 0; r < kReadings; ++r) {  // every device's first reading first: all at once
    for (int d = 0; d < kDevices; ++d) {
      msgs.push_back({fmt::format("sensors.acme.fleet-{}", d),
                      reading_json("temp", r, base + std::chrono::seconds{r})});
    }
  }
  publish_fleet(p.nats.url(), msgs);

  const bool all = p.wait_rows(kDevices * kReadings, 120s);
  INFO(read_file(p.ingester_log()).substr(0, 4000));
  CHECK(all);
  CHECK(p.rows() == kDevices * kReadings);
  CHECK(p.rollup_total() == kDevices * kReadings);
  CHECK(query_count(p.db_url, "SELECT count(*) FROM devices") == kDevices);
  CHECK(Pipeline::metric(p.ingester_port, kDeviceLimitRejections) == 0);
  CHECK(Pipeline::metric(p.ingester_port, kDeferred) > 0);
  // Nothing is left waiting or counted in flight (a message that waited never entered the
  // in-flight count or the buffer), and what waited was announced with what to do about it.
  CHECK(eventually([&] { return p.stream_messages("SENSORS") == 0; }, 30s));
  CHECK(eventually(
      [&] {
        return Pipeline::metric(p.ingester_port, "ste_ingest_inflight_readings") == 0 &&
               Pipeline::metric(p.ingester_port, "ste_ingest_device_cap_held") == 0;
      },
      30s));
  const std::string log = read_file(p.ingester_log());
  CHECK(log.find("new devices over the cap: their readings wait") != std::string::npos);
  CHECK(log.find("ste-admin devices register") != std::string::npos);
}

TEST_CASE(
    "a message over the cap waits at most STE_DEVICE_CAP_MAX_WAIT_SECONDS, then is "
    "rejected with device_limit",
    "[fleet]") {
  Pipeline p;
  // One new device per 3-s window, a 4-s wait: a message can wait for one more window, not two.
  p.start_ingester({{"STE_MAX_NEW_DEVICES_PER_MINUTE", "1"},
                    {"STE_NEW_DEVICE_WINDOW_SECONDS", "3"},
                    {"STE_DEVICE_CAP_MAX_WAIT_SECONDS", "4"}});
  constexpr int kDevices = 20;
  publish_fleet(p.nats.url(), one_reading_each("spray", kDevices, test_base_time()));

  // Every message ends either stored or rejected: none is held longer, none disappears.
  const bool settled = eventually(
      [&] {
        return p.rows() + static_cast<long long>(
                              Pipeline::metric(p.ingester_port, kDeviceLimitRejections)) ==
               kDevices;
      },
      60s, 100ms);
  INFO(read_file(p.ingester_log()).substr(0, 4000));
  REQUIRE(settled);
  CHECK(Pipeline::metric(p.ingester_port, kDeferred) > 0);  // they did wait first
  // One new device per window over the ~4 s (plus processing delays) a message can live: about
  // three, not twenty (eight leaves room for a loaded machine's delays).
  CHECK(p.rows() <= 8);
  CHECK(Pipeline::metric(p.ingester_port, kDeviceLimitRejections) >= kDevices - 8);
  CHECK(query_count(p.db_url, "SELECT count(*) FROM devices") == p.rows());
  CHECK(eventually([&] { return p.stream_messages("SENSORS") == 0; }, 30s));
}

TEST_CASE("core NATS cannot hand a message back: over the cap it is rejected at once", "[fleet]") {
  Pipeline p;
  // An hour-long window: no window boundary falls between the two messages.
  p.start_ingester({{"STE_NATS_MODE", "core"},
                    {"STE_MAX_NEW_DEVICES_PER_MINUTE", "1"},
                    {"STE_NEW_DEVICE_WINDOW_SECONDS", "3600"}});
  const TimePoint ts = test_base_time();
  p.client->publish("sensors.acme.first", reading_json("temp", 1, ts));
  p.client->publish("sensors.acme.second", reading_json("temp", 2, ts));
  p.client->flush(2s);
  REQUIRE(eventually([&] { return Pipeline::metric(p.ingester_port, kDeviceLimitRejections) == 1; },
                     30s));
  CHECK(p.wait_rows(1));
  CHECK(Pipeline::metric(p.ingester_port, kDeferred) == 0);
  CHECK(query_scalar(p.db_url, "SELECT string_agg(device_key, ',') FROM devices") == "first");
}

TEST_CASE("devices registered ahead with ste-admin are accepted whatever the cap", "[fleet]") {
  Pipeline p;
  std::string csv = "Device_Key,site\n";
  for (int d = 0; d < 50; ++d) csv += fmt::format("\"known-{}\",north\n", d);
  const std::string with_bad = keys_file(p.logs.path(), "with-bad.csv", csv + "bad key,x\n\n");
  const std::string good = keys_file(p.logs.path(), "good.csv", csv);
  const auto admin = [&](const std::string& file, const std::string& log) {
    return run_command({STE_ADMIN_BIN, "devices", "register", "acme", "--file", file,
                        "--database-url=" + p.db_url},
                       p.logs.path() + "/" + log);
  };

  // An invalid line: reported with its number, non-zero exit; the valid keys are registered.
  CHECK(admin(with_bad, "register-1.log") != 0);
  std::string out = read_file(p.logs.path() + "/register-1.log");
  INFO(out);
  CHECK(out.find(R"("created":50,"existing":0,"invalid":[{"line":52,"key":"bad key"}])") !=
        std::string::npos);
  // Idempotent: again, everything exists.
  CHECK(admin(good, "register-2.log") == 0);
  out = read_file(p.logs.path() + "/register-2.log");
  CHECK(out.find(R"("created":0,"existing":50,"invalid":[])") != std::string::npos);
  // Keys on standard input work the same way.
  const std::string stdin_keys = keys_file(p.logs.path(), "stdin.txt", "piped-1\npiped-2\n");
  CHECK(run_command({"/bin/sh", "-c",
                     fmt::format("{} devices register acme --database-url='{}' < '{}'",
                                 STE_ADMIN_BIN, p.db_url, stdin_keys)},
                    p.logs.path() + "/register-stdin.log") == 0);
  CHECK(read_file(p.logs.path() + "/register-stdin.log")
            .find(R"("created":2,"existing":0,"invalid":[])") != std::string::npos);
  CHECK(query_count(p.db_url,
                    "WITH d AS (DELETE FROM devices WHERE device_key LIKE 'piped-%' "
                    "RETURNING 1) SELECT count(*) FROM d") == 2);
  // An unknown tenant is an error, not an empty success.
  CHECK(run_command({STE_ADMIN_BIN, "devices", "register", "nobody", "--file", good,
                     "--database-url=" + p.db_url},
                    p.logs.path() + "/register-3.log") != 0);

  // Cap 1 and no waiting: anything not registered ahead would be rejected at once.
  p.start_ingester(
      {{"STE_MAX_NEW_DEVICES_PER_MINUTE", "1"}, {"STE_DEVICE_CAP_MAX_WAIT_SECONDS", "0"}});
  publish_fleet(p.nats.url(), one_reading_each("known", 50, test_base_time()));
  CHECK(p.wait_rows(50));
  CHECK(Pipeline::metric(p.ingester_port, kDeviceLimitRejections) == 0);
  CHECK(Pipeline::metric(p.ingester_port, kDeferred) == 0);
  CHECK(query_count(p.db_url, "SELECT count(*) FROM devices") == 50);
}

TEST_CASE("devices registered ahead with POST /api/devices are accepted whatever the cap",
          "[fleet][api]") {
  Pipeline p;
  p.start_evaluator("a");
  Api api(p.evaluators.at("a").port);
  std::string list;
  for (int d = 0; d < 60; ++d) list += fmt::format("{}\"api-{}\"", d ? "," : "", d);

  auto r = api.post("/api/devices", p.api_key, R"({"devices":[)" + list + "]}");
  REQUIRE(r);
  INFO(r->body);
  CHECK(r->status == 200);
  CHECK(r->body == R"({"created":60,"existing":0})");
  r = api.post("/api/devices", p.api_key, R"({"devices":["api-0","api-0","api-new"]})");
  REQUIRE(r);
  CHECK(r->body == R"({"created":1,"existing":1})");

  // All or nothing: the first invalid key is named with its index, nothing is registered.
  check_error(api.post("/api/devices", p.api_key, R"({"devices":["fine-1","bad key","x.y"]})"), 422,
              "invalid_field", "devices[1] ('bad key')");
  check_error(api.post("/api/devices", p.api_key, R"({"devices":[]})"), 422, "invalid_field",
              "devices must be an array");
  std::string too_many = R"({"devices":[)";
  for (int d = 0; d <= 10000; ++d) too_many += fmt::format("{}\"k{}\"", d ? "," : "", d);
  check_error(api.post("/api/devices", p.api_key, too_many + "]}"), 422, "invalid_field",
              "at most 10000");
  check_error(api.post("/api/devices", "wrong-key", R"({"devices":["a"]})"), 401, "unauthorized",
              "");
  CHECK(query_count(p.db_url,
                    "SELECT count(*) FROM devices WHERE device_key LIKE 'fine%' OR "
                    "device_key LIKE 'k%'") == 0);

  p.start_ingester(
      {{"STE_MAX_NEW_DEVICES_PER_MINUTE", "1"}, {"STE_DEVICE_CAP_MAX_WAIT_SECONDS", "0"}});
  publish_fleet(p.nats.url(), one_reading_each("api", 60, test_base_time()));
  CHECK(p.wait_rows(60));
  CHECK(Pipeline::metric(p.ingester_port, kDeviceLimitRejections) == 0);
  CHECK(query_count(p.db_url, "SELECT count(*) FROM devices") == 61);
}
