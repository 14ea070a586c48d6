// The consumer runtime (common/message_consumer.hpp) against a real nats-server: every message
// reaches the handler and is settled through the JetStream settler; a handler that throws neither
// ends the consumer nor loses the message (it comes back with its delivery counted); no fetch
// happens while the service has no room; core mode delivers too.
#include "common/message_consumer.hpp"

#include <fmt/format.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <map>
#include <mutex>
#include <set>

#include "tests/integration/test_stream.hpp"

using namespace ste;
using namespace ste::test;
using namespace std::chrono_literals;

namespace {

const StreamSpec kTestStream{"CONSUMER_TEST", "ct.>"};
const ConsumerSpec kTestConsumer{"CONSUMER_TEST", "ct-worker", std::chrono::seconds{30}, 1000};

struct Broker : TestStream {
  Broker() : TestStream(kTestStream, kTestConsumer, "message-consumer-test") {}
  ConsumerOptions options(int threads = 1) const {
    ConsumerOptions o;
    o.name = "test";
    o.consumer = kTestConsumer;
    o.subject = kTestStream.subject;
    o.threads = threads;
    o.fetch_size = 16;
    o.fetch_wait = 100ms;
    o.redelivery.first_delay = 50ms;  // a handed-back message returns quickly
    return o;
  }
};

}  // namespace

TEST_CASE("every message reaches a handler once and is acked, with several pull threads",
          "[message_consumer]") {
  Broker b;
  JetStreamSettler settler(*b.client, kTestStream.name);
  std::mutex mu;
  std::multiset<std::string> seen;
  MessageConsumer consumer(*b.client, settler, b.options(3), [&](natsMsg* m) {
    {
      std::lock_guard lock(mu);
      seen.insert(body(m));
    }
    settler.ack(m);
    natsMsg_Destroy(m);
  });
  consumer.start();
  for (int i = 0; i < 200; ++i)
    b.client->js_publish(fmt::format("ct.{}", i % 7), fmt::format("m{}", i));
  REQUIRE(eventually(
      [&] {
        std::lock_guard lock(mu);
        return seen.size() == 200;
      },
      20s));
  REQUIRE(eventually([&] { return b.idle(); }, 10s));
  consumer.stop();
  std::lock_guard lock(mu);
  for (int i = 0; i < 200; ++i) CHECK(seen.count(fmt::format("m{}", i)) == 1);
  CHECK(consumer.handler_errors() == 0);
}

TEST_CASE("a handler that throws loses nothing: the message comes back with its delivery counted",
          "[message_consumer]") {
  Broker b;
  JetStreamSettler settler(*b.client, kTestStream.name);
  std::mutex mu;
  std::map<std::string, std::vector<std::int64_t>> deliveries;  // body -> delivery counts seen
  std::atomic<int> errors_hook{0};
  MessageConsumer::Hooks hooks;
  hooks.on_handler_error = [&] { ++errors_hook; };
  MessageConsumer consumer(
      *b.client, settler, b.options(),
      [&](natsMsg* m) {
        const std::string text = body(m);
        const std::int64_t n = settler.deliveries(m);
        {
          std::lock_guard lock(mu);
          deliveries[text].push_back(n);
        }
        if (text == "poison" && n == 1) throw std::runtime_error("first delivery fails");
        settler.ack(m);
        natsMsg_Destroy(m);
      },
      hooks);
  consumer.start();
  b.client->js_publish("ct.a", "before");
  b.client->js_publish("ct.a", "poison");
  b.client->js_publish("ct.a", "after");
  REQUIRE(eventually(
      [&] {
        std::lock_guard lock(mu);
        return deliveries["poison"].size() == 2 && deliveries["after"].size() == 1;
      },
      20s));
  REQUIRE(eventually([&] { return b.idle(); }, 10s));
  consumer.stop();
  std::lock_guard lock(mu);
  CHECK(deliveries["poison"] == std::vector<std::int64_t>{1, 2});
  CHECK(deliveries["before"] == std::vector<std::int64_t>{1});
  CHECK(deliveries["after"] == std::vector<std::int64_t>{1});
  CHECK(consumer.handler_errors() == 1);
  CHECK(errors_hook == 1);
}

TEST_CASE("no fetch while the service has no room — everything arrives once it has",
          "[message_consumer]") {
  Broker b;
  JetStreamSettler settler(*b.client, kTestStream.name);
  for (int i = 0; i < 10; ++i) b.client->js_publish("ct.r", fmt::format("r{}", i));
  std::atomic<bool> room{false};
  std::atomic<int> asked{0};
  std::atomic<int> handled{0};
  MessageConsumer::Hooks hooks;
  hooks.room = [&](Millis wait) {
    ++asked;
    if (room) return true;
    std::this_thread::sleep_for(wait);
    return false;
  };
  MessageConsumer consumer(
      *b.client, settler, b.options(),
      [&](natsMsg* m) {
        ++handled;
        settler.ack(m);
        natsMsg_Destroy(m);
      },
      hooks);
  consumer.start();
  // The loop has asked for room several times, and each time it was refused it did not fetch.
  REQUIRE(eventually([&] { return asked >= 5; }, 10s));
  CHECK(handled == 0);
  CHECK(consumer.pending() == std::optional<std::uint64_t>{10});
  room = true;
  REQUIRE(eventually([&] { return handled == 10; }, 10s));
  CHECK(eventually([&] { return consumer.pending() == std::optional<std::uint64_t>{0}; }, 5s));
  consumer.stop();
}

TEST_CASE("core mode delivers every message — a throwing handler drops only its own",
          "[message_consumer]") {
  Broker b;
  CoreSettler settler;
  ConsumerOptions o = b.options();
  o.jetstream = false;
  o.subject = "core.>";
  o.queue = "core-test";
  std::mutex mu;
  std::set<std::string> seen;
  MessageConsumer consumer(*b.client, settler, o, [&](natsMsg* m) {
    const std::string text = body(m);
    if (text == "bad") throw std::runtime_error("cannot handle");  // the runtime frees it
    natsMsg_Destroy(m);
    std::lock_guard lock(mu);
    seen.insert(text);
  });
  consumer.start();  // returns once the server knows the subscription
  for (const char* t : {"a", "bad", "b", "c"}) b.client->publish("core.x", t);
  b.client->flush(5s);
  REQUIRE(eventually(
      [&] {
        std::lock_guard lock(mu);
        return seen.size() == 3;
      },
      10s));
  REQUIRE(eventually([&] { return consumer.handler_errors() == 1; }, 5s));
  consumer.stop();
  std::lock_guard lock(mu);
  CHECK(seen == std::set<std::string>{"a", "b", "c"});
}
