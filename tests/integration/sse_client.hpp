#pragma once
/// A test client of GET /api/stream: reads the event stream on its own thread into a text that
/// the test polls (with a deadline) for what it expects. Ends when destroyed (the server's
/// keep-alive comments give the reader a chance to notice; tests set STE_STREAM_KEEPALIVE_S=1).
#include <httplib.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <string>
#include <thread>

#include "tests/support/test_servers.hpp"

namespace ste::test {

class SseClient {
 public:
  SseClient(int port, const std::string& key, const std::string& last_event_id = "") {
    thread_ = std::thread([this, port, key, last_event_id] {
      httplib::Client c("127.0.0.1", port);
      c.set_connection_timeout(2);
      c.set_read_timeout(30);
      httplib::Headers h{{"X-API-Key", key}};
      if (!last_event_id.empty()) h.emplace("Last-Event-ID", last_event_id);
      auto res = c.Get(
          "/api/stream", h,
          [this](const httplib::Response& r) {
            status_ = r.status;
            return true;
          },
          [this](const char* data, std::size_t n) {
            std::lock_guard lock(mu_);
            text_.append(data, n);
            return !stop_;
          });
      if (res) status_ = res->status;
      if (res && res->status != 200 && !res->body.empty()) {
        std::lock_guard lock(mu_);
        text_ = res->body;
      }
      ended_ = true;
    });
  }
  ~SseClient() {
    stop_ = true;
    thread_.join();
  }
  SseClient(const SseClient&) = delete;
  SseClient& operator=(const SseClient&) = delete;

  std::string text() const {
    std::lock_guard lock(mu_);
    return text_;
  }
  bool has(const std::string& part) const { return text().find(part) != std::string::npos; }
  /// Waits until the stream's text contains `part`.
  bool wait_for(const std::string& part, std::chrono::seconds within = std::chrono::seconds{30}) {
    return eventually([&] { return has(part) || ended_; }, within) && has(part);
  }
  /// The id of the last event carrying one ("" if none yet).
  std::string last_id() const {
    const std::string t = text();
    const auto at = t.rfind("id: ");
    if (at == std::string::npos) return "";
    return t.substr(at + 4, t.find('\n', at) - at - 4);
  }
  int status() const { return status_; }
  bool ended() const { return ended_; }

 private:
  mutable std::mutex mu_;
  std::string text_;
  std::atomic<bool> stop_{false};
  std::atomic<bool> ended_{false};
  std::atomic<int> status_{0};
  std::thread thread_;
};

}  // namespace ste::test
