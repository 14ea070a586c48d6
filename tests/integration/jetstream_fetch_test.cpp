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
