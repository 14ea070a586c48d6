// Summaries at fleet size and summaries of stored rows (#12 items 1 and 3): real ingester, real
// evaluator, a default nats-server (max_payload 1 MiB) and PostgreSQL.
#include "tests/integration/pipeline_fixture.hpp"

using namespace ste;
using namespace ste::test;
using namespace std::chrono_literals;

namespace {

constexpr int kDevices = 100;
constexpr int kMetrics = 200;

/// One PLC's message: all its tags at once, every value 20 except `hot_metric` at `hot_value`.
std::string plc_message(TimePoint ts, int hot_metric, double hot_value) {
  std::string arr = "[";
  for (int m = 0; m < kMetrics; ++m) {
    if (m > 0) arr += ",";
    arr += reading_json("tag_" + std::to_string(m), m == hot_metric ? hot_value : 20.0, ts);
  }
  return arr + "]";
}

}  // namespace

TEST_CASE("A batch of 20,000 series is evaluated: its summary is split to fit max_payload",
          "[wide_batch]") {
  Pipeline p;
  p.add_rule("above_threshold", 80, "tag_137", 15, 60, "plc-42");
  const TimePoint ts = test_base_time();
  // Published before the ingester consumes, so one fetch brings all of it and one batch of
  // 20,000 readings (100 devices × 200 metrics) forms: its summary alone is about 5 MB.
  for (int d = 0; d < kDevices; ++d) {
    p.publish("sensors.acme.plc-" + std::to_string(d), plc_message(ts, 137, d == 42 ? 95.0 : 20.0));
  }
  p.start_evaluator("a");
  p.start_ingester({{"STE_BATCH_SIZE", "20000"},
                    {"STE_BATCH_INTERVAL_MS", "20000"},
                    {"STE_MAX_NEW_DEVICES_PER_MINUTE", "1000"}});

  REQUIRE(p.wait_rows(kDevices * kMetrics));
  INFO(read_file(p.ingester_log()));
  REQUIRE(eventually([&] { return p.alerts() == 1; }, 60s));
  CHECK(query_scalar(p.db_url,
                     "SELECT d.device_key || ' ' || a.value FROM alerts a JOIN devices d "
                     "ON d.id = a.device_id") == "plc-42 95");
  // One batch, its summary in several parts, every source message acked once and never nak'd.
  REQUIRE(eventually([&] { return p.stream_messages("SENSORS") == 0; }, 30s));
  CHECK(Pipeline::metric(p.ingester_port, "ste_ingest_summary_parts_total") >= 5);
  CHECK(Pipeline::metric(p.ingester_port, "ste_ingest_messages_nak_total") == 0);
  CHECK(Pipeline::metric(p.ingester_port, "ste_ingest_summary_publish_failures_total") == 0);
  CHECK(p.rows() == kDevices * kMetrics);
  CHECK(p.rollup_total() == kDevices * kMetrics);
  // Every part was evaluated (the evaluator acked all of them).
  REQUIRE(eventually([&] { return p.stream_messages("STE_BATCHES") == 0; }, 30s));
  CHECK(p.evaluator_metric("a", "ste_eval_summaries_total") ==
        Pipeline::metric(p.ingester_port, "ste_ingest_summary_parts_total"));
}

TEST_CASE("A reading re-sent with another value is evaluated with the value stored",
          "[wide_batch][stored_values]") {
  const std::string method = GENERATE("copy", "unnest");
  INFO("write method " << method);
  Pipeline p;
  p.add_rule("above_threshold", 80, "temperature");
  p.start_ingester({{"STE_WRITE_METHOD", method}});
  p.start_evaluator("a");
  const TimePoint t = test_base_time();
  auto stored = [&](const std::string& device) {
    return query_scalar(p.db_url,
                        "SELECT r.value FROM readings r JOIN devices d ON d.id = r.device_id "
                        "WHERE d.device_key = '" +
                            device + "'");
  };
  auto summaries_evaluated = [&](double n) {
    return eventually([&] { return p.evaluator_metric("a", "ste_eval_summaries_total") >= n; },
                      30s);
  };

  // 20 stored, then 95 for the same key in a later batch: no alert, the row keeps 20.
  p.publish("sensors.acme.calm", reading_json("temperature", 20, t));
  REQUIRE(p.wait_rows(1));
  REQUIRE(summaries_evaluated(1));
  p.publish("sensors.acme.calm", reading_json("temperature", 95, t));
  REQUIRE(eventually(
      [&] { return Pipeline::metric(p.ingester_port, "ste_ingest_readings_duplicate_total") >= 1; },
      30s));
  REQUIRE(summaries_evaluated(2));

  // Both in one message (one batch): the first occurrence is stored and evaluated.
  p.publish("sensors.acme.same-batch", "[" + reading_json("temperature", 20, t) + "," +
                                           reading_json("temperature", 95, t) + "]");
  REQUIRE(p.wait_rows(2));
  REQUIRE(summaries_evaluated(3));

  // The reverse order: 95 stored fires once; 20 re-sent for its key neither fires nor clears.
  p.publish("sensors.acme.hot", reading_json("temperature", 95, t));
  REQUIRE(eventually([&] { return p.alerts() == 1; }, 30s));
  p.publish("sensors.acme.hot", reading_json("temperature", 20, t));
  REQUIRE(eventually(
      [&] { return Pipeline::metric(p.ingester_port, "ste_ingest_readings_duplicate_total") >= 3; },
      30s));
  REQUIRE(summaries_evaluated(5));

  CHECK(p.alerts() == 1);
  CHECK(query_scalar(p.db_url,
                     "SELECT d.device_key || ' ' || a.value FROM alerts a JOIN devices "
                     "d ON d.id = a.device_id") == "hot 95");
  CHECK(stored("calm") == "20");
  CHECK(stored("same-batch") == "20");
  CHECK(stored("hot") == "95");
  CHECK(p.rows() == 3);
  CHECK(p.rollup_total() == 3);
}
