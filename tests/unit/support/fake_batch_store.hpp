#pragma once
/// A BatchStore for unit tests: an in-memory readings table with the real one's uniqueness key
/// (tenant, device, metric, ts at microseconds; the first write wins), so `inserted` and
/// `differing` come out as PostgreSQL's would, including for a key repeated within one write.
/// It records every write, can be told to fail (the next n writes, or every write holding a
/// poison metric; errors from fake_pg_error.hpp), and runs `on_write` at the start of each write
/// (e.g. to move a ManualClock, as a slow statement would). Thread-safe; factory() hands out stores
/// that all write to this one.
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <tuple>
#include <vector>

#include "common/pg_connection.hpp"
#include "ingester/batch_store.hpp"

namespace ste::testing {

class FakeBatchStore final : public ingest::BatchStore {
 public:
  using Readings = std::span<const ingest::BufferedReading>;

  ingest::WriteResult write(Readings readings) override {
    std::function<void(Readings)> hook;
    {
      std::lock_guard lock(mu_);
      hook = on_write;
    }
    if (hook) hook(readings);
    std::lock_guard lock(mu_);
    writes_.push_back(readings.size());
    if (failures_left_ > 0) {
      --failures_left_;
      throw *next_error_;
    }
    if (poison_) {
      for (const auto& r : readings)
        if (r.reading.metric == poison_->first) throw poison_->second;
    }
    ingest::WriteResult out;
    std::map<Key, double> differing;
    for (const auto& r : readings) {
      const Key k = key(r);
      auto [it, inserted] = rows_.try_emplace(k, r.reading.value);
      if (inserted) {
        ++out.inserted;
      } else if (it->second != r.reading.value) {
        differing[k] = it->second;
      }
    }
    for (const auto& [k, value] : differing) {
      out.differing.push_back(
          {std::get<0>(k), std::get<1>(k), std::get<2>(k), std::get<3>(k), value});
    }
    out.rollup_rows = out.inserted > 0 ? 1 : 0;
    return out;
  }

  /// The next `n` writes throw `error` (and store nothing).
  void fail_next(int n, PgError error) {
    std::lock_guard lock(mu_);
    failures_left_ = n;
    next_error_ = std::move(error);
  }
  /// Every write holding a reading of `metric` throws `error` (a poison message's readings).
  void fail_metric(std::string metric, PgError error) {
    std::lock_guard lock(mu_);
    poison_.emplace(std::move(metric), std::move(error));
  }
  /// Stores a row as if an earlier delivery had written it.
  void preload(const ingest::BufferedReading& r) {
    std::lock_guard lock(mu_);
    rows_.try_emplace(key(r), r.reading.value);
  }
  /// The size of every write attempted, in order (failed ones included).
  std::vector<std::size_t> writes() const {
    std::lock_guard lock(mu_);
    return writes_;
  }
  std::size_t rows() const {
    std::lock_guard lock(mu_);
    return rows_.size();
  }
  /// Rows stored for `metric`.
  std::size_t rows_of(const std::string& metric) const {
    std::lock_guard lock(mu_);
    std::size_t n = 0;
    for (const auto& [k, v] : rows_) n += std::get<2>(k) == metric ? 1 : 0;
    return n;
  }
  /// Stores that write here, one per writer thread.
  ingest::BatchStoreFactory factory() {
    return [this]() -> std::unique_ptr<ingest::BatchStore> { return std::make_unique<Ref>(*this); };
  }

  /// Runs at the start of every write, before it fails or stores (set before writers start).
  std::function<void(Readings)> on_write;

 private:
  using Key = std::tuple<std::int64_t, std::int64_t, std::string, std::int64_t>;
  static Key key(const ingest::BufferedReading& r) {
    return {r.tenant_id, r.device_id, r.reading.metric, to_epoch_us(r.reading.ts)};
  }
  class Ref final : public ingest::BatchStore {
   public:
    explicit Ref(FakeBatchStore& target) : target_(target) {}
    ingest::WriteResult write(Readings readings) override { return target_.write(readings); }

   private:
    FakeBatchStore& target_;
  };

  mutable std::mutex mu_;
  std::map<Key, double> rows_;
  std::vector<std::size_t> writes_;
  int failures_left_ = 0;
  std::optional<PgError> next_error_;
  std::optional<std::pair<std::string, PgError>> poison_;
};

}  // namespace ste::testing
