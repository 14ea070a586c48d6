// A message whose readings the database refuses (#12 item 4, the ingester's side): real
// ingester, nats-server and PostgreSQL; a CHECK constraint makes one message certain to fail.
#include "common/dead_letter.hpp"
#include "tests/integration/pipeline_fixture.hpp"

using namespace ste;
using namespace ste::test;
using namespace std::chrono_literals;

TEST_CASE("A message the database refuses is isolated and dead-lettered — its batch is stored",
          "[poison]") {
  Pipeline p;
  // The data's fault, not the database's: SQLSTATE 23514 (check_violation).
  query_scalar(p.db_url, "ALTER TABLE readings ADD CONSTRAINT no_666 CHECK (value <> 666)");
  const TimePoint t = test_base_time();
  // Published before the ingester runs: all five messages form one batch.
  for (int d = 0; d < 5; ++d) {
    const double bad = d == 2 ? 666 : 20;
    p.publish(
        "sensors.acme.dev-" + std::to_string(d),
        "[" + reading_json("temperature", 20, t) + "," + reading_json("pressure", bad, t) + "]");
  }
  p.start_ingester({{"STE_MAX_DELIVERIES", "3"}, {"STE_BATCH_INTERVAL_MS", "1000"}});

  // The four good messages are stored, summarised and acked at once.
  REQUIRE(p.wait_rows(8));
  REQUIRE(eventually([&] { return p.stream_messages("STE_BATCHES") >= 1; }, 10s));
  // The poison one: nak'd with back-off (1 s, 2 s), dead-lettered on its third delivery.
  REQUIRE(eventually([&] { return p.stream_messages("STE_DEAD") == 1; }, 30s));
  REQUIRE(eventually([&] { return p.stream_messages("SENSORS") == 0; }, 10s));
  CHECK(Pipeline::metric(p.ingester_port,
                         R"(ste_dead_lettered_total{reason="write_failed",stream="SENSORS"})") ==
        1);
  CHECK(Pipeline::metric(p.ingester_port, "ste_ingest_messages_nak_total") == 2);
  CHECK(p.rows() == 8);
  CHECK(p.rollup_total() == 8);
  CHECK(query_count(p.db_url,
                    "SELECT count(*) FROM readings r JOIN devices d ON d.id = "
                    "r.device_id WHERE d.device_key = 'dev-2'") == 0);

  natsMsg* dead = nullptr;
  REQUIRE(js_GetLastMsg(&dead, p.client->js(), "STE_DEAD", "ste.dead.SENSORS", nullptr, nullptr) ==
          NATS_OK);
  const char* reason = nullptr;
  const char* detail = nullptr;
  const char* subject = nullptr;
  CHECK(natsMsgHeader_Get(dead, kDeadReasonHeader, &reason) == NATS_OK);
  CHECK(natsMsgHeader_Get(dead, kDeadDetailHeader, &detail) == NATS_OK);
  CHECK(natsMsgHeader_Get(dead, kDeadSubjectHeader, &subject) == NATS_OK);
  CHECK(std::string(reason ? reason : "") == "write_failed");
  CHECK(std::string(detail ? detail : "").find("23514") != std::string::npos);
  CHECK(std::string(subject ? subject : "") == "sensors.acme.dev-2");
  CHECK(std::string(natsMsg_GetData(dead), natsMsg_GetDataLength(dead)).find("666") !=
        std::string::npos);
  natsMsg_Destroy(dead);
  // The ingester stays ready: a message's bad data is not a database outage.
  httplib::Client c("127.0.0.1", p.ingester_port);
  auto res = c.Get("/readyz");
  REQUIRE(res);
  CHECK(res->status == 200);
}
