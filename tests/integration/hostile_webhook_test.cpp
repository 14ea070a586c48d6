// Webhook targets that misbehave on purpose (issue #8): a 10 MB body, a redirect loop, one byte a
// second. Each delivery fails or times out as configured, and nothing else slows: the other
// target and ingestion go on. The hostile receivers are raw sockets in the test process, so they
// can answer in ways no real HTTP server library would; the real ingester and evaluator run as
// child processes against a real nats-server and PostgreSQL.
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <set>
#include <sstream>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "tests/integration/pipeline_fixture.hpp"
#include "tests/integration/webhook_receiver.hpp"

using namespace ste;
using namespace ste::test;
using namespace std::chrono_literals;

namespace {

constexpr long long kHugeBody = 10LL * 1024 * 1024;

/// A raw HTTP/1.1 receiver on 127.0.0.1 for answers no server library would give. It reads each
/// request (head and Content-Length body), then hands the connection to `respond`, which writes
/// what it likes as slowly as it likes; the connection is closed when `respond` returns. One
/// thread per connection. Lifecycle: listens from construction; the destructor stops every
/// pending write (shutting the sockets down) and joins all threads.
/// Thread-safety: the counters and accessors lock `mu_`; `respond` runs on connection threads.
class RawReceiver {
 public:
  /// One accepted connection, handed to `respond`.
  class Conn {
   public:
    Conn(RawReceiver& owner, int fd, int index, std::string path)
        : owner_(owner), fd_(fd), index_(index), path_(std::move(path)) {}
    int index() const { return index_; }  ///< 0 for the first connection accepted, 1, ...
    long long sent() const { return sent_; }
    /// The URL the request was sent to.
    std::string url() const { return owner_.base_url() + path_; }

    /// Writes all of `bytes`; false once the peer is gone or the receiver stops.
    bool send(std::string_view bytes) {
      while (!bytes.empty()) {
        if (owner_.stopping_) return false;
        const ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
        if (n <= 0) return false;  // reset, closed, or SO_SNDTIMEO (the peer stopped reading)
        sent_ += n;
        bytes.remove_prefix(static_cast<size_t>(n));
      }
      return true;
    }

    /// Writes `bytes` one byte per `every` (the pace of the receiver, not a synchronization).
    bool trickle(std::string_view bytes, std::chrono::milliseconds every) {
      for (const char c : bytes) {
        if (!send(std::string_view(&c, 1))) return false;
        std::unique_lock lock(owner_.mu_);
        if (owner_.stop_cv_.wait_for(lock, every, [this] { return owner_.stopping_.load(); }))
          return false;
      }
      return true;
    }

   private:
    RawReceiver& owner_;
    int fd_;
    int index_;
    std::string path_;
    long long sent_ = 0;
  };

  explicit RawReceiver(std::function<void(Conn&)> respond) : respond_(std::move(respond)) {
    listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    REQUIRE(listen_fd_ >= 0);
    const int one = 1;
    ::setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = 0;
    REQUIRE(::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
    REQUIRE(::listen(listen_fd_, 64) == 0);
    socklen_t len = sizeof addr;
    REQUIRE(::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len) == 0);
    port_ = ntohs(addr.sin_port);
    acceptor_ = std::thread([this] { accept_loop(); });
  }

  ~RawReceiver() {
    {
      std::lock_guard lock(mu_);
      stopping_ = true;
      for (const int fd : open_fds_) ::shutdown(fd, SHUT_RDWR);  // unblocks send/recv
    }
    stop_cv_.notify_all();
    acceptor_.join();
    for (auto& t : connections_) t.join();  // no new ones: the acceptor has ended
    ::close(listen_fd_);
  }

  std::string base_url() const { return fmt::format("http://127.0.0.1:{}", port_); }

  /// Complete requests read so far (connections that sent a request head).
  int requests() {
    std::lock_guard lock(mu_);
    return static_cast<int>(paths_.size());
  }
  std::vector<std::string> paths() {
    std::lock_guard lock(mu_);
    return paths_;
  }
  /// Connections accepted and not yet closed by `respond` returning.
  int open_connections() {
    std::lock_guard lock(mu_);
    return static_cast<int>(open_fds_.size());
  }
  /// Bytes `respond` wrote on each closed connection, in closing order.
  std::vector<long long> bytes_sent() {
    std::lock_guard lock(mu_);
    return bytes_sent_;
  }

 private:
  void accept_loop() {
    int accepted = 0;
    while (!stopping_) {
      pollfd p{listen_fd_, POLLIN, 0};
      if (::poll(&p, 1, 100) <= 0) continue;
      const int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (fd < 0) continue;
      // A peer that stops reading makes send() fail after 10 s instead of blocking forever.
      const timeval send_timeout{10, 0};
      ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &send_timeout, sizeof send_timeout);
      std::lock_guard lock(mu_);
      if (stopping_) {
        ::close(fd);
        break;
      }
      open_fds_.insert(fd);
      const int index = accepted++;
      connections_.emplace_back([this, fd, index] { serve(fd, index); });
    }
  }

  void serve(int fd, int index) {
    std::string path;
    if (read_request(fd, path)) {
      {
        std::lock_guard lock(mu_);
        paths_.push_back(path);
      }
      Conn conn(*this, fd, index, path);
      respond_(conn);
      std::lock_guard lock(mu_);
      bytes_sent_.push_back(conn.sent());
    }
    std::lock_guard lock(mu_);
    open_fds_.erase(fd);
    ::close(fd);
  }

  /// Reads one request head and its Content-Length body (5 s at most); stores the path.
  bool read_request(int fd, std::string& path) {
    const auto deadline = std::chrono::steady_clock::now() + 5s;
    std::string data;
    size_t need = std::string::npos;
    char buf[4096];
    while (data.size() < need) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      if (left <= 0ms || stopping_) return false;
      pollfd p{fd, POLLIN, 0};
      if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) continue;
      const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
      if (n <= 0) return false;
      data.append(buf, static_cast<size_t>(n));
      const auto head_end = data.find("\r\n\r\n");
      if (need == std::string::npos && head_end != std::string::npos) {
        std::string head = data.substr(0, head_end);
        for (auto& c : head) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        size_t body = 0;
        const auto cl = head.find("\r\ncontent-length:");
        if (cl != std::string::npos) body = std::stoul(head.substr(cl + 17));
        need = head_end + 4 + body;
        const auto sp1 = data.find(' ');
        path = data.substr(sp1 + 1, data.find(' ', sp1 + 1) - sp1 - 1);
      }
    }
    return true;
  }

  std::function<void(Conn&)> respond_;
  int listen_fd_ = -1;
  int port_ = 0;
  std::thread acceptor_;
  std::mutex mu_;  ///< guards everything below, and is the stop_cv_'s mutex
  std::condition_variable stop_cv_;
  std::atomic<bool> stopping_{false};
  std::set<int> open_fds_;
  std::vector<std::thread> connections_;
  std::vector<std::string> paths_;
  std::vector<long long> bytes_sent_;
};

// The hostile answers.

/// `status` with a 10 MB body, written as fast as the peer reads it.
void answer_huge(RawReceiver::Conn& c, int status) {
  if (!c.send(fmt::format("HTTP/1.1 {} Whatever\r\nContent-Type: application/octet-stream\r\n"
                          "Content-Length: {}\r\nConnection: close\r\n\r\n",
                          status, kHugeBody)))
    return;
  const std::string chunk(64 * 1024, 'x');
  for (long long left = kHugeBody; left > 0;) {
    const auto n = std::min<long long>(left, static_cast<long long>(chunk.size()));
    if (!c.send(std::string_view(chunk.data(), static_cast<size_t>(n)))) return;
    left -= n;
  }
}

/// A 200 status line, then headers that never end, as fast as the peer reads them.
void answer_endless_headers(RawReceiver::Conn& c) {
  if (!c.send("HTTP/1.1 200 OK\r\n")) return;
  const std::string line = "X-Filler: " + std::string(1000, 'a') + "\r\n";
  for (long long sent = 0; sent < kHugeBody; sent += static_cast<long long>(line.size())) {
    if (!c.send(line)) return;
  }
}

/// 302 to the very URL that was asked for.
void answer_redirect_to_self(RawReceiver::Conn& c) {
  c.send(
      fmt::format("HTTP/1.1 302 Found\r\nLocation: {}\r\nContent-Length: 0\r\n"
                  "Connection: close\r\n\r\n",
                  c.url()));
}

const std::string kOkResponse =
    "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\n"
    "Connection: close\r\n\r\n{}";

/// The whole response, status line included, one byte a second.
void answer_one_byte_a_second(RawReceiver::Conn& c) { c.trickle(kOkResponse, 1000ms); }

/// A 200 head at once, then its body one byte a second.
void answer_body_one_byte_a_second(RawReceiver::Conn& c) {
  if (!c.send("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 30\r\n"
              "Connection: close\r\n\r\n"))
    return;
  c.trickle(std::string(30, ' '), 1000ms);
}

std::string delivery_column(Pipeline& p, const std::string& target, const std::string& column) {
  return query_scalar(p.db_url, fmt::format("SELECT coalesce({}::text, 'NULL') FROM deliveries "
                                            "WHERE target = '{}'",
                                            column, target));
}

/// One column of a target's attempts, comma-separated in attempt order (NULL as "NULL").
std::string attempts_column(Pipeline& p, const std::string& target, const std::string& column) {
  return query_scalar(p.db_url,
                      fmt::format("SELECT string_agg(coalesce(a.{}::text, 'NULL'), ',' ORDER BY "
                                  "a.attempt) FROM delivery_attempts a JOIN deliveries d ON d.id = "
                                  "a.delivery_id WHERE d.target = '{}'",
                                  column, target));
}

std::vector<double> attempt_durations_ms(Pipeline& p, const std::string& target) {
  std::vector<double> out;
  std::istringstream in(attempts_column(p, target, "duration_ms"));
  std::string v;
  while (std::getline(in, v, ',')) out.push_back(std::stod(v));
  return out;
}

/// One threshold rule (temperature above 80) whose alerts go to `hub_url` and `workflow_url`;
/// the ingester and evaluator "a" (with `extra` settings) running.
void start_alerting(Pipeline& p, const std::string& hub_url, const std::string& workflow_url,
                    Process::Env extra = {}) {
  p.add_rule("above_threshold", 80, "temperature");
  p.start_ingester();
  extra["STE_NOTIFICATION_HUB_URL"] = hub_url;
  extra["STE_WORKFLOW_ENGINE_URL"] = workflow_url;
  p.start_evaluator("a", extra);
}

/// The evaluator process is alive and answers /healthz.
bool evaluator_up(Pipeline& p, const std::string& name) {
  auto& e = p.evaluators.at(name);
  if (!e.proc->running()) return false;
  httplib::Client c("127.0.0.1", e.port);
  c.set_connection_timeout(2);
  const auto res = c.Get("/healthz");
  return res && res->status == 200;
}

}  // namespace

TEST_CASE(
    "A 10 MB response body is cut, not read: a 200 is delivered at once and a 500 is retried to "
    "the budget",
    "[delivery][faults]") {
  RawReceiver hub([](RawReceiver::Conn& c) { answer_huge(c, 200); });
  RawReceiver workflow([](RawReceiver::Conn& c) { answer_huge(c, 500); });
  Pipeline p;
  start_alerting(p, hub.base_url(), workflow.base_url() + "/wf",
                 {{"STE_DELIVERY_MAX_ATTEMPTS", "2"}});
  p.publish("sensors.acme.boiler-7", now_reading("temperature", 93.2));

  REQUIRE(eventually([&] { return deliveries_with(p, "status <> 'pending'") == 2; }, 30s));
  INFO(read_file(p.evaluators["a"].log));
  // The hub's 200 decided the attempt; the body after the first 64 KiB was never waited for.
  CHECK(delivery_column(p, "notification_hub", "status") == "delivered");
  CHECK(delivery_column(p, "notification_hub", "attempts") == "1");
  CHECK(attempts_column(p, "notification_hub", "http_status") == "200");
  const auto hub_ms = attempt_durations_ms(p, "notification_hub");
  REQUIRE(hub_ms.size() == 1);
  CHECK(hub_ms[0] < 3000);  // well below the 5 s total timeout
  // A 500 is a 500 however big its body: retried, then failed at STE_DELIVERY_MAX_ATTEMPTS = 2.
  CHECK(delivery_column(p, "workflow_engine", "status") == "failed");
  CHECK(delivery_column(p, "workflow_engine", "attempts") == "2");
  CHECK(delivery_column(p, "workflow_engine", "last_status") == "500");
  CHECK(delivery_column(p, "workflow_engine", "last_error") == "HTTP 500");
  CHECK(attempts_column(p, "workflow_engine", "http_status") == "500,500");
  CHECK(attempts_column(p, "workflow_engine", "outcome") == "retry,failed");

  // The evaluator cut each transfer: no receiver got its 10 MB out (the kernel's socket buffers
  // hold a few MB at most), and it served exactly the requests recorded.
  REQUIRE(eventually(
      [&] { return hub.bytes_sent().size() == 1 && workflow.bytes_sent().size() == 2; }, 15s));
  for (const long long sent : hub.bytes_sent()) CHECK(sent < kHugeBody);
  for (const long long sent : workflow.bytes_sent()) CHECK(sent < kHugeBody);
  CHECK(hub.requests() == 1);
  CHECK(workflow.requests() == 2);
  CHECK(evaluator_up(p, "a"));
}

TEST_CASE(
    "A 200 whose headers never end is no answer: a network error, retried to the budget, and "
    "the evaluator stays up",
    "[delivery][faults]") {
  RawReceiver hub([](RawReceiver::Conn& c) { answer_endless_headers(c); });
  WebhookReceiver workflow;
  Pipeline p;
  start_alerting(p, hub.base_url(), workflow.url("/wf"), {{"STE_DELIVERY_MAX_ATTEMPTS", "2"}});
  p.publish("sensors.acme.boiler-7", now_reading("temperature", 93.2));

  REQUIRE(eventually([&] { return deliveries_with(p, "status <> 'pending'") == 2; }, 30s));
  INFO(read_file(p.evaluators["a"].log));
  // libcurl gives up on a head past its size limit; the status line alone does not count.
  CHECK(delivery_column(p, "notification_hub", "status") == "failed");
  CHECK(delivery_column(p, "notification_hub", "attempts") == "2");
  CHECK(attempts_column(p, "notification_hub", "http_status") == "NULL,NULL");
  CHECK(attempts_column(p, "notification_hub", "outcome") == "retry,failed");
  CHECK(delivery_column(p, "notification_hub", "last_error") != "NULL");
  for (const double ms : attempt_durations_ms(p, "notification_hub")) CHECK(ms < 3000);
  REQUIRE(eventually([&] { return hub.bytes_sent().size() == 2; }, 15s));
  for (const long long sent : hub.bytes_sent()) CHECK(sent < kHugeBody);
  CHECK(delivery_column(p, "workflow_engine", "status") == "delivered");
  CHECK(evaluator_up(p, "a"));
}

TEST_CASE("A target that redirects to itself is asked once and fails with its 302, not retried",
          "[delivery][faults]") {
  RawReceiver hub([](RawReceiver::Conn& c) { answer_redirect_to_self(c); });
  WebhookReceiver workflow;
  Pipeline p;
  start_alerting(p, hub.base_url(), workflow.url("/wf"), {{"STE_DELIVERY_MAX_ATTEMPTS", "3"}});
  p.publish("sensors.acme.boiler-7", now_reading("temperature", 93.2));

  REQUIRE(eventually([&] { return deliveries_with(p, "status <> 'pending'") == 2; }, 30s));
  INFO(read_file(p.evaluators["a"].log));
  // A 3xx is final: one attempt of the budget of 3, and `failed` is never claimed again.
  CHECK(delivery_column(p, "notification_hub", "status") == "failed");
  CHECK(delivery_column(p, "notification_hub", "attempts") == "1");
  CHECK(delivery_column(p, "notification_hub", "last_status") == "302");
  CHECK(delivery_column(p, "notification_hub", "last_error") == "HTTP 302");
  CHECK(attempts_column(p, "notification_hub", "http_status") == "302");
  CHECK(attempts_column(p, "notification_hub", "outcome") == "failed");
  CHECK(attempts_column(p, "notification_hub", "next_attempt_at") == "NULL");
  // The Location was not followed: the attempt was recorded after the one request it made.
  CHECK(hub.paths() == std::vector<std::string>{"/api/events"});
  CHECK(delivery_column(p, "workflow_engine", "status") == "delivered");
  CHECK(workflow.count() == 1);
  CHECK(evaluator_up(p, "a"));
}

TEST_CASE(
    "A target answering one byte a second times out at STE_DELIVERY_TIMEOUT_MS as a network "
    "error — a 200 whose body trickles is delivered",
    "[delivery][faults]") {
  RawReceiver hub([](RawReceiver::Conn& c) { answer_one_byte_a_second(c); });
  RawReceiver workflow([](RawReceiver::Conn& c) { answer_body_one_byte_a_second(c); });
  Pipeline p;
  start_alerting(p, hub.base_url(), workflow.base_url() + "/wf",
                 {{"STE_DELIVERY_TIMEOUT_MS", "2000"}, {"STE_DELIVERY_MAX_ATTEMPTS", "2"}});
  p.publish("sensors.acme.boiler-7", now_reading("temperature", 93.2));

  // Two 2 s attempts and a backoff of at most 1 s between them.
  REQUIRE(eventually([&] { return deliveries_with(p, "status <> 'pending'") == 2; }, 30s));
  INFO(read_file(p.evaluators["a"].log));
  // No status line within the timeout: no status, a timeout error, retried like any network
  // error, then failed at the budget.
  CHECK(delivery_column(p, "notification_hub", "status") == "failed");
  CHECK(delivery_column(p, "notification_hub", "attempts") == "2");
  CHECK(delivery_column(p, "notification_hub", "last_status") == "NULL");
  CHECK_THAT(delivery_column(p, "notification_hub", "last_error"),
             Catch::Matchers::Contains("timed out"));
  CHECK(attempts_column(p, "notification_hub", "http_status") == "NULL,NULL");
  CHECK(attempts_column(p, "notification_hub", "outcome") == "retry,failed");
  for (const double ms : attempt_durations_ms(p, "notification_hub")) {
    CHECK(ms >= 1990);  // the configured 2 s, not the 5 s default...
    CHECK(ms < 3500);   // ...and not the minute the whole answer would take
  }
  CHECK(hub.requests() == 2);

  // The 200 head arrived at once; the body was read until the timeout and then given up, but
  // the status stands: a retry would send an accepted alert twice.
  CHECK(delivery_column(p, "workflow_engine", "status") == "delivered");
  CHECK(delivery_column(p, "workflow_engine", "attempts") == "1");
  CHECK(attempts_column(p, "workflow_engine", "http_status") == "200");
  const auto wf_ms = attempt_durations_ms(p, "workflow_engine");
  REQUIRE(wf_ms.size() == 1);
  CHECK(wf_ms[0] >= 1990);
  CHECK(wf_ms[0] < 3500);
  CHECK(workflow.requests() == 1);
  CHECK(evaluator_up(p, "a"));
}

TEST_CASE(
    "While the hub is hostile (slow, redirecting, huge), the Workflow Engine gets its deliveries "
    "promptly and readings keep being stored",
    "[delivery][faults]") {
  // Each connection gets the next kind of hostility; the slow ones hold their request for 30 s.
  RawReceiver hub([](RawReceiver::Conn& c) {
    switch (c.index() % 3) {
      case 0:
        answer_one_byte_a_second(c);
        break;
      case 1:
        answer_redirect_to_self(c);
        break;
      default:
        answer_huge(c, 200);
    }
  });
  WebhookReceiver workflow;
  Pipeline p;
  start_alerting(p, hub.base_url(), workflow.url("/wf"), {{"STE_DELIVERY_TIMEOUT_MS", "30000"}});

  constexpr int kAlertsPerWave = 6;
  constexpr int kOtherReadings = 100;
  // Sent to the workflow engine this long after the readings at most: far below the 30 s a slow
  // hub request holds its slot, so no workflow delivery waited behind one.
  constexpr auto kPrompt = 8s;
  const auto base = test_base_time();
  long long rows_expected = 0;
  for (int wave = 0; wave < 2; ++wave) {
    const auto published = std::chrono::steady_clock::now();
    for (int d = 0; d < kAlertsPerWave; ++d) {
      p.publish(fmt::format("sensors.acme.wave{}-dev{}", wave, d),
                now_reading("temperature", 90 + d));
    }
    // Readings that raise no alert, a hundred in five messages.
    for (int m = 0; m < 5; ++m) {
      std::string batch = "[";
      for (int i = 0; i < kOtherReadings / 5; ++i) {
        if (i) batch += ",";
        batch += reading_json("humidity", 40 + i,
                              base + std::chrono::milliseconds{wave * 10000 + m * 100 + i});
      }
      p.publish(fmt::format("sensors.acme.wave{}-dev{}", wave, m), batch + "]");
    }
    rows_expected += kAlertsPerWave + kOtherReadings;
    const size_t wf_expected = static_cast<size_t>((wave + 1) * kAlertsPerWave);
    INFO("wave " << wave);
    REQUIRE(eventually([&] { return workflow.count() >= wf_expected; }, kPrompt));
    CHECK(workflow.last_arrival() - published < kPrompt);
    REQUIRE(p.wait_rows(rows_expected, kPrompt));
    CHECK(p.rows() == rows_expected);
    // Every wave must meet the hub's hostility: it has taken requests and holds a slow one.
    REQUIRE(eventually([&] { return hub.requests() >= (wave + 1) * kAlertsPerWave; }, kPrompt));
    CHECK(hub.open_connections() >= 1);
  }
  CHECK(workflow.distinct_deliveries() == 2u * kAlertsPerWave);
  CHECK(deliveries_with(p, "target = 'workflow_engine' AND status = 'delivered'") ==
        2 * kAlertsPerWave);
  // The slow hub requests are still in flight (30 s); the others finished as they should.
  CHECK(deliveries_with(p, "target = 'notification_hub' AND last_status = 302") >= 1);
  CHECK(deliveries_with(p, "target = 'notification_hub' AND status = 'delivered'") >= 1);
  CHECK(deliveries_with(p, "target = 'notification_hub' AND status = 'pending' AND attempts = 0") >=
        1);
  CHECK(evaluator_up(p, "a"));
}

TEST_CASE(
    "A hub that hangs on 40 deliveries holds only its share of the slots: the Workflow Engine's "
    "40 go out at once",
    "[delivery][faults]") {
  RawReceiver hub([](RawReceiver::Conn& c) { answer_one_byte_a_second(c); });
  WebhookReceiver workflow;
  Pipeline p;
  start_alerting(p, hub.base_url(), workflow.url("/wf"), {{"STE_DELIVERY_TIMEOUT_MS", "30000"}});
  // More hanging hub deliveries than the worker's 32 slots: without a per-URL cap they would
  // take every slot and the Workflow Engine's deliveries would wait 30 s per round.
  constexpr int kAlerts = 40;
  for (int d = 0; d < kAlerts; ++d) {
    p.publish(fmt::format("sensors.acme.dev{}", d), now_reading("temperature", 90 + d));
  }
  int hub_peak = 0;
  const bool all_sent = eventually(
      [&] {
        hub_peak = std::max(hub_peak, hub.open_connections());
        return workflow.count() >= static_cast<size_t>(kAlerts);
      },
      20s, 50ms);
  INFO("workflow deliveries " << workflow.count() << ", hub peak " << hub_peak);
  REQUIRE(all_sent);
  CHECK(workflow.distinct_deliveries() == static_cast<size_t>(kAlerts));
  // Every hub request is still hanging (30 s each) and they never held more than 2 x 8 - 1.
  CHECK(deliveries_with(p, "target = 'notification_hub' AND attempts > 0") == 0);
  CHECK(hub_peak >= 8);
  CHECK(hub_peak <= 15);
  CHECK(evaluator_up(p, "a"));
}
