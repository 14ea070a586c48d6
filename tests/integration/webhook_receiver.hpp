#pragma once
/// A webhook target for integration tests: a real HTTP server (cpp-httplib) in the test process
/// on 127.0.0.1 that records every request, and the outbox queries the delivery tests share.
/// For answers no server library would give (trickled bytes, endless headers) see RawReceiver in
/// hostile_webhook_test.cpp.
#include <httplib.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "tests/integration/pipeline_fixture.hpp"

namespace ste::test {

/// One request as the receiver saw it.
struct Received {
  std::string path;
  std::map<std::string, std::string> headers;
  std::string body;
  std::chrono::steady_clock::time_point arrived;
};

/// What the receiver answers: a status and a body (an int converts, with the body "{}").
struct Answer {
  Answer(int status_code = 200, std::string body_text = "{}")  // NOLINT: implicit on purpose
      : status(status_code), body(std::move(body_text)) {}
  int status;
  std::string body;
};

/// Lifecycle: listens from construction; the destructor releases held requests and stops.
/// Thread-safety: `respond` runs on cpp-httplib's threads (it may block: see hold()); the
/// accessors lock `mu_`. Set `respond` before the first request arrives.
class WebhookReceiver {
 public:
  WebhookReceiver() {
    server_.set_keep_alive_max_count(1);
    server_.Post(R"(/.*)", [this](const httplib::Request& req, httplib::Response& res) {
      Received r{req.path, {}, req.body, std::chrono::steady_clock::now()};
      for (const auto& [k, v] : req.headers) r.headers[k] = v;
      {
        std::lock_guard lock(mu_);
        received_.push_back(r);
      }
      const Answer a = respond ? respond(r) : Answer{};
      res.status = a.status;
      res.set_content(a.body, "application/json");
    });
    port_ = server_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
  }
  ~WebhookReceiver() {
    release();
    server_.stop();
    thread_.join();
  }
  WebhookReceiver(const WebhookReceiver&) = delete;
  WebhookReceiver& operator=(const WebhookReceiver&) = delete;

  std::string url(const std::string& path) const {
    return "http://127.0.0.1:" + std::to_string(port_) + path;
  }
  std::vector<Received> received() {
    std::lock_guard lock(mu_);
    return received_;
  }
  size_t count() {
    std::lock_guard lock(mu_);
    return received_.size();
  }
  /// Distinct X-STE-Delivery header values seen (one per outbox row delivered to it).
  size_t distinct_deliveries() {
    std::lock_guard lock(mu_);
    std::set<std::string> ids;
    for (const auto& r : received_) {
      const auto it = r.headers.find("X-STE-Delivery");
      if (it != r.headers.end()) ids.insert(it->second);
    }
    return ids.size();
  }
  /// When the latest request arrived (the epoch when none has).
  std::chrono::steady_clock::time_point last_arrival() {
    std::lock_guard lock(mu_);
    return received_.empty() ? std::chrono::steady_clock::time_point{} : received_.back().arrived;
  }
  /// Makes every request that calls wait_while_held() in `respond` wait until release().
  void hold() { held_ = true; }
  void release() {
    {
      std::lock_guard lock(hold_mu_);
      held_ = false;
    }
    hold_cv_.notify_all();
  }
  void wait_while_held() {
    std::unique_lock lock(hold_mu_);
    hold_cv_.wait_for(lock, std::chrono::seconds{60}, [this] { return !held_.load(); });
  }

  std::function<Answer(const Received&)> respond;

 private:
  httplib::Server server_;
  int port_ = 0;
  std::thread thread_;
  std::mutex mu_;
  std::vector<Received> received_;  // guarded by mu_
  std::atomic<bool> held_{false};
  std::mutex hold_mu_;
  std::condition_variable hold_cv_;
};

/// Outbox rows matching an SQL condition on `deliveries`.
inline long long deliveries_with(const Pipeline& p, const std::string& where) {
  return query_count(p.db_url, "SELECT count(*) FROM deliveries WHERE " + where);
}

}  // namespace ste::test
