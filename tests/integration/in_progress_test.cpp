// Messages held past the consumer's 30-s ack wait are not redelivered (#12 item 5, the flusher's
// in-progress signals): real ingester, nats-server and PostgreSQL, the writes held by a lock.
#include "common/pg_connection.hpp"
#include "tests/integration/pipeline_fixture.hpp"

using namespace ste;
using namespace ste::test;
using namespace std::chrono_literals;

TEST_CASE("Messages held beyond the ack wait are kept in progress, not redelivered",
          "[in_progress]") {
  Pipeline p;
  // No statement timeout: the writes stay blocked for as long as the lock is held.
  p.start_ingester({{"STE_DB_STATEMENT_TIMEOUT_MS", "0"}});
  const TimePoint t = test_base_time();
  p.publish("sensors.acme.boiler-1", reading_json("temperature", 20, t));
  REQUIRE(p.wait_rows(1));
  auto received = [&] { return Pipeline::metric(p.ingester_port, "ste_ingest_messages_total"); };
  REQUIRE(received() == 1);

  // Writes into `readings` now wait for this transaction: both writers block with a batch each,
  // and the third message waits in the buffer.
  PgConnection lock(p.db_url, PgTimeouts{5s, 0ms, 0ms});
  lock.exec("BEGIN");
  lock.exec("LOCK TABLE readings IN ACCESS EXCLUSIVE MODE");
  for (int i = 1; i <= 3; ++i) {
    p.publish("sensors.acme.boiler-1", reading_json("temperature", 20 + i, t + i * 1s));
    // Let each message become its own batch (interval 100 ms) so both writers hold one.
    std::this_thread::sleep_for(300ms);
  }
  REQUIRE(eventually([&] { return received() == 4; }, 10s));
  // Past the 30-s ack wait of every held message: JetStream would have redelivered them
  // (received() > 4) without the in-progress signals.
  CHECK_FALSE(eventually([&] { return received() > 4; }, 38s, 500ms));
  CHECK(Pipeline::metric(p.ingester_port, "ste_ingest_messages_in_progress_total") >= 3);

  lock.exec("COMMIT");
  REQUIRE(p.wait_rows(4));
  REQUIRE(eventually([&] { return p.stream_messages("SENSORS") == 0; }, 30s));
  CHECK(received() == 4);
  CHECK(Pipeline::metric(p.ingester_port, "ste_ingest_readings_duplicate_total") == 0);
  CHECK(Pipeline::metric(p.ingester_port, "ste_ingest_messages_nak_total") == 0);
  CHECK(p.rows() == 4);
  CHECK(p.rollup_total() == 4);
}
