#pragma once
/// PgTransaction: BEGIN on construction, COMMIT on commit(), ROLLBACK when destroyed without a
/// commit (an exception or an early return), so a pooled connection never goes back to the pool
/// inside an open transaction. Not thread-safe (like the PgConnection it wraps).
#include "common/pg_connection.hpp"

namespace ste {

class PgTransaction {
 public:
  explicit PgTransaction(PgConnection& db) : db_(db) { db_.exec("BEGIN"); }
  ~PgTransaction() {
    if (done_) return;
    try {
      db_.exec("ROLLBACK");
    } catch (const PgError&) {
      // The connection is broken; the pool replaces it, and the server has rolled back.
    }
  }
  PgTransaction(const PgTransaction&) = delete;
  PgTransaction& operator=(const PgTransaction&) = delete;

  void commit() {
    db_.exec("COMMIT");
    done_ = true;
  }

 private:
  PgConnection& db_;
  bool done_ = false;
};

}  // namespace ste
