#pragma once
/// Publishing many prepared messages into JetStream as fast as the stream takes them, for
/// integration tests that need a backlog or a burst: async publishers (each its own connection,
/// up to 4096 unacknowledged messages) that return once the stream acked every message.
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "common/nats_client.hpp"

namespace ste::test {

/// One message to publish; `readings` is what the test expects it to store (0: none).
struct OutMsg {
  std::string subject;
  std::string payload;
  std::uint32_t readings = 0;
};

/// Publishes `msgs` with `threads` async JetStream publishers (each its own connection, up to
/// 4096 unacknowledged messages); returns once the stream has acked every one of them.
inline void publish_all(const std::string& nats_url, const std::vector<OutMsg>& msgs,
                        int threads = 1) {
  std::vector<std::thread> pool;
  std::mutex mu;
  std::vector<std::string> problems;
  std::atomic<int> failed_acks{0};
  for (int t = 0; t < threads; ++t) {
    pool.emplace_back([&, t] {
      try {
        NatsSettings s;
        s.urls = nats_url;
        NatsClient c(s);
        jsOptions jo;
        jsOptions_Init(&jo);
        jo.PublishAsync.MaxPending = 4096;
        jo.PublishAsync.ErrHandler = [](jsCtx*, jsPubAckErr*, void* closure) {
          ++*static_cast<std::atomic<int>*>(closure);  // cnats destroys the message
        };
        jo.PublishAsync.ErrHandlerClosure = &failed_acks;
        jsCtx* js = nullptr;
        nats_check(natsConnection_JetStream(&js, c.conn(), &jo), "jetstream context");
        std::unique_ptr<jsCtx, void (*)(jsCtx*)> js_owner(js, &jsCtx_Destroy);
        for (size_t i = static_cast<size_t>(t); i < msgs.size();
             i += static_cast<size_t>(threads)) {
          const OutMsg& m = msgs[i];
          natsStatus st;
          do {  // NATS_TIMEOUT: stalled at MaxPending, which is back-pressure
            st = js_PublishAsync(js, m.subject.c_str(), m.payload.data(),
                                 static_cast<int>(m.payload.size()), nullptr);
          } while (st == NATS_TIMEOUT);
          nats_check(st, "publish " + m.subject);
        }
        jsPubOptions wait;
        jsPubOptions_Init(&wait);
        wait.MaxWait = 60000;
        nats_check(js_PublishAsyncComplete(js, &wait), "wait for the stream's acks");
      } catch (const std::exception& e) {
        std::lock_guard lock(mu);
        problems.push_back(e.what());
      }
    });
  }
  for (auto& th : pool) th.join();
  INFO(fmt::format("{}", fmt::join(problems, "; ")));
  REQUIRE(problems.empty());
  REQUIRE(failed_acks == 0);
}

}  // namespace ste::test
