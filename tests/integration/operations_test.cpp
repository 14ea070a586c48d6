// Operations: scale-out of the evaluator, and ingestion on a 3-node JetStream cluster that
// loses a node mid-load.
#include <atomic>
#include <fstream>
#include <thread>

#include "tests/integration/pipeline_fixture.hpp"

using namespace ste;
using namespace ste::test;
using namespace std::chrono_literals;

namespace {

/// One node of a loopback JetStream cluster (its own config, store and ports).
class ClusterNode {
 public:
  ClusterNode(int index, int client_port, const std::vector<int>& cluster_ports)
      : index_(index), port_(client_port) {
    std::string routes;
    for (int p : cluster_ports) routes += fmt::format("    nats-route://127.0.0.1:{}\n", p);
    std::ofstream(dir_.path() + "/node.conf") << fmt::format(
        "server_name: n{0}\nlisten: 127.0.0.1:{1}\njetstream {{ store_dir: \"{2}/js\" }}\n"
        "cluster {{\n  name: ste-test\n  listen: 127.0.0.1:{3}\n  routes: [\n{4}  ]\n}}\n",
        index, client_port, dir_.path(), cluster_ports[static_cast<size_t>(index)], routes);
    start();
  }
  void start() {
    proc_ = std::make_unique<Process>(
        std::vector<std::string>{"nats-server", "-c", dir_.path() + "/node.conf"},
        dir_.path() + "/nats.log");
  }
  void stop() {
    proc_->terminate();
    proc_->wait_exit(20s);
  }
  std::string url() const { return fmt::format("nats://127.0.0.1:{}", port_); }
  std::string log() const { return read_file(dir_.path() + "/nats.log"); }

 private:
  TempDir dir_{"ste-cluster-"};
  int index_;
  int port_;
  std::unique_ptr<Process> proc_;
};
}  // namespace

TEST_CASE("Three evaluator instances share the summaries and raise exactly one instance's alerts",
          "[operations]") {
  Pipeline p;
  p.add_rule("above_threshold", 80, "temperature", 15);
  p.start_ingester({{"STE_BATCH_SIZE", "1"}, {"STE_BATCH_INTERVAL_MS", "1"}});
  for (const char* e : {"a", "b", "c"}) p.start_evaluator(e, {{"STE_EVAL_WORKERS", "1"}});
  constexpr int kDevices = 60;
  for (int d = 0; d < kDevices; ++d) {
    p.publish(fmt::format("sensors.acme.dev-{}", d), now_reading("temperature", 81 + d));
    p.publish(fmt::format("sensors.acme.dev-{}", d),
              now_reading("temperature", 95 + d, 1ms));  // inside cooldown
  }
  REQUIRE(p.wait_rows(2 * kDevices));
  const auto summaries = [&] {
    double n = 0;
    for (const char* e : {"a", "b", "c"}) n += p.evaluator_metric(e, "ste_eval_summaries_total");
    return n;
  };
  REQUIRE(eventually(
      [&] {
        return summaries() ==
               Pipeline::metric(p.ingester_port, "ste_ingest_batches_total{result=\"ok\"}");
      },
      60s));
  // Exactly what one instance would have produced: one alert per device, the first crossing.
  CHECK(p.alerts() == kDevices);
  CHECK(query_count(p.db_url, "SELECT count(DISTINCT device_key) FROM alerts") == kDevices);
  // Every instance took a share of the work.
  for (const char* e : {"a", "b", "c"}) {
    INFO(e);
    CHECK(p.evaluator_metric(e, "ste_eval_summaries_total") > 0);
  }
}

TEST_CASE("On a 3-node JetStream cluster, losing a node mid-load loses and duplicates nothing",
          "[operations][cluster]") {
  const std::vector<int> client_ports{free_tcp_port(), free_tcp_port(), free_tcp_port()};
  const std::vector<int> cluster_ports{free_tcp_port(), free_tcp_port(), free_tcp_port()};
  std::vector<std::unique_ptr<ClusterNode>> nodes;
  for (int i = 0; i < 3; ++i)
    nodes.push_back(std::make_unique<ClusterNode>(i, client_ports[i], cluster_ports));
  const std::string urls =
      fmt::format("{},{},{}", nodes[0]->url(), nodes[1]->url(), nodes[2]->url());

  // The cluster is ready once a stream replicated three times can be created.
  NatsSettings s;
  s.urls = urls;
  s.stream_replicas = 3;
  std::unique_ptr<NatsClient> client;
  REQUIRE(eventually(
      [&] {
        try {
          client = std::make_unique<NatsClient>(s);
          client->ensure_stream(kSensorsStream);
          return true;
        } catch (const NatsError&) {
          client.reset();
          return false;
        }
      },
      60s, 500ms));

  Pipeline
      p;  // its own single nats-server is unused here; the database and tenant are what we need
  const std::string log = p.logs.path() + "/ingester-cluster.log";
  Process ingester({STE_INGESTER_BIN}, log,
                   {{"STE_NATS_URL", urls},
                    {"STE_STREAM_REPLICAS", "3"},
                    {"STE_DATABASE_URL", p.db_url},
                    {"STE_HTTP_ADDR", fmt::format("127.0.0.1:{}", free_tcp_port())},
                    {"STE_BATCH_SIZE", "500"},
                    {"STE_BATCH_INTERVAL_MS", "100"}});
  // Creating R3 streams waits for the cluster's meta leader; on a loaded 2-core machine that has
  // taken over 30 s (the deadline only matters when it is slow).
  const bool started = eventually(
      [&] { return read_file(log).find("\"ingester started\"") != std::string::npos; }, 150s);
  INFO(read_file(log).substr(0, 4000));
  REQUIRE(started);

  constexpr int kTotal = 6000;
  std::atomic<int> published{0};
  std::thread publisher([&] {
    const TimePoint base = test_base_time();
    for (int i = 0; i < kTotal; i += 10) {
      std::string arr = "[";
      for (int k = 0; k < 10; ++k) {
        if (k) arr += ",";
        arr += reading_json("flow", i + k, base + std::chrono::milliseconds{i + k});
      }
      arr += "]";
      for (int attempt = 0;; ++attempt) {  // a publish counts once the cluster acked it
        try {
          client->js_publish(fmt::format("sensors.acme.meter-{}", (i / 10) % 4), arr);
          break;
        } catch (const NatsError&) {
          if (attempt > 200) throw;
          std::this_thread::sleep_for(50ms);
        }
      }
      published += 10;
      std::this_thread::sleep_for(2ms);
    }
  });
  REQUIRE(eventually([&] { return p.rows() > 1000; }, 60s));
  nodes[1]->stop();  // one of three: the streams keep a quorum
  publisher.join();
  REQUIRE(published == kTotal);
  const bool all = p.wait_rows(kTotal, 120s);
  INFO(read_file(log).substr(0, 4000));
  REQUIRE(all);
  CHECK(p.rows() == kTotal);
  CHECK(p.rollup_total() == kTotal);
  CHECK(ingester.running());
}
