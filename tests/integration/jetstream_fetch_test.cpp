// The guarded JetStream fetch (common/jetstream_fetch.hpp) against a real nats-server: with more
// than half a batch already queued on the pull subscription and more arriving, a fetch still
// returns at most its batch and every message arrives once. cnats 3.4.1's own Fetch kept
// collecting past its result array in exactly this situation (a heap overflow that crashed the
// ingester under sustained load).
#include "common/jetstream_fetch.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <set>
#include <thread>

#include "tests/integration/test_stream.hpp"

using namespace ste;
using namespace ste::test;
using namespace std::chrono_literals;

namespace {

const StreamSpec kTestStream{"FETCH_TEST", "ft.>"};
const ConsumerSpec kTestConsumer{"FETCH_TEST", "ft-worker", std::chrono::seconds{30}, 1000};

struct Broker : TestStream {
  Broker() : TestStream(kTestStream, kTestConsumer, "jetstream-fetch-test") {}
};

/// Sends a pull request of our own on `sub`'s inbox, as an earlier Fetch that timed out leaves
/// behind: the server delivers its messages into the subscription's queue.
void pull_request(Broker& b, natsSubscription* sub, int batch) {
  const std::string api =
      fmt::format("$JS.API.CONSUMER.MSG.NEXT.{}.{}", kTestConsumer.stream, kTestConsumer.durable);
  const std::string body = fmt::format(R"({{"batch":{},"expires":10000000000}})", batch);
  REQUIRE(natsConnection_PublishRequestString(b.client->conn(), api.c_str(),
                                              natsSubscription_GetSubject(sub),
                                              body.c_str()) == NATS_OK);
}

int queued(natsSubscription* sub) {
  int n = 0;
  natsSubscription_GetPending(sub, &n, nullptr);
  return n;
}
}  // namespace

TEST_CASE("a fetch returns at most its batch while more than half a batch is already queued",
          "[jetstream_fetch]") {
  Broker b;
  for (int i = 0; i < 300; ++i) b.client->js_publish("ft.q", fmt::format("q{}", i));
  natsSubscription* sub = b.client->pull_subscribe(kTestConsumer, kTestStream.subject);
  // 12 of a batch of 16 wait in the queue before the fetch (the defect needs over half), and the
  // server keeps delivering another 200 while the fetches run.
  pull_request(b, sub, 12);
  REQUIRE(eventually([&] { return queued(sub) == 12; }, 10s));
  pull_request(b, sub, 200);
  std::set<std::string> seen;
  int largest = 0;
  const auto deadline = std::chrono::steady_clock::now() + 30s;
  while (seen.size() < 300 && std::chrono::steady_clock::now() < deadline) {
    natsMsgList list{};
    if (fetch_messages(&list, sub, 16, 200ms, nullptr) != NATS_OK) continue;
    largest = std::max(largest, list.Count);
    for (int i = 0; i < list.Count; ++i) {
      seen.insert(body(list.Msgs[i]));
      natsMsg_Ack(list.Msgs[i], nullptr);
    }
    natsMsgList_Destroy(&list);
    REQUIRE(largest <= 16);
  }
  natsSubscription_Destroy(sub);
  CHECK(largest <= 16);
  CHECK(seen.size() == 300);  // every message once
}

TEST_CASE("a filling fetch waits for its whole batch — an available fetch returns what is there",
          "[jetstream_fetch]") {
  Broker b;
  for (int i = 0; i < 5; ++i) b.client->js_publish("ft.f", fmt::format("a{}", i));
  natsSubscription* sub = b.client->pull_subscribe(kTestConsumer, kTestStream.subject);
  auto take = [&](natsMsgList& list) {
    const int n = list.Count;
    for (int i = 0; i < n; ++i) natsMsg_Ack(list.Msgs[i], nullptr);
    natsMsgList_Destroy(&list);
    return n;
  };
  // Available: the five that are there, at once (one pull request per few messages at a trickle).
  natsMsgList first{};
  REQUIRE(fetch_messages(&first, sub, 50, 5s, nullptr, FetchStyle::available) == NATS_OK);
  CHECK(take(first) == 5);
  // Filling, with five there again: one request collects them and the next 50 as they trickle in
  // over about half a second (an available fetch would have returned the five at once).
  for (int i = 0; i < 5; ++i) b.client->js_publish("ft.f", fmt::format("c{}", i));
  std::thread trickle([&] {
    NatsSettings s;
    s.urls = b.server.url();
    NatsClient publisher(s);
    for (int i = 0; i < 50; ++i) {
      publisher.js_publish("ft.f", fmt::format("b{}", i));
      std::this_thread::sleep_for(10ms);
    }
  });
  natsMsgList filled{};
  const natsStatus s = fetch_messages(&filled, sub, 55, 20s, nullptr, FetchStyle::fill);
  trickle.join();
  REQUIRE(s == NATS_OK);
  CHECK(take(filled) == 55);
  natsSubscription_Destroy(sub);
}

TEST_CASE("a filling fetch stops at its byte limit", "[jetstream_fetch]") {
  Broker b;
  const std::string kilobyte(1000, 'x');
  for (int i = 0; i < 20; ++i) b.client->js_publish("ft.b", kilobyte);
  natsSubscription* sub = b.client->pull_subscribe(kTestConsumer, kTestStream.subject);
  int total = 0;
  int largest = 0;
  const auto deadline = std::chrono::steady_clock::now() + 30s;
  while (total < 20 && std::chrono::steady_clock::now() < deadline) {
    natsMsgList list{};
    if (fetch_messages(&list, sub, 20, 500ms, nullptr, FetchStyle::fill, 5000) != NATS_OK) continue;
    largest = std::max(largest, list.Count);
    for (int i = 0; i < list.Count; ++i) natsMsg_Ack(list.Msgs[i], nullptr);
    total += list.Count;
    natsMsgList_Destroy(&list);
  }
  natsSubscription_Destroy(sub);
  CHECK(total == 20);
  CHECK(largest >= 1);
  CHECK(largest <= 5);  // 5,000 bytes hold at most five messages of 1,000 bytes
}
