#pragma once
/// BatchStore: the port through which the writers store readings (docs/DESIGN.md §4). One call
/// is one idempotent statement that inserts the readings and folds the per-minute rollup from the
/// rows actually inserted, so a redelivered or re-written reading neither duplicates a row nor
/// double-counts a bucket. The flusher calls it with a whole batch, and, when a batch failed for
/// its data, with one message's readings at a time (the poison-batch isolation path).
///
/// PgBatchStore (pg_batch_store.hpp) is the real adapter; unit tests use
/// tests/unit/support/fake_batch_store.hpp. Not thread-safe: each writer thread owns one store,
/// made by a BatchStoreFactory.
#include <functional>
#include <memory>
#include <span>

#include "ingester/batch_buffer.hpp"
#include "ingester/batch_writer.hpp"

namespace ste::ingest {

class BatchStore {
 public:
  virtual ~BatchStore() = default;
  /// Stores `readings` in one statement (all or nothing). Throws PgError on failure; whether the
  /// failure is the database's or the data's is pg_error_is_environmental() of it.
  virtual WriteResult write(std::span<const BufferedReading> readings) = 0;
};

/// Makes one writer's store (called once per writer thread at start). May throw PgError when the
/// database is unreachable.
using BatchStoreFactory = std::function<std::unique_ptr<BatchStore>()>;

}  // namespace ste::ingest
