// GET /api/stream end to end (docs/DESIGN.md §7) with the real ingester, evaluators, nats-server
// and PostgreSQL: tenant isolation and the connection limits, resuming with Last-Event-ID (and a
// reset from an instance that cannot resume), and a client that stops reading, which must cost
// neither ingestion nor the other streams anything.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <string>

#include "tests/integration/api_client.hpp"
#include "tests/integration/pipeline_fixture.hpp"
#include "tests/integration/sse_client.hpp"

using namespace ste;
using namespace ste::test;
using namespace std::chrono_literals;

namespace {

const Process::Env kStreamEnv{{"STE_STREAM_KEEPALIVE_S", "1"},
                              {"STE_STREAM_READING_INTERVAL_MS", "200"}};

Process::Env with(Process::Env env, const Process::Env& extra) {
  for (const auto& [k, v] : extra) env[k] = v;
  return env;
}

/// An operator rule "temperature above 80" for `tenant_id` (plain SQL; the evaluator hears it).
void hot_rule(Pipeline& p, std::int64_t tenant_id) {
  query_scalar(p.db_url, fmt::format("INSERT INTO alert_rules (tenant_id, name, metric, condition, "
                                     "threshold, severity) VALUES ({}, 'hot', 'temperature', "
                                     "'above_threshold', 80, 'critical') RETURNING id",
                                     tenant_id));
}

std::size_t count(const std::string& text, const std::string& what) {
  std::size_t n = 0;
  for (auto at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

/// A client that sends the request and then never reads: its socket's receive buffer is as
/// small as the kernel allows, so the server's writes to it stall almost at once.
class StalledClient {
 public:
  StalledClient(int port, const std::string& key) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    REQUIRE(fd_ >= 0);
    int tiny = 1024;
    REQUIRE(::setsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &tiny, sizeof tiny) == 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<std::uint16_t>(port));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
    const std::string req = "GET /api/stream HTTP/1.1\r\nHost: 127.0.0.1\r\nX-API-Key: " + key +
                            "\r\nAccept: text/event-stream\r\n\r\n";
    REQUIRE(::send(fd_, req.data(), req.size(), 0) == static_cast<ssize_t>(req.size()));
  }
  ~StalledClient() { ::close(fd_); }

 private:
  int fd_ = -1;
};

}  // namespace

TEST_CASE("A stream carries its own tenant's alerts and readings and nothing of another's",
          "[stream]") {
  Pipeline p;
  const std::string other_key = p.create_tenant("other");
  const auto other_id =
      std::stoll(query_scalar(p.db_url, "SELECT id FROM tenants WHERE slug = 'other'"));
  hot_rule(p, p.tenant_id);
  hot_rule(p, other_id);
  p.start_ingester();
  p.start_evaluator("a", with(kStreamEnv, {{"STE_STREAM_MAX_PER_KEY", "2"}}));
  const int port = p.evaluators.at("a").port;

  SseClient acme(port, p.api_key);
  SseClient other(port, other_key);
  REQUIRE(acme.wait_for("event: ready\ndata: {\"tenant\":\"acme\",\"resumed\":false}"));
  REQUIRE(other.wait_for("event: ready\ndata: {\"tenant\":\"other\",\"resumed\":false}"));

  p.publish("sensors.acme.acme-boiler", now_reading("temperature", 93));
  p.publish("sensors.other.other-boiler", now_reading("temperature", 95));
  INFO(acme.text());
  INFO(other.text());
  // Each sees its own alert fire and its own device's reading, live.
  CHECK(acme.wait_for("\"device\":\"acme-boiler\",\"metric\":\"temperature\""));
  CHECK(acme.wait_for("event: readings\ndata: {\"devices\":[{\"device\":\"acme-boiler\""));
  CHECK(other.wait_for("\"device\":\"other-boiler\",\"metric\":\"temperature\""));
  CHECK(other.wait_for("event: readings\ndata: {\"devices\":[{\"device\":\"other-boiler\""));
  // Both events of each kind went through the same hub calls, so what acme would have gotten of
  // other's is in its text by now: nothing.
  CHECK_FALSE(acme.has("other-boiler"));
  CHECK_FALSE(acme.has("\"tenant\":\"other\""));
  CHECK_FALSE(other.has("acme-boiler"));

  // No key: 401. A key's third stream: 429 naming the setting; a place frees when one closes.
  Api api(port);
  check_error(api.client.Get("/api/stream"), 401, "unauthorized", "API key");
  {
    SseClient second(port, p.api_key);
    REQUIRE(second.wait_for("event: ready"));
    SseClient third(port, p.api_key);
    REQUIRE(eventually([&] { return third.ended(); }, 10s));
    CHECK(third.status() == 429);
    CHECK(third.has("too_many_streams"));
    CHECK(third.has("STE_STREAM_MAX_PER_KEY"));
  }
  // `second` has gone; the server notices at its next keep-alive (1 s) and frees the place.
  bool reopened = eventually(
      [&] {
        SseClient again(port, p.api_key);
        return again.wait_for("event: ready", 5s);
      },
      20s);
  CHECK(reopened);
}

TEST_CASE(
    "A stream resumed with Last-Event-ID gets exactly the alerts it missed — another instance "
    "answers with a reset",
    "[stream]") {
  Pipeline p;
  p.add_rule("above_threshold", 80, "temperature");
  p.start_ingester();
  p.start_evaluator("a", kStreamEnv);
  p.start_evaluator("b", kStreamEnv);
  const int port_a = p.evaluators.at("a").port;
  const int port_b = p.evaluators.at("b").port;
  // An observer on instance a, connected throughout: once it has an event, a's hub has it.
  const std::string observer_key = [&] {
    Api api(port_a);
    auto r = api.post("/api/keys", p.api_key, R"({"name":"observer","role":"viewer"})");
    REQUIRE(r);
    REQUIRE(r->status == 201);
    return std::string(std::string_view(Json(r->body)["key"]));
  }();
  SseClient observer(port_a, observer_key);
  REQUIRE(observer.wait_for("event: ready"));

  std::string position;
  {
    SseClient first(port_a, p.api_key);
    REQUIRE(first.wait_for("event: ready"));
    p.publish("sensors.acme.boiler-1", now_reading("temperature", 91));
    REQUIRE(first.wait_for("\"device\":\"boiler-1\",\"metric\""));
    position = first.last_id();
  }
  REQUIRE_FALSE(position.empty());
  // Missed while away (whichever instance fires them, both hear them on NATS).
  p.publish("sensors.acme.boiler-2", now_reading("temperature", 92));
  p.publish("sensors.acme.boiler-3", now_reading("temperature", 93));
  REQUIRE(observer.wait_for("\"device\":\"boiler-2\",\"metric\""));
  REQUIRE(observer.wait_for("\"device\":\"boiler-3\",\"metric\""));

  SseClient resumed(port_a, p.api_key, position);
  INFO(resumed.text());
  REQUIRE(resumed.wait_for("\"device\":\"boiler-3\",\"metric\""));
  REQUIRE(resumed.wait_for("\"device\":\"boiler-2\",\"metric\""));
  const std::string got = resumed.text();
  CHECK(
      got.rfind("id: " + position + "\nevent: ready\ndata: {\"tenant\":\"acme\",\"resumed\":true}",
                0) == 0);
  CHECK(count(got, "event: alert") == 2);  // the two missed, not boiler-1's again
  CHECK_FALSE(got.find("boiler-1") != std::string::npos);
  CHECK(count(got, "event: reset") == 0);

  // Instance b never wrote that id: it says so, and the client reloads.
  SseClient elsewhere(port_b, p.api_key, position);
  INFO(elsewhere.text());
  CHECK(elsewhere.wait_for("\"resumed\":false}"));
  CHECK(elsewhere.wait_for("event: reset\ndata: {\"reason\":\"unknown_position\"}"));
}

TEST_CASE("A client that stops reading is shed without slowing ingestion or the other streams",
          "[stream]") {
  Pipeline p;
  p.add_rule("above_threshold", 80, "temperature");
  p.start_ingester();
  p.start_evaluator("a", with(kStreamEnv, {{"STE_STREAM_QUEUE_FRAMES", "8"},
                                           {"STE_STREAM_READING_INTERVAL_MS", "50"}}));
  const int port = p.evaluators.at("a").port;
  SseClient healthy(port, p.api_key);
  REQUIRE(healthy.wait_for("event: ready"));
  StalledClient stalled(port, p.api_key);
  REQUIRE(
      eventually([&] { return p.evaluator_metric("a", "ste_api_stream_connections") == 2; }, 10s));

  // 400 devices, 100 metrics each with names of 120 characters, three rounds: every round's
  // readings events hold about 7 MB, more than a socket buffers (Linux grows a send buffer to
  // 4 MB at most), and a new one is due every 50 ms while the rounds are ingested.
  constexpr int kDevices = 400;
  constexpr int kMetrics = 100;
  constexpr int kRounds = 3;
  const TimePoint t0 = test_base_time();
  p.client->ensure_stream(kSensorsStream);
  for (int round = 0; round < kRounds; ++round) {
    for (int d = 0; d < kDevices; ++d) {
      std::string batch = "[";
      for (int m = 0; m < kMetrics; ++m) {
        if (m > 0) batch += ',';
        batch +=
            reading_json(fmt::format("{:0>120}", m), 20 + round, t0 + std::chrono::seconds{round});
      }
      batch += ']';
      p.client->js_publish(fmt::format("sensors.acme.dev-{:04}", d), batch);
    }
  }
  p.publish("sensors.acme.dev-0007", now_reading("temperature", 99));

  // Everything is stored; the healthy stream saw the alert; the stalled one lost its queue to a
  // reset instead of holding memory or anyone up.
  REQUIRE(p.wait_rows(kDevices * kMetrics * kRounds + 1, 120s));
  CHECK(healthy.wait_for("\"device\":\"dev-0007\",\"metric\":\"temperature\""));
  CHECK(eventually([&] { return p.evaluator_metric("a", "ste_api_stream_overflows_total") >= 1; },
                   20s));
}
