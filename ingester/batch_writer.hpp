#pragma once
/// Writes one batch with ONE statement that inserts the readings (INSERT ... ON CONFLICT DO
/// NOTHING) and folds the per-minute rollup from the RETURNING rows — only rows actually inserted
/// count, so a redelivered message neither duplicates a reading nor double-counts a bucket. The
/// statement also records when the device and each of its series last received a reading
/// (devices.last_seen_at, series_activity.last_received_at: the server's clock, refreshed at most
/// once per 15 s per device and per series; docs/ALERTING.md §4).
///
/// When fewer rows were inserted than the batch holds, the same transaction (copy) or a second
/// statement (unnest) also returns the batch's keys that are stored with another value, so the
/// summary can describe the stored rows. A key repeated within the batch is stored once (the
/// insert keeps one, first write wins) and, when its readings differ, is reported in `differing`.
///
/// Two ways to hand the batch to that statement (chosen by measurement, bench/README.md):
/// - `copy` (default): binary COPY into a session temp table `ste_stage`, then the statement reads
///   it; BEGIN/COPY/statement/COMMIT in one transaction (the temp table empties on commit).
/// - `unnest`: six text array parameters unnested by the statement; one round trip.
/// Thin adapter: not thread-safe; one BatchWriter per writer thread, each with its own connection.
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/pg_connection.hpp"
#include "ingester/batch_buffer.hpp"
#include "ingester/batch_keys.hpp"

namespace ste::ingest {

enum class WriteMethod { copy, unnest };
std::string_view write_method_name(WriteMethod m);
std::optional<WriteMethod> parse_write_method(std::string_view s);

/// The batch as one binary COPY stream of (tenant_id, device_id, metric, time, value, unit).
std::string encode_copy_rows(std::span<const BufferedReading> readings);
/// The batch as six array parameters ($1..$6) in the same column order, times as epoch µs.
std::vector<PgParam> encode_unnest_params(std::span<const BufferedReading> readings);

struct WriteResult {
  std::int64_t inserted = 0;     ///< new rows in readings
  std::int64_t rollup_rows = 0;  ///< readings_1m rows created or updated
  /// Keys of the batch already stored with another value (asked only when inserted < batch).
  std::vector<StoredValue> differing;
};

class BatchWriter {
 public:
  explicit BatchWriter(PgConnection& db, WriteMethod method = WriteMethod::copy)
      : db_(db), method_(method) {}
  /// Throws PgError on failure; the batch is then entirely not written (one transaction).
  WriteResult write(std::span<const BufferedReading> readings);

 private:
  WriteResult write_unnest(std::span<const BufferedReading> readings);
  WriteResult write_copy(std::span<const BufferedReading> readings);
  PgConnection& db_;
  WriteMethod method_;
};

}  // namespace ste::ingest
