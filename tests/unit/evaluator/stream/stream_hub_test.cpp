#include "evaluator/stream/stream_hub.hpp"

#include <catch2/catch.hpp>
#include <thread>

#include "evaluator/stream/sse_frame.hpp"

using ste::ManualClock;
using ste::TimePoint;
using ste::stream::Frame;
using ste::stream::StreamHub;
using ste::stream::StreamLimits;
using ste::stream::StreamSubscription;
using namespace std::chrono_literals;

namespace {

using Sub = std::shared_ptr<StreamSubscription>;

struct HubFixture {
  explicit HubFixture(StreamLimits l = {}) : hub(l, "e1", clock, registry) {}
  Sub open(const std::string& tenant, const std::string& key = "k1",
           const std::string& last_id = "") {
    auto r = hub.open(tenant, key, last_id);
    REQUIRE(std::holds_alternative<Sub>(r));
    return std::get<Sub>(r);
  }
  ManualClock clock;
  prometheus::Registry registry;
  StreamHub hub;
};

/// Everything queued, as one text (no waiting: the hub queues synchronously).
std::string drain(const Sub& s) {
  std::string out;
  for (const Frame& f : s->wait(0ms)) out += *f;
  return out;
}

std::size_t count(const std::string& text, const std::string& what) {
  std::size_t n = 0;
  for (auto at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

}  // namespace

TEST_CASE("a new stream starts with ready at the hub's position", "[stream]") {
  HubFixture f;
  f.hub.on_alert("acme", R"({"id":"a1"})");
  const auto s = f.open("acme");
  CHECK(drain(s) == "id: e1-1\nevent: ready\ndata: {\"tenant\":\"acme\",\"resumed\":false}\n\n");
}

TEST_CASE("a stream gets its own tenant's alerts only, in order, with ids", "[stream]") {
  HubFixture f;
  const auto acme = f.open("acme");
  const auto other = f.open("other", "k2");
  drain(acme);
  drain(other);
  f.hub.on_alert("acme", R"({"id":"a1"})");
  f.hub.on_alert("other", R"({"id":"o1"})");
  f.hub.on_alert("acme", R"({"id":"a2"})");
  CHECK(drain(acme) ==
        "id: e1-1\nevent: alert\ndata: {\"id\":\"a1\"}\n\n"
        "id: e1-3\nevent: alert\ndata: {\"id\":\"a2\"}\n\n");
  CHECK(drain(other) == "id: e1-2\nevent: alert\ndata: {\"id\":\"o1\"}\n\n");
}

TEST_CASE("a stream resumed with Last-Event-ID gets exactly what its tenant missed", "[stream]") {
  HubFixture f;
  auto s = f.open("acme");
  f.hub.on_alert("acme", R"({"id":"a1"})");
  f.hub.close(s);
  f.hub.on_alert("acme", R"({"id":"a2"})");
  f.hub.on_alert("other", R"({"id":"o1"})");
  f.hub.on_alert("acme", R"({"id":"a3"})");
  s = f.open("acme", "k1", "e1-1");
  const std::string got = drain(s);
  CHECK(got ==
        "id: e1-1\nevent: ready\ndata: {\"tenant\":\"acme\",\"resumed\":true}\n\n"
        "id: e1-2\nevent: alert\ndata: {\"id\":\"a2\"}\n\n"
        "id: e1-4\nevent: alert\ndata: {\"id\":\"a3\"}\n\n");
  // Up to date: nothing is replayed.
  f.hub.close(s);
  s = f.open("acme", "k1", "e1-4");
  CHECK(count(drain(s), "event: alert") == 0);
}

TEST_CASE("a position the hub cannot serve answers with a reset", "[stream]") {
  StreamLimits l;
  l.replay_events = 2;
  HubFixture f(l);
  for (int i = 0; i < 5; ++i) f.hub.on_alert("acme", "{}");  // ring holds seq 4 and 5
  const auto reset_for = [&](const std::string& last_id) {
    const auto s = f.open("acme", "k" + last_id, last_id);
    const std::string got = drain(s);
    f.hub.close(s);
    CHECK(count(got, "\"resumed\":false") == 1);
    CHECK(count(got, "id: e1-5\nevent: ready") == 1);  // the position to continue from
    const std::string head = "event: reset\ndata: {\"reason\":\"";
    const auto at = got.find(head);
    if (at == std::string::npos) return std::string("none");
    const auto from = at + head.size();
    return got.substr(from, got.find('"', from) - from);
  };
  CHECK(reset_for("other-3") == "unknown_position");  // another instance, or before a restart
  CHECK(reset_for("e1-9") == "unknown_position");     // ahead of this hub: not ours
  CHECK(reset_for("garbage") == "unknown_position");
  CHECK(reset_for("e1-2") == "too_old");       // seq 3 is gone
  const auto s = f.open("acme", "k", "e1-3");  // seq 4 and 5 are kept: resumable
  const std::string got = drain(s);
  CHECK(count(got, "\"resumed\":true") == 1);
  CHECK(count(got, "event: alert") == 2);
  CHECK(count(got, "event: reset") == 0);
}

TEST_CASE("connections are limited per key and in all, and close frees a place", "[stream]") {
  StreamLimits l;
  l.max_per_key = 2;
  l.max_connections = 3;
  HubFixture f(l);
  const auto a = f.open("acme", "k1");
  f.open("acme", "k1");
  auto third = f.hub.open("acme", "k1", "");
  REQUIRE(std::holds_alternative<StreamHub::Refusal>(third));
  CHECK(std::get<StreamHub::Refusal>(third) == StreamHub::Refusal::too_many_for_key);
  f.open("other", "k2");
  auto fourth = f.hub.open("other", "k3", "");
  REQUIRE(std::holds_alternative<StreamHub::Refusal>(fourth));
  CHECK(std::get<StreamHub::Refusal>(fourth) == StreamHub::Refusal::too_many);
  f.hub.close(a);
  f.open("acme", "k1");
}

TEST_CASE("a client that does not read loses its queue to one reset, others are untouched",
          "[stream]") {
  StreamLimits l;
  l.queue_frames = 8;
  HubFixture f(l);
  const auto slow = f.open("acme", "k1");
  const auto fast = f.open("acme", "k2");
  drain(slow);
  std::size_t fast_alerts = 0;
  for (int i = 0; i < 20; ++i) {
    f.hub.on_alert("acme", "{}");
    fast_alerts += count(drain(fast), "event: alert");
  }
  CHECK(fast_alerts == 20);
  const std::string got = drain(slow);
  CHECK(count(got, "event: reset\ndata: {\"reason\":\"slow_client\"}") == 1);
  CHECK(count(got, "event: alert") < 8);  // bounded: what came after the reset
  // It keeps receiving afterwards (the reset told it to reload what it shows).
  f.hub.on_alert("acme", "{}");
  CHECK(count(drain(slow), "event: alert") == 1);
}

TEST_CASE("readings are throttled per device and reach only watchers of the tenant", "[stream]") {
  StreamLimits l;
  l.reading_interval = 1s;
  HubFixture f(l);
  const TimePoint t0{std::chrono::seconds{1'800'000'000}};
  f.hub.on_reading("acme", "d1", "temp", {20, t0});  // nobody watches acme yet: dropped
  f.hub.flush_readings(f.clock.mono());
  const auto acme = f.open("acme");
  const auto other = f.open("other", "k2");
  drain(acme);
  drain(other);
  f.hub.on_reading("acme", "d1", "temp", {21.5, t0});
  f.hub.on_reading("acme", "d1", "temp", {22.5, t0 + 100ms});
  f.hub.flush_readings(f.clock.mono());
  CHECK(drain(acme) ==
        "event: readings\ndata: {\"devices\":[{\"device\":\"d1\",\"metrics\":{\"temp\":{"
        "\"value\":22.5,\"ts\":\"2027-01-15T08:00:00.100Z\"}}}]}\n\n");
  CHECK(drain(other).empty());
  f.hub.on_reading("acme", "d1", "temp", {23, t0 + 200ms});
  for (int d = 0; d < 50; ++d) f.hub.on_reading("acme", "n" + std::to_string(d), "temp", {1, t0});
  f.hub.flush_readings(f.clock.mono());  // fifty new devices: one frame
  const std::string fleet = drain(acme);
  CHECK(count(fleet, "event: readings") == 1);
  CHECK(count(fleet, "\"device\":\"n") == 50);
  CHECK(count(fleet, "\"device\":\"d1\"") == 0);  // d1 waits for its interval
  f.clock.advance(500ms);
  f.hub.flush_readings(f.clock.mono());
  CHECK(drain(acme).empty());  // within the interval
  f.clock.advance(500ms);
  f.hub.flush_readings(f.clock.mono());
  CHECK(count(drain(acme), "\"value\":23") == 1);
}

TEST_CASE("stop ends every stream, open or opened later", "[stream]") {
  HubFixture f;
  const auto s = f.open("acme");
  drain(s);
  std::thread waiter([&] { CHECK(s->wait(60s).empty()); });
  f.hub.stop();
  waiter.join();
  CHECK(s->stopped());
  CHECK(f.open("acme", "k2")->stopped());
}
