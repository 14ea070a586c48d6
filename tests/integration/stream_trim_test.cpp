// The SENSORS stream's retention: limits retention trimmed by the ingester only where this
// nats-server's purge keeps unacked deliveries (2.9.15 and later; Debian 12 ships 2.9.10, whose
// purge forgets them), a work queue elsewhere. The trimmer removes what every consumer has acked
// and never anything a consumer still needs. An existing stream keeps its retention.
#include <algorithm>
#include <cstdio>
#include <tuple>

#include "ingester/purge_probe.hpp"
#include "ingester/stream_trimmer.hpp"
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

/// Creates SENSORS with limits retention (as the ingester would where trimming is safe); returns
/// the retention it has (an existing stream keeps its own).
StreamRetention create_limits_sensors(Pipeline& p) {
  StreamSpec limits = kSensorsStream;
  limits.retention = StreamRetention::limits;
  return p.client->ensure_stream(limits);
}

/// What `nats-server --version` says, against the release that fixed its purge (2.9.15): the
/// expectation the probe is checked against, found out independently of it.
bool server_purge_keeps_unacked() {
  FILE* f = popen("nats-server --version 2>&1", "r");
  REQUIRE(f != nullptr);
  char buf[128] = {};
  const std::string out = std::fgets(buf, sizeof buf, f) ? buf : "";
  pclose(f);
  int major = 0, minor = 0, patch = 0;
  INFO(out);
  REQUIRE(std::sscanf(out.c_str(), "nats-server: v%d.%d.%d", &major, &minor, &patch) == 3);
  return std::tie(major, minor, patch) >= std::make_tuple(2, 9, 15);
}

std::vector<std::string> stream_names(Pipeline& p) {
  jsStreamNamesList* list = nullptr;
  std::vector<std::string> names;
  if (js_StreamNames(&list, p.client->js(), nullptr, nullptr) == NATS_OK && list) {
    for (int i = 0; i < list->Count; ++i) names.emplace_back(list->List[i]);
    jsStreamNamesList_Destroy(list);
  }
  return names;
}

}  // namespace

TEST_CASE("The purge probe finds out whether this nats-server's purge keeps unacked deliveries",
          "[ingest][trim]") {
  Pipeline p;
  const ingest::PurgeSafety safety = ingest::probe_purge_safety(*p.client);
  INFO(safety.detail);
  CHECK(safety.keeps_unacked == server_purge_keeps_unacked());
  CHECK_THAT(safety.detail, Catch::Contains("still pending"));
  // The scratch stream is gone again.
  for (const auto& name : stream_names(p)) CHECK(name.rfind("STE_PURGE_PROBE_", 0) != 0);
}

TEST_CASE("The trimmer purges below the slowest consumer's ack floor and nothing unacked",
          "[ingest][trim]") {
  Pipeline p;
  REQUIRE(create_limits_sensors(p) == StreamRetention::limits);
  const ConsumerSpec fast{"SENSORS", "fast"}, slow{"SENSORS", "slow"};
  p.client->ensure_pull_consumer(fast);
  p.client->ensure_pull_consumer(slow);
  natsSubscription* fast_sub = p.client->pull_subscribe(fast, "sensors.>");
  natsSubscription* slow_sub = p.client->pull_subscribe(slow, "sensors.>");
  constexpr int kTotal = 200;
  publish_readings(p, kTotal);
  ingest::StreamTrimmer trimmer(*p.client, "SENSORS");
  CHECK(trimmer.run_once() == 0);  // nobody has acked anything
  ack_next(fast_sub, kTotal);
  ack_next(slow_sub, 50);
  REQUIRE(eventually([&] { return ack_floor(p, "slow") == 50; }, 10s));
  CHECK(trimmer.run_once() == 50);  // below the slow consumer's floor, not the fast one's
  CHECK(bounds(p, "SENSORS").first == 51);
  CHECK(bounds(p, "SENSORS").messages == kTotal - 50);
  CHECK(trimmer.run_once() == 0);
  ack_next(slow_sub, kTotal - 50);
  REQUIRE(eventually([&] { return ack_floor(p, "slow") == kTotal; }, 10s));
  CHECK(trimmer.run_once() == kTotal - 50);
  CHECK(bounds(p, "SENSORS").messages == 0);
  natsSubscription_Destroy(fast_sub);
  natsSubscription_Destroy(slow_sub);
}

TEST_CASE("By default the ingester makes SENSORS a limits stream only where trimming is safe",
          "[ingest][trim]") {
  Pipeline p;
  const bool safe = server_purge_keeps_unacked();
  p.start_ingester();  // STE_SENSORS_RETENTION unset: auto
  const std::string log = read_file(p.ingester_log());
  INFO(log);
  CHECK(bounds(p, "SENSORS").retention == (safe ? js_LimitsPolicy : js_WorkQueuePolicy));
  CHECK(log.find(safe ? "\"sensors_retention\":\"limits\",\"sensors_trimmed\":true"
                      : "\"sensors_retention\":\"work-queue\",\"sensors_trimmed\":false") !=
        std::string::npos);
  CHECK(log.find("\"sensors retention chosen\"") != std::string::npos);
  constexpr int kTotal = 60;
  publish_readings(p, kTotal);
  REQUIRE(p.wait_rows(kTotal));
  // Either way the stream empties: acks delete on a work queue, the trimmer on limits.
  REQUIRE(eventually([&] { return bounds(p, "SENSORS").messages == 0; }, 10s));
}

TEST_CASE(
    "STE_SENSORS_RETENTION=limits on a server whose purge drops unacked deliveries is "
    "refused at start-up with the reason",
    "[ingest][trim]") {
  if (server_purge_keeps_unacked()) {
    WARN("this nats-server's purge is safe: limits is accepted (the next test covers it)");
    return;
  }
  Pipeline p;
  Process ingester({STE_INGESTER_BIN}, p.ingester_log(),
                   p.ingester_env({{"STE_SENSORS_RETENTION", "limits"}}));
  int status = 0;
  REQUIRE(ingester.wait_exit(30s, &status));
  CHECK(status != 0);
  const std::string log = read_file(p.ingester_log());
  INFO(log);
  CHECK(log.find("needs a nats-server whose stream purge keeps unacked deliveries") !=
        std::string::npos);
  CHECK(log.find("still pending") != std::string::npos);  // the probe's finding
  const auto names = stream_names(p);                     // no SENSORS stream was created
  CHECK(std::find(names.begin(), names.end(), "SENSORS") == names.end());
}

TEST_CASE(
    "An existing limits SENSORS stream on a server whose purge drops unacked deliveries is "
    "consumed but not trimmed, with an error saying why",
    "[ingest][trim]") {
  if (server_purge_keeps_unacked()) {
    WARN("this nats-server's purge is safe: an existing limits stream is trimmed");
    return;
  }
  Pipeline p;
  REQUIRE(create_limits_sensors(p) == StreamRetention::limits);
  p.start_ingester();
  constexpr int kTotal = 60;
  publish_readings(p, kTotal);
  REQUIRE(p.wait_rows(kTotal));
  REQUIRE(eventually([&] { return ack_floor(p, "ste-ingester") == kTotal; }, 30s));
  const std::string log = read_file(p.ingester_log());
  INFO(log);
  CHECK(log.find("\"SENSORS has limits retention but is not trimmed") != std::string::npos);
  CHECK(log.find("\"sensors_trimmed\":false") != std::string::npos);
  // All acked, nothing purged: the trimmer is not scheduled at all ("sensors_trimmed":false).
  CHECK(bounds(p, "SENSORS").messages == kTotal);
  CHECK(Pipeline::metric(p.ingester_port, "ste_ingest_stream_trimmed_messages_total") == 0);
}

TEST_CASE("SENSORS is trimmed below the slowest consumer's ack floor, and emptied once all acked",
          "[ingest][trim]") {
  if (!server_purge_keeps_unacked()) {
    WARN("this nats-server's purge drops unacked deliveries: the ingester never trims here");
    return;
  }
  Pipeline p;
  REQUIRE(create_limits_sensors(p) == StreamRetention::limits);
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
  // nats-server cannot switch a stream to or from work-queue: limits asked for is not applied.
  CHECK(create_limits_sensors(p) == StreamRetention::work_queue);
  p.start_ingester();
  const std::string log = read_file(p.ingester_log());
  // Restarting on a work queue needs no purge probe: nothing would ever be trimmed.
  CHECK(log.find("not probed: SENSORS exists as a work queue") != std::string::npos);
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
