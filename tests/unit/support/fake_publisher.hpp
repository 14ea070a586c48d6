#pragma once
/// A Publisher for unit tests: keeps every message sent, can be told to fail, and reports a
/// chosen max_payload.
#include <mutex>
#include <string>
#include <vector>

#include "common/nats_client.hpp"
#include "common/publisher.hpp"

namespace ste::testing {

struct Published {
  std::string subject;
  std::string data;
  bool durable = false;
};

class FakePublisher final : public Publisher {
 public:
  void publish(const std::string& subject, std::string_view data) override {
    record(subject, data, false);
  }
  void js_publish(const std::string& subject, std::string_view data,
                  std::chrono::milliseconds) override {
    record(subject, data, true);
  }
  std::int64_t max_payload() override {
    std::lock_guard lock(mu_);
    return max_payload_;
  }

  void set_max_payload(std::int64_t bytes) {
    std::lock_guard lock(mu_);
    max_payload_ = bytes;
  }
  /// The next `n` publishes throw NatsError (and are not kept).
  void fail_next(int n) {
    std::lock_guard lock(mu_);
    failures_left_ = n;
  }
  /// Every publish fails until set back to false.
  void set_failing(bool failing) {
    std::lock_guard lock(mu_);
    failing_ = failing;
  }
  std::vector<Published> sent() const {
    std::lock_guard lock(mu_);
    return sent_;
  }
  /// Messages sent on `subject`.
  std::vector<Published> sent_on(const std::string& subject) const {
    std::lock_guard lock(mu_);
    std::vector<Published> out;
    for (const auto& p : sent_)
      if (p.subject == subject) out.push_back(p);
    return out;
  }
  int attempts() const {
    std::lock_guard lock(mu_);
    return attempts_;
  }

 private:
  void record(const std::string& subject, std::string_view data, bool durable) {
    std::lock_guard lock(mu_);
    ++attempts_;
    if (failing_ || failures_left_ > 0) {
      if (failures_left_ > 0) --failures_left_;
      throw NatsError("publish " + subject + ": fake failure", NATS_TIMEOUT);
    }
    sent_.push_back({subject, std::string(data), durable});
  }
  mutable std::mutex mu_;
  std::vector<Published> sent_;
  std::int64_t max_payload_ = 1024 * 1024;
  int failures_left_ = 0;
  bool failing_ = false;
  int attempts_ = 0;
};

}  // namespace ste::testing
