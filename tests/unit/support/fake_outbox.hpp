#pragma once
/// An Outbox for unit tests: a small in-memory deliveries table that behaves like the SQL of
/// delivery_outbox.cpp (due pending rows oldest first, skip list, limit, lease moves the row's
/// next attempt; a recorded attempt sets the row's state and, for a retry, its next attempt time),
/// with the time of the given Clock standing in for the database's now(). Keeps every claim and
/// every recorded attempt, and can be told to fail. Thread-safe.
#include <algorithm>
#include <chrono>
#include <cstddef>
#include <mutex>
#include <stdexcept>
#include <string>
#include <vector>

#include "common/clock.hpp"
#include "common/pg_connection.hpp"
#include "evaluator/delivery/outbox.hpp"

namespace ste::testing {

class FakeOutbox final : public eval::Outbox {
 public:
  enum class Status { pending, delivered, failed };

  /// One call of claim().
  struct Claim {
    int limit = 0;
    std::chrono::seconds lease{0};
    std::vector<std::string> skip_urls;
    std::size_t returned = 0;
  };
  /// One call of record().
  struct Recorded {
    std::string delivery_id;
    eval::AttemptRecord attempt;
  };

  explicit FakeOutbox(const Clock& clock) : clock_(clock) {}

  /// Adds a pending row, due now. Rows added later are younger (claimed after).
  void add(eval::ClaimedDelivery d) {
    std::lock_guard lock(mu_);
    rows_.push_back({std::move(d), Status::pending, clock_.now(), seq_++});
  }
  /// Adds a pending Workflow Engine row for `url` with id `id`, due now.
  void add(const std::string& id, const std::string& url, int attempts = 0) {
    eval::ClaimedDelivery d;
    d.id = id;
    d.alert_id = "alert-" + id;
    d.tenant_id = 1;
    d.target = "workflow_engine";
    d.url = url;
    d.attempts = attempts;
    d.alert_json = R"({"id":"alert-)" + id + R"("})";
    add(std::move(d));
  }

  std::vector<eval::ClaimedDelivery> claim(int limit, std::chrono::seconds lease,
                                           const std::vector<std::string>& skip_urls) override {
    std::lock_guard lock(mu_);
    if (failing_claims_ > 0) {
      --failing_claims_;
      throw PgError("claim: fake failure", "08006", true);
    }
    std::vector<Row*> due;
    for (auto& r : rows_) {
      const bool skipped =
          std::find(skip_urls.begin(), skip_urls.end(), r.delivery.url) != skip_urls.end();
      if (r.status == Status::pending && r.next_attempt_at <= clock_.now() && !skipped)
        due.push_back(&r);
    }
    std::stable_sort(due.begin(), due.end(), [](const Row* a, const Row* b) {
      return a->next_attempt_at != b->next_attempt_at ? a->next_attempt_at < b->next_attempt_at
                                                      : a->seq < b->seq;
    });
    if (due.size() > static_cast<std::size_t>(std::max(limit, 0)))
      due.resize(static_cast<std::size_t>(limit));
    std::vector<eval::ClaimedDelivery> out;
    for (Row* r : due) {
      r->next_attempt_at = clock_.now() + lease;
      out.push_back(r->delivery);
    }
    claims_.push_back({limit, lease, skip_urls, out.size()});
    return out;
  }

  void record(const eval::ClaimedDelivery& d, const eval::AttemptRecord& a) override {
    std::lock_guard lock(mu_);
    if (failing_records_) throw PgError("record: fake failure", "08006", true);
    recorded_.push_back({d.id, a});
    Row& r = rows_[index_of(d.id)];
    r.delivery.attempts = a.attempt;
    switch (a.verdict) {
      case eval::AttemptVerdict::delivered:
        r.status = Status::delivered;
        break;
      case eval::AttemptVerdict::failed:
        r.status = Status::failed;
        break;
      case eval::AttemptVerdict::retry:
        r.status = Status::pending;
        r.next_attempt_at = clock_.now() + a.retry_in.value_or(std::chrono::milliseconds{0});
        break;
    }
  }

  eval::Backlog backlog() override {
    std::lock_guard lock(mu_);
    eval::Backlog b;
    for (const auto& r : rows_) b.pending += r.status == Status::pending ? 1 : 0;
    return b;
  }

  /// The next `n` claims throw PgError.
  void fail_next_claims(int n) {
    std::lock_guard lock(mu_);
    failing_claims_ = n;
  }
  /// Every record() throws PgError (and changes nothing) until set back to false.
  void set_failing_records(bool failing) {
    std::lock_guard lock(mu_);
    failing_records_ = failing;
  }

  std::vector<Claim> claims() const {
    std::lock_guard lock(mu_);
    return claims_;
  }
  std::vector<Recorded> recorded() const {
    std::lock_guard lock(mu_);
    return recorded_;
  }
  /// The attempts recorded for one row, in order.
  std::vector<eval::AttemptRecord> attempts_of(const std::string& id) const {
    std::lock_guard lock(mu_);
    std::vector<eval::AttemptRecord> out;
    for (const auto& r : recorded_)
      if (r.delivery_id == id) out.push_back(r.attempt);
    return out;
  }
  Status status(const std::string& id) const {
    std::lock_guard lock(mu_);
    return rows_[index_of(id)].status;
  }
  /// When the row is next due (wall time, as the table stores it).
  TimePoint next_attempt_at(const std::string& id) const {
    std::lock_guard lock(mu_);
    return rows_[index_of(id)].next_attempt_at;
  }

 private:
  struct Row {
    eval::ClaimedDelivery delivery;
    Status status = Status::pending;
    TimePoint next_attempt_at{};
    std::size_t seq = 0;
  };
  std::size_t index_of(const std::string& id) const {
    for (std::size_t i = 0; i < rows_.size(); ++i)
      if (rows_[i].delivery.id == id) return i;
    throw std::logic_error("no delivery " + id);
  }

  const Clock& clock_;
  mutable std::mutex mu_;
  std::vector<Row> rows_;
  std::size_t seq_ = 0;
  std::vector<Claim> claims_;
  std::vector<Recorded> recorded_;
  int failing_claims_ = 0;
  bool failing_records_ = false;
};

}  // namespace ste::testing
