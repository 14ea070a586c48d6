// The SENSORS stream on limits retention: the ingester trims what every consumer has acked, and
// never anything a consumer still needs. An existing work-queue stream keeps its retention.
#include "tests/integration/pipeline_fixture.hpp"

using namespace ste;
using namespace ste::test;
using namespace std::chrono_literals;

namespace {

struct StreamBounds {
  std::uint64_t first = 0;
  std::uint64_t messages = 0;
  jsRetentionPolicy retention = js_LimitsPolicy;
};

StreamBounds bounds(Pipeline& p, const std::string& stream) {
  jsStreamInfo* si = nullptr;
  REQUIRE(js_GetStreamInfo(&si, p.client->js(), stream.c_str(), nullptr, nullptr) == NATS_OK);
  StreamBounds b{si->State.FirstSeq, si->State.Msgs, si->Config->Retention};
  jsStreamInfo_Destroy(si);
  return b;
}

std::uint64_t ack_floor(Pipeline& p, const std::string& durable) {
  jsConsumerInfo* ci = nullptr;
  if (js_GetConsumerInfo(&ci, p.client->js(), "SENSORS", durable.c_str(), nullptr, nullptr) !=
      NATS_OK)
    return 0;
  const std::uint64_t floor = ci->AckFloor.Stream;
  jsConsumerInfo_Destroy(ci);
  return floor;
}

/// Fetches and acks (synchronously) the next `n` messages of durable `sub`'s consumer.
void ack_next(natsSubscription* sub, int n) {
  int acked = 0;
  const auto deadline = std::chrono::steady_clock::now() + 30s;
  while (acked < n && std::chrono::steady_clock::now() < deadline) {
    natsMsgList list{};
    if (natsSubscription_Fetch(&list, sub, n - acked, 1000, nullptr) != NATS_OK) continue;
    for (int i = 0; i < list.Count; ++i) {
      REQUIRE(natsMsg_AckSync(list.Msgs[i], nullptr, nullptr) == NATS_OK);
      ++acked;
    }
    natsMsgList_Destroy(&list);
  }
  REQUIRE(acked == n);
}

void publish_readings(Pipeline& p, int n) {
  for (int i = 0; i < n; ++i) {
    p.publish("sensors.acme.trim-" + std::to_string(i % 4),
              now_reading("temp", i, std::chrono::milliseconds{i}));
  }
}

}  // namespace

TEST_CASE("SENSORS is trimmed below the slowest consumer's ack floor, and emptied once all acked",
          "[ingest][trim]") {
  Pipeline p;
  p.client->ensure_stream(kSensorsStream);
  REQUIRE(bounds(p, "SENSORS").retention == js_LimitsPolicy);
  // A second reader of the stream, as an archive would be: it has acked nothing yet.
  const ConsumerSpec archive{"SENSORS", "archive"};
  p.client->ensure_pull_consumer(archive);
  natsSubscription* sub = p.client->pull_subscribe(archive, "sensors.>");
  p.start_ingester();
  constexpr int kTotal = 200;
  publish_readings(p, kTotal);
  REQUIRE(p.wait_rows(kTotal));
  REQUIRE(eventually([&] { return ack_floor(p, "ste-ingester") == kTotal; }, 30s));
  // The ingester acked everything; the archive nothing: all 200 stay.
  CHECK(bounds(p, "SENSORS").messages == kTotal);

  ack_next(sub, 50);
  // Trimmed below the archive's floor (51), not the ingester's (201).
  REQUIRE(eventually([&] { return bounds(p, "SENSORS").first == 51; }, 10s));
  CHECK(bounds(p, "SENSORS").messages == kTotal - 50);
  CHECK(Pipeline::metric(p.ingester_port, "ste_ingest_stream_trimmed_messages_total") == 50);

  ack_next(sub, kTotal - 50);
  REQUIRE(eventually([&] { return bounds(p, "SENSORS").messages == 0; }, 10s));
  CHECK(Pipeline::metric(p.ingester_port, "ste_ingest_stream_trimmed_messages_total") == kTotal);
  CHECK(Pipeline::metric(p.ingester_port, "ste_ingest_stream_trim_failures_total") == 0);
  natsSubscription_Destroy(sub);
  CHECK(p.rows() == kTotal);
}

TEST_CASE("An existing work-queue SENSORS stream keeps its retention and the ingester runs on it",
          "[ingest][trim]") {
  Pipeline p;
  StreamSpec wq = kSensorsStream;
  wq.retention = StreamRetention::work_queue;
  CHECK(p.client->ensure_stream(wq) == StreamRetention::work_queue);
  // nats-server cannot switch a stream to or from work-queue: the limits default is not applied.
  CHECK(p.client->ensure_stream(kSensorsStream) == StreamRetention::work_queue);
  p.start_ingester();
  const std::string log = read_file(p.ingester_log());
  CHECK(log.find("\"stream keeps the retention it was created with\"") != std::string::npos);
  CHECK(log.find("\"sensors_retention\":\"work-queue\"") != std::string::npos);
  constexpr int kTotal = 60;
  publish_readings(p, kTotal);
  REQUIRE(p.wait_rows(kTotal));
  // Acks delete on a work queue; the trimmer does not run.
  REQUIRE(eventually([&] { return bounds(p, "SENSORS").messages == 0; }, 10s));
  CHECK(bounds(p, "SENSORS").retention == js_WorkQueuePolicy);
  CHECK(Pipeline::metric(p.ingester_port, "ste_ingest_stream_trimmed_messages_total") == 0);
}

TEST_CASE("STE_SENSORS_RETENTION=work-queue creates a work-queue SENSORS stream",
          "[ingest][trim]") {
  Pipeline p;
  p.start_ingester({{"STE_SENSORS_RETENTION", "work-queue"}});
  CHECK(bounds(p, "SENSORS").retention == js_WorkQueuePolicy);
  CHECK(read_file(p.ingester_log()).find("\"sensors_retention\":\"work-queue\"") !=
        std::string::npos);
}
