#pragma once
/// PgBatchStore: the BatchStore on PostgreSQL — a BatchWriter (COPY to staging or unnest) on one
/// connection of its own, reconnected before a write when the previous one lost it. Thin adapter,
/// tested against a real server (tests/integration/batch_writer_test.cpp and the pipeline tests).
/// Not thread-safe: one per writer thread.
#include <memory>
#include <span>
#include <string>

#include "common/pg_connection.hpp"
#include "ingester/batch_store.hpp"
#include "ingester/batch_writer.hpp"

namespace ste::ingest {

class PgBatchStore final : public BatchStore {
 public:
  /// Connects at once (throws PgError when the database is unreachable).
  PgBatchStore(const std::string& database_url, WriteMethod method);
  WriteResult write(std::span<const BufferedReading> readings) override;

 private:
  PgConnection db_;
  WriteMethod method_;
};

/// A factory of PgBatchStores on `database_url`.
BatchStoreFactory pg_batch_store_factory(std::string database_url, WriteMethod method);

}  // namespace ste::ingest
