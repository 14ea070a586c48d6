#pragma once
/// An HttpTransport for unit tests. Requests hang until the test answers them (answer(), fail(),
/// refuse()), or until their total_timeout has passed on the given Clock's monotonic time, when
/// they end as libcurl's do: a network error, no status. Keeps every request started and the
/// most ever in flight at once (overall and per URL). wait() returns when poke()d or after its
/// `max` of real time, so a worker thread can run against it. Thread-safe.
#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "common/clock.hpp"
#include "evaluator/delivery/http_transport.hpp"

namespace ste::testing {

class FakeHttpTransport final : public eval::HttpTransport {
 public:
  /// One request started.
  struct Sent {
    std::uint64_t id = 0;
    eval::TransferRequest request;
    MonoPoint started{};
  };

  explicit FakeHttpTransport(const Clock& clock) : clock_(clock) {}

  bool start(std::uint64_t id, const eval::TransferRequest& request) override {
    std::lock_guard lock(mu_);
    if (refuse_starts_) return false;
    Sent s{id, request, clock_.mono()};
    sent_.push_back(s);
    active_.emplace(id, std::move(s));
    max_active_ = std::max(max_active_, active_.size());
    auto& per_url = max_active_to_[request.request.url];
    per_url = std::max(per_url, count_to(request.request.url));
    return true;
  }

  std::vector<eval::FinishedTransfer> collect() override {
    std::lock_guard lock(mu_);
    std::vector<eval::FinishedTransfer> out = std::move(finished_);
    finished_.clear();
    for (auto it = active_.begin(); it != active_.end();) {
      const auto& r = it->second.request;
      if (clock_.mono() - it->second.started >= r.total_timeout) {
        eval::FinishedTransfer f;
        f.id = it->first;
        f.outcome.error = "Operation timed out after " + std::to_string(r.total_timeout.count()) +
                          " milliseconds with 0 bytes received";
        out.push_back(std::move(f));
        it = active_.erase(it);
      } else {
        ++it;
      }
    }
    return out;
  }

  void wait(std::chrono::milliseconds max) override {
    std::unique_lock lock(mu_);
    cv_.wait_for(lock, max, [this] { return poked_; });
    poked_ = false;
  }

  /// Ends request `id` with an HTTP `status` (and a Retry-After header when given).
  void answer(std::uint64_t id, int status, std::string retry_after = {}) {
    eval::FinishedTransfer f;
    f.outcome.http_status = status;
    f.retry_after = std::move(retry_after);
    end(id, std::move(f));
  }
  /// Ends every request in flight to `url` with `status`.
  void answer_all(const std::string& url, int status) {
    for (const auto& s : active())
      if (s.request.request.url == url) answer(s.id, status);
  }
  /// Ends request `id` without a response (connection refused, reset...).
  void fail(std::uint64_t id, std::string error) {
    eval::FinishedTransfer f;
    f.outcome.error = std::move(error);
    end(id, std::move(f));
  }
  /// Ends request `id` as the address guard does: never connected, `reason` names the address.
  void refuse(std::uint64_t id, std::string reason) {
    eval::FinishedTransfer f;
    f.outcome.error = "Couldn't connect to server";
    f.refused_address = std::move(reason);
    end(id, std::move(f));
  }
  /// Every start() returns false until set back to false.
  void set_refusing_starts(bool refusing) {
    std::lock_guard lock(mu_);
    refuse_starts_ = refusing;
  }
  /// Wakes a wait().
  void poke() {
    {
      std::lock_guard lock(mu_);
      poked_ = true;
    }
    cv_.notify_all();
  }

  /// Every request started, in order.
  std::vector<Sent> sent() const {
    std::lock_guard lock(mu_);
    return sent_;
  }
  /// The requests in flight (started, not yet ended), by id.
  std::vector<Sent> active() const {
    std::lock_guard lock(mu_);
    std::vector<Sent> out;
    for (const auto& [id, s] : active_) out.push_back(s);
    return out;
  }
  std::size_t active_to(const std::string& url) const {
    std::lock_guard lock(mu_);
    return count_to(url);
  }
  /// The most requests ever in flight at once.
  std::size_t max_active() const {
    std::lock_guard lock(mu_);
    return max_active_;
  }
  /// The most requests ever in flight at once to `url`.
  std::size_t max_active_to(const std::string& url) const {
    std::lock_guard lock(mu_);
    auto it = max_active_to_.find(url);
    return it == max_active_to_.end() ? 0 : it->second;
  }

 private:
  void end(std::uint64_t id, eval::FinishedTransfer f) {
    {
      std::lock_guard lock(mu_);
      if (active_.erase(id) == 0) throw std::logic_error("no request in flight with that id");
      f.id = id;
      finished_.push_back(std::move(f));
      poked_ = true;
    }
    cv_.notify_all();
  }
  std::size_t count_to(const std::string& url) const {
    return static_cast<std::size_t>(std::count_if(active_.begin(), active_.end(), [&](auto& e) {
      return e.second.request.request.url == url;
    }));
  }

  const Clock& clock_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool poked_ = false;
  bool refuse_starts_ = false;
  std::vector<Sent> sent_;
  std::map<std::uint64_t, Sent> active_;
  std::vector<eval::FinishedTransfer> finished_;
  std::size_t max_active_ = 0;
  std::map<std::string, std::size_t> max_active_to_;
};

}  // namespace ste::testing
