// The ingest path end to end against real nats-server and PostgreSQL, through the real
// ste-ingester binary.
#include <set>

#include "ingester/reject_reason.hpp"
#include "tests/integration/pipeline_fixture.hpp"

using namespace ste;
using namespace ste::test;
using namespace std::chrono_literals;

TEST_CASE("N published readings become exactly N rows and rollups that sum to N", "[ingest]") {
  Pipeline p;
  p.start_ingester();
  const TimePoint base = test_base_time();
  constexpr int kDevices = 5, kPerDevice = 300;
  for (int d = 0; d < kDevices; ++d) {
    for (int i = 0; i < kPerDevice; i += 3) {
      // Mix single objects and arrays.
      std::string arr = "[";
      for (int k = 0; k < 3; ++k) {
        if (k) arr += ",";
        arr += reading_json("temperature", 20.0 + k, base + std::chrono::milliseconds{i + k});
      }
      arr += "]";
      p.publish(fmt::format("sensors.acme.dev-{}", d), arr);
    }
  }
  const long long n = kDevices * kPerDevice;
  REQUIRE(p.wait_rows(n));
  CHECK(p.rows() == n);
  CHECK(p.rollup_total() == n);
  CHECK(query_count(p.db_url, "SELECT count(*) FROM devices") == kDevices);
  // Rollup aggregates are exact: sum of values equals the raw rows' sum.
  CHECK(query_scalar(p.db_url, "SELECT sum(sum)::numeric(20,3) FROM readings_1m") ==
        query_scalar(p.db_url, "SELECT sum(value)::numeric(20,3) FROM readings"));
  // Every source message was acked: the trimmer empties the stream (limits retention).
  CHECK(eventually([&] { return p.stream_messages("SENSORS") == 0; }, 10s));
}

TEST_CASE("The same message delivered twice gives one row and a rollup counted once", "[ingest]") {
  Pipeline p;
  p.start_ingester();
  const TimePoint ts = test_base_time();
  const std::string msg = reading_json("pressure", 7.5, ts);
  p.publish("sensors.acme.boiler-1", msg);
  REQUIRE(p.wait_rows(1));
  p.publish("sensors.acme.boiler-1", msg);
  // A marker message after the duplicate proves the duplicate was processed before we look.
  p.publish("sensors.acme.boiler-1", reading_json("marker", 1, ts));
  REQUIRE(p.wait_rows(2));
  CHECK(query_count(p.db_url, "SELECT count(*) FROM readings WHERE metric = 'pressure'") == 1);
  CHECK(query_scalar(p.db_url, "SELECT n FROM readings_1m WHERE metric = 'pressure'") == "1");
  CHECK(query_scalar(p.db_url, "SELECT sum FROM readings_1m WHERE metric = 'pressure'") == "7.5");
}

TEST_CASE("Every rejection reason arrives on ste.rejected.<tenant> with its reason", "[ingest]") {
  Pipeline p;
  // device_limit: a cap of one new device, and no waiting for the next window (the wait and its
  // bound are fleet_onboarding_test's), so the devices over the cap are rejected at once.
  p.start_ingester(
      {{"STE_MAX_NEW_DEVICES_PER_MINUTE", "1"}, {"STE_DEVICE_CAP_MAX_WAIT_SECONDS", "0"}});

  struct Received {
    std::mutex mu;
    std::vector<std::pair<std::string, std::string>> items;  // subject, payload
  } received;
  natsSubscription* sub = nullptr;
  REQUIRE(natsConnection_Subscribe(
              &sub, p.client->conn(), "ste.rejected.>",
              [](natsConnection*, natsSubscription*, natsMsg* m, void* c) {
                auto* r = static_cast<Received*>(c);
                std::lock_guard lock(r->mu);
                r->items.emplace_back(natsMsg_GetSubject(m),
                                      std::string(natsMsg_GetData(m), natsMsg_GetDataLength(m)));
                natsMsg_Destroy(m);
              },
              &received) == NATS_OK);
  p.client->flush(2s);

  const TimePoint ts = test_base_time();
  const auto now_iso = [](std::chrono::milliseconds off) {
    return format_rfc3339_ms(SysClock::now() + off);
  };
  p.publish("sensors.acme.d1",
            reading_json("ok", 1, ts));  // registers d1 (the one allowed new device)
  REQUIRE(p.wait_rows(1));
  p.publish("sensors.acme", R"({"metric":"m","value":1})");               // invalid_subject
  p.publish("sensors.acme.d1", R"({"metric":"m","value":)");              // invalid_json
  p.publish("sensors.acme.d1", "[" + std::string(70 * 1024, ' ') + "]");  // too_large
  std::string many = "[";
  for (int i = 0; i < 1001; ++i) many += std::string(i ? "," : "") + R"({"metric":"m","value":1})";
  p.publish("sensors.acme.d1", many + "]");                       // too_many_readings
  p.publish("sensors.nobody.d1", R"({"metric":"m","value":1})");  // unknown_tenant
  for (int i = 0; i < 3; ++i) {                                   // device_limit
    p.publish(fmt::format("sensors.acme.new-{}", i), reading_json("m", 1, ts));
  }
  p.publish("sensors.acme.d1", R"({"metric":"m","value":1,"device":"other"})");  // device_mismatch
  p.publish("sensors.acme.d1", R"({"value":1})");                                // missing_metric
  p.publish("sensors.acme.d1", R"({"metric":"bad metric!","value":1})");         // invalid_metric
  p.publish("sensors.acme.d1", R"({"metric":"m"})");                             // missing_value
  p.publish("sensors.acme.d1", R"({"metric":"m","value":"12"})");                // invalid_value
  p.publish("sensors.acme.d1", R"({"metric":"m","value":1,"ts":"yesterday"})");  // invalid_ts
  p.publish("sensors.acme.d1",
            R"({"metric":"m","value":1,"ts":")" + now_iso(10min) + "\"}");  // future_ts
  p.publish("sensors.acme.d1",
            R"({"metric":"m","value":1,"ts":")" + now_iso(-24h * 40) + "\"}");  // too_old
  p.publish("sensors.acme.d1",
            R"({"metric":"m","value":1,"unit":")" + std::string(33, 'u') + "\"}");  // invalid_unit

  std::set<std::string> expected;
  for (auto r : ingest::kAllRejectReasons) expected.insert(std::string(ingest::reason_name(r)));
  std::set<std::string> seen;
  const bool all = eventually(
      [&] {
        std::lock_guard lock(received.mu);
        seen.clear();
        for (const auto& [subject, payload] : received.items) {
          simdjson::dom::parser parser;
          simdjson::dom::element doc;
          if (parser.parse(payload).get(doc)) continue;
          std::string_view reason;
          if (doc["reason"].get(reason)) continue;
          seen.insert(std::string(reason));
        }
        return seen == expected;
      },
      30s);
  INFO(read_file(p.ingester_log()));
  CHECK(all);
  CHECK(seen == expected);

  std::lock_guard lock(received.mu);
  bool unknown_on_its_token = false, invalid_subject_on_acme = false;
  for (const auto& [subject, payload] : received.items) {
    if (payload.find("unknown_tenant") != std::string::npos)
      unknown_on_its_token |= subject == "ste.rejected.nobody";
    if (payload.find("invalid_subject") != std::string::npos)
      invalid_subject_on_acme |= subject == "ste.rejected.acme";
    CHECK(payload.find("\"subject\"") != std::string::npos);
    CHECK(payload.find("\"payload\"") != std::string::npos);
  }
  CHECK(unknown_on_its_token);
  CHECK(invalid_subject_on_acme);
  natsSubscription_Destroy(sub);
  // Bad input never stopped the process, and the rejections are counted by reason.
  CHECK(p.ingester->running());
}

TEST_CASE("In an array, valid readings are stored and each invalid one is rejected with its index",
          "[ingest]") {
  Pipeline p;
  p.start_ingester();
  const TimePoint ts = test_base_time();
  const std::string arr =
      "[" + reading_json("a", 1, ts) + R"(,{"metric":"b"},)" + reading_json("c", 3, ts) + "]";
  p.publish("sensors.acme.d1", arr);
  REQUIRE(p.wait_rows(2));
  CHECK(query_scalar(p.db_url, "SELECT string_agg(metric, ',' ORDER BY metric) FROM readings") ==
        "a,c");
}

TEST_CASE("Core mode stores published readings through a queue-group subscription",
          "[ingest][core]") {
  Pipeline p;
  p.start_ingester({{"STE_NATS_MODE", "core"}});
  const TimePoint base = test_base_time();
  for (int i = 0; i < 200; ++i) {
    const std::string m = reading_json("rpm", i, base + std::chrono::milliseconds{i});
    REQUIRE(natsConnection_Publish(p.client->conn(), "sensors.acme.pump", m.data(),
                                   static_cast<int>(m.size())) == NATS_OK);
  }
  p.client->flush(2s);
  REQUIRE(p.wait_rows(200));
  CHECK(p.rollup_total() == 200);
}

TEST_CASE("A batch summary is published on ste.batches.flushed after the batch commits",
          "[ingest]") {
  Pipeline p;
  p.start_ingester();
  const TimePoint ts = test_base_time();
  p.publish("sensors.acme.d9", "[" + reading_json("t", 5, ts) + "," +
                                   reading_json("t", 95, ts + 1ms) + "," +
                                   reading_json("t", 6, ts + 2ms) + "]");
  REQUIRE(p.wait_rows(3));
  // Read the summary from the STE_BATCHES work queue with our own durable consumer.
  ConsumerSpec spec{"STE_BATCHES", "test-reader", 30s, 100};
  p.client->ensure_pull_consumer(spec);
  natsSubscription* sub = p.client->pull_subscribe(spec, "ste.batches.flushed");
  natsMsgList list{};
  REQUIRE(natsSubscription_Fetch(&list, sub, 10, 5000, nullptr) == NATS_OK);
  REQUIRE(list.Count >= 1);
  const std::string body(natsMsg_GetData(list.Msgs[0]), natsMsg_GetDataLength(list.Msgs[0]));
  simdjson::dom::parser parser;
  auto doc = parser.parse(body);
  REQUIRE(doc.error() == simdjson::SUCCESS);
  auto t = doc["tuples"].at(0);
  CHECK(double(t["max"]) == 95.0);
  CHECK(double(t["min"]) == 5.0);
  CHECK(double(t["last"]) == 6.0);
  CHECK(int64_t(t["count"]) == 3);
  CHECK(int64_t(t["tenant_id"]) == p.tenant_id);
  natsMsgList_Destroy(&list);
  natsSubscription_Destroy(sub);
}

TEST_CASE("Both services refuse to start against a database whose schema is behind",
          "[ingest][evaluator]") {
  TempDir logs("ste-it-schema-");
  NatsServer nats;
  const std::string db = fresh_database_url();  // empty: no migrations applied
  for (const char* bin : {STE_INGESTER_BIN, STE_EVALUATOR_BIN}) {
    const std::string log = logs.path() + "/service.log";
    Process svc({bin}, log,
                {{"STE_NATS_URL", nats.url()},
                 {"STE_DATABASE_URL", db},
                 {"STE_HTTP_ADDR", fmt::format("127.0.0.1:{}", free_tcp_port())}});
    int status = -1;
    REQUIRE(svc.wait_exit(30s, &status));
    CHECK(status == 1);
    CHECK(read_file(log).find("run `ste-admin migrate` first") != std::string::npos);
  }
}
