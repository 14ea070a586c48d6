// Faults on the ingest path: the database away, the ingester killed or stopped mid-stream.
// Every published reading must end up stored exactly once (JetStream mode).
#include <cstdlib>

#include "tests/integration/background_publisher.hpp"
#include "tests/integration/pipeline_fixture.hpp"

using namespace ste;
using namespace ste::test;
using namespace std::chrono_literals;

TEST_CASE("PostgreSQL stopped mid-stream and restarted: every reading arrives exactly once",
          "[ingest][faults]") {
  Pipeline p(/*own_pg=*/true);
  p.start_ingester();
  constexpr int kTotal = 6000;
  BackgroundPublisher pub(p.nats.url(), kTotal, 1500);
  REQUIRE(eventually([&] { return p.rows() > 500; }, 30s));
  p.pg->stop();
  // The ingester notices: readiness fails while the database is away.
  REQUIRE(eventually(
      [&] { return read_file(p.ingester_log()).find("batch write failed") != std::string::npos; },
      20s));
  p.pg->start();
  pub.join();
  REQUIRE(pub.published() == kTotal);
  const bool all_stored = p.wait_rows(kTotal, 90s);
  const std::string log = read_file(p.ingester_log());
  INFO(log.substr(log.size() > 20000 ? log.size() - 20000 : 0));
  INFO("rows: " << p.rows());
  REQUIRE(all_stored);
  CHECK(p.rows() == kTotal);
  CHECK(p.rollup_total() == kTotal);
  CHECK(p.ingester->running());
}

TEST_CASE("SIGKILL of the ingester mid-stream and a restart store exactly N rows",
          "[ingest][faults]") {
  Pipeline p;
  p.start_ingester();
  constexpr int kTotal = 6000;
  BackgroundPublisher pub(p.nats.url(), kTotal, 2000);
  REQUIRE(eventually([&] { return p.rows() > 1000; }, 30s));
  p.ingester->kill();
  int status = 0;
  REQUIRE(p.ingester->wait_exit(10s, &status));
  p.start_ingester();
  pub.join();
  REQUIRE(p.wait_rows(kTotal, 90s));
  CHECK(p.rows() == kTotal);
  CHECK(p.rollup_total() == kTotal);
}

TEST_CASE("SIGTERM mid-stream exits cleanly and loses nothing", "[ingest][faults]") {
  Pipeline p;
  p.start_ingester();
  constexpr int kTotal = 4000;
  BackgroundPublisher pub(p.nats.url(), kTotal, 2000);
  REQUIRE(eventually([&] { return p.rows() > 500; }, 30s));
  p.ingester->terminate();
  int status = -1;
  REQUIRE(p.ingester->wait_exit(20s, &status));
  CHECK(status == 0);
  const std::string log = read_file(p.ingester_log());
  CHECK(log.find("\"ingester stopped\"") != std::string::npos);
  // What the stopped ingester acked is stored; the rest waits in JetStream for the next one.
  p.start_ingester();
  pub.join();
  REQUIRE(p.wait_rows(kTotal, 90s));
  CHECK(p.rows() == kTotal);
  CHECK(p.rollup_total() == kTotal);
}

TEST_CASE(
    "SIGTERM while a batch is still buffered: it is written and acked, then the process exits",
    "[ingest][faults]") {
  // A long interval and a large batch keep every reading in the buffer until the stop flushes it:
  // the acks then go out after the consumer has stopped fetching, through its subscriptions. cnats
  // acks through the message's subscription, so closing them first was a use-after-free (a
  // segfault in release builds). libnats is not instrumented, so ASan cannot see the read itself:
  // filling freed memory makes the stale subscription crash the ingester here too.
  Pipeline p;
  const char* asan = std::getenv("ASAN_OPTIONS");
  p.start_ingester({{"STE_BATCH_INTERVAL_MS", "600000"},
                    {"STE_BATCH_SIZE", "100000"},
                    {"ASAN_OPTIONS", std::string(asan ? asan : "") +
                                         ":max_free_fill_size=1048576:free_fill_byte=255"}});
  constexpr int kTotal = 300;
  for (int i = 0; i < kTotal; ++i) {
    p.publish("sensors.acme.held-" + std::to_string(i % 3),
              now_reading("temp", i, std::chrono::milliseconds{i}));
  }
  REQUIRE(eventually(
      [&] { return Pipeline::metric(p.ingester_port, "ste_ingest_buffered_readings") == kTotal; },
      30s));
  CHECK(p.rows() == 0);
  p.ingester->terminate();
  int status = -1;
  REQUIRE(p.ingester->wait_exit(30s, &status));
  CHECK(status == 0);
  CHECK(p.rows() == kTotal);
  CHECK(p.rollup_total() == kTotal);
  // Acked, so a new ingester finds nothing to redeliver: the consumer has nothing pending.
  p.start_ingester();
  REQUIRE(eventually(
      [&] { return Pipeline::metric(p.ingester_port, "ste_ingest_consumer_pending") == 0; }, 30s));
  CHECK(Pipeline::metric(p.ingester_port, "ste_ingest_messages_total") == 0);
}

TEST_CASE(
    "ste-loadgen sending 100,000 readings gives exactly 100,000 rows across an ingester SIGKILL",
    "[ingest][faults][loadgen]") {
  Pipeline p;
  p.start_ingester({{"STE_BATCH_SIZE", "5000"}});
  Process loadgen({STE_LOADGEN_BIN, "--nats-url", p.nats.url(), "--tenant", "acme", "--devices",
                   "20", "--metrics", "2", "--count", "100000", "--batch", "10", "--rate", "25000"},
                  p.logs.path() + "/loadgen.log");
  REQUIRE(eventually([&] { return p.rows() > 20000; }, 60s));
  p.ingester->kill();
  REQUIRE(p.ingester->wait_exit(10s));
  p.start_ingester({{"STE_BATCH_SIZE", "5000"}});
  int status = -1;
  REQUIRE(loadgen.wait_exit(120s, &status));
  INFO(read_file(p.logs.path() + "/loadgen.log"));
  REQUIRE(status == 0);
  REQUIRE(p.wait_rows(100000, 120s));
  CHECK(p.rows() == 100000);
  CHECK(p.rollup_total() == 100000);
}
