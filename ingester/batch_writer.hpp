#pragma once
/// Writes one batch in ONE statement: the readings (INSERT ... ON CONFLICT DO NOTHING) and the
/// per-minute rollup folded from the RETURNING rows — only rows actually inserted count, so a
/// redelivered message neither duplicates a reading nor double-counts a bucket. The statement
/// also refreshes devices.last_seen_at (at most once a minute per device).
/// Thin adapter: not thread-safe; one BatchWriter per writer thread, each with its own connection.
#include <cstdint>
#include <vector>

#include "common/pg_connection.hpp"
#include "ingester/batch_buffer.hpp"

namespace ste::ingest {

struct WriteResult {
  std::int64_t inserted = 0;     ///< new rows in readings
  std::int64_t rollup_rows = 0;  ///< readings_1m rows created or updated
};

class BatchWriter {
 public:
  explicit BatchWriter(PgConnection& db) : db_(db) {}
  /// Throws PgError on failure; the batch is then entirely not written (one statement).
  WriteResult write(const std::vector<BufferedReading>& readings);

 private:
  PgConnection& db_;
};

}  // namespace ste::ingest
