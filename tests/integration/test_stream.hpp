#pragma once
// A nats-server of its own with one JetStream stream and one durable pull consumer on it, for the
// tests of the consumer plumbing (message_consumer_test, jetstream_fetch_test).
#include <memory>
#include <string>

#include "common/nats_client.hpp"
#include "tests/support/test_servers.hpp"

namespace ste::test {

struct TestStream {
  StreamSpec stream;
  ConsumerSpec consumer;
  NatsServer server;
  std::unique_ptr<NatsClient> client;

  TestStream(StreamSpec s, ConsumerSpec c, const std::string& client_name)
      : stream(std::move(s)), consumer(std::move(c)) {
    NatsSettings settings;
    settings.urls = server.url();
    settings.name = client_name;
    client = std::make_unique<NatsClient>(settings);
    client->ensure_stream(stream);
    client->ensure_pull_consumer(consumer);
  }

  /// Nothing pending and nothing waiting for an ack on the consumer.
  bool idle() {
    jsConsumerInfo* ci = nullptr;
    if (js_GetConsumerInfo(&ci, client->js(), consumer.stream.c_str(), consumer.durable.c_str(),
                           nullptr, nullptr) != NATS_OK)
      return false;
    const bool idle = ci->NumPending == 0 && ci->NumAckPending == 0;
    jsConsumerInfo_Destroy(ci);
    return idle;
  }
};

/// A message's data as a string.
inline std::string body(natsMsg* m) {
  return {natsMsg_GetData(m), static_cast<std::size_t>(natsMsg_GetDataLength(m))};
}

}  // namespace ste::test
