#pragma once
/// A fixed-size pool of PostgreSQL connections (STE_DB_POOL_SIZE). Connections are opened lazily
/// and replaced when broken, so the pool survives a database restart; an idle connection the
/// server closed meanwhile is recognised at acquire (PgConnection::healthy) and replaced before
/// the caller's first statement fails on it. Thread-safe: acquire()
/// blocks (up to a timeout) while every connection is checked out.
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "common/pg_connection.hpp"

namespace ste {

class PgPool {
 public:
  PgPool(std::string conninfo, int size);

  /// A checked-out connection; returns itself to the pool when destroyed.
  class Lease {
   public:
    Lease(PgPool& pool, std::unique_ptr<PgConnection> c) : pool_(&pool), conn_(std::move(c)) {}
    Lease(Lease&& o) noexcept : pool_(o.pool_), conn_(std::move(o.conn_)) {}
    Lease& operator=(Lease&&) = delete;
    ~Lease() {
      if (conn_) pool_->release(std::move(conn_));
    }
    PgConnection& operator*() { return *conn_; }
    PgConnection* operator->() { return conn_.get(); }

   private:
    PgPool* pool_;
    std::unique_ptr<PgConnection> conn_;
  };

  /// Throws PgError when no connection frees up within `wait` or the database is unreachable.
  Lease acquire(std::chrono::milliseconds wait = std::chrono::seconds{10});
  int size() const { return size_; }

 private:
  void release(std::unique_ptr<PgConnection> c);
  std::string conninfo_;
  int size_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::unique_ptr<PgConnection>> idle_;  // guarded by mu_
  int open_ = 0;                                     // guarded by mu_: checked out + idle
};

}  // namespace ste
