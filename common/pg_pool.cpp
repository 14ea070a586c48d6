#include "common/pg_pool.hpp"

namespace ste {

PgPool::PgPool(std::string conninfo, int size) : conninfo_(std::move(conninfo)), size_(size) {}

PgPool::Lease PgPool::acquire(std::chrono::milliseconds wait) {
  std::unique_ptr<PgConnection> conn;
  {
    std::unique_lock lock(mu_);
    if (!cv_.wait_for(lock, wait, [this] { return !idle_.empty() || open_ < size_; })) {
      throw PgError(
          "all " + std::to_string(size_) + " database connections are busy (STE_DB_POOL_SIZE)",
          "53300", false);
    }
    if (!idle_.empty()) {
      conn = std::move(idle_.back());
      idle_.pop_back();
    } else {
      ++open_;  // reserve the slot; connect outside the lock
    }
  }
  try {
    if (!conn) {
      conn = std::make_unique<PgConnection>(conninfo_);
    } else if (!conn->healthy()) {
      conn->reconnect();
    }
  } catch (...) {
    std::lock_guard lock(mu_);
    --open_;
    cv_.notify_one();
    throw;
  }
  return Lease(*this, std::move(conn));
}

void PgPool::release(std::unique_ptr<PgConnection> c) {
  // A connection left inside a transaction (an exception mid-way) is reset before reuse; the
  // round trip happens before taking the lock.
  if (c->healthy() && PQtransactionStatus(c->raw()) != PQTRANS_IDLE) {
    try {
      c->exec("ROLLBACK");
    } catch (const PgError&) {
    }
  }
  std::lock_guard lock(mu_);
  idle_.push_back(std::move(c));
  cv_.notify_one();
}

}  // namespace ste
