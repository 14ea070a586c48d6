#include "ingester/batch_writer.hpp"

#include <string>

#include "common/pg_copy.hpp"

namespace ste::ingest {

namespace {
// The statement after its `input` CTE: insert, rollup from RETURNING, received times. ORDER BY in
// the rollup and the upserts makes concurrent writers lock rows in the same order (no deadlock
// between writer connections).
//
// Received times (docs/ALERTING.md §4) are now(), the server's clock when the batch is written,
// for every reading in the batch, inserted or not: a redelivery or a late batch of old readings
// is activity too. Both are kept at a 15-second granularity: a stored time younger than that is
// left alone, so a series reporting every second costs one row write per 15 s, not one per batch,
// and a no-data check at minute granularity is off by at most 15 s. The anti-join (NOT EXISTS)
// skips fresh series before the upsert instead of relying on ON CONFLICT ... WHERE, which would
// still lock (and WAL-log the lock of) every existing series row of every batch; bench/results/
// 2026-12-06-series-activity.md measured the choice.
constexpr const char* kInsertAndRollup = R"SQL(
, ins AS (
  INSERT INTO readings (tenant_id, device_id, metric, time, value, unit)
  SELECT tenant_id, device_id, metric, time, value, unit FROM input
  ON CONFLICT DO NOTHING
  RETURNING tenant_id, device_id, metric, time, value
), rollup AS (
  INSERT INTO readings_1m AS r (tenant_id, device_id, metric, bucket, n, sum, sumsq, min, max)
  SELECT tenant_id, device_id, metric, date_trunc('minute', time), count(*), sum(value),
         sum(value * value), min(value), max(value)
  FROM ins GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4
  ON CONFLICT (tenant_id, device_id, metric, bucket) DO UPDATE
    SET n = r.n + EXCLUDED.n, sum = r.sum + EXCLUDED.sum, sumsq = r.sumsq + EXCLUDED.sumsq,
        min = LEAST(r.min, EXCLUDED.min), max = GREATEST(r.max, EXCLUDED.max)
  RETURNING 1
), seen AS (
  UPDATE devices d SET last_seen_at = now()
  FROM (SELECT DISTINCT device_id FROM input ORDER BY 1) x
  WHERE d.id = x.device_id
    AND (d.last_seen_at IS NULL OR d.last_seen_at < now() - interval '15 seconds')
  RETURNING 1
), series AS (
  INSERT INTO series_activity AS a (tenant_id, device_id, metric, last_received_at)
  SELECT s.tenant_id, s.device_id, s.metric, now()
  FROM (SELECT DISTINCT tenant_id, device_id, metric FROM input) s
  WHERE NOT EXISTS (
    SELECT 1 FROM series_activity f
    WHERE f.tenant_id = s.tenant_id AND f.device_id = s.device_id AND f.metric = s.metric
      AND f.last_received_at >= now() - interval '15 seconds')
  ORDER BY 1, 2, 3
  ON CONFLICT (tenant_id, device_id, metric) DO UPDATE
    SET last_received_at = EXCLUDED.last_received_at
    WHERE a.last_received_at < EXCLUDED.last_received_at
  RETURNING 1
)
SELECT (SELECT count(*) FROM ins), (SELECT count(*) FROM rollup), (SELECT count(*) FROM seen),
       (SELECT count(*) FROM series)
)SQL";

// Timestamps travel as epoch microseconds (bigint) so they reach PostgreSQL exactly; a float or
// text round trip would risk a different key on redelivery.
const std::string kUnnestSql = std::string(R"SQL(
WITH input AS (
  SELECT t.tenant_id, t.device_id, t.metric,
         timestamptz 'epoch' + t.ts_us * interval '1 microsecond' AS time, t.value, t.unit
  FROM unnest($1::bigint[], $2::bigint[], $3::text[], $4::bigint[], $5::float8[], $6::text[])
       AS t(tenant_id, device_id, metric, ts_us, value, unit)
))SQL") + kInsertAndRollup;

const std::string kStageSql =
    std::string(
        "WITH input AS (SELECT tenant_id, device_id, metric, time, value, unit FROM ste_stage)") +
    kInsertAndRollup;

// Only when fewer rows were inserted than the batch holds (a redelivery, or a device re-sending a
// key): the batch's keys whose stored row holds another value. The summary then carries the
// stored value, so it describes what the database holds. Stored rows never change (first write
// wins, nothing updates `readings`), so the answer is final once the insert statement is done.
constexpr const char* kStageDiffersSql = R"SQL(
SELECT s.tenant_id, s.device_id, s.metric, (extract(epoch FROM s.time) * 1000000)::bigint, r.value
FROM ste_stage s
JOIN readings r ON r.tenant_id = s.tenant_id AND r.device_id = s.device_id
               AND r.metric = s.metric AND r.time = s.time
WHERE r.value <> s.value
)SQL";

constexpr const char* kUnnestDiffersSql = R"SQL(
SELECT t.tenant_id, t.device_id, t.metric, t.ts_us, r.value
FROM unnest($1::bigint[], $2::bigint[], $3::text[], $4::bigint[], $5::float8[], $6::text[])
     AS t(tenant_id, device_id, metric, ts_us, value, unit)
JOIN readings r ON r.tenant_id = t.tenant_id AND r.device_id = t.device_id AND r.metric = t.metric
               AND r.time = timestamptz 'epoch' + t.ts_us * interval '1 microsecond'
WHERE r.value <> t.value
)SQL";

std::vector<StoredValue> stored_values(const PgResult& r) {
  std::vector<StoredValue> out;
  out.reserve(static_cast<size_t>(r.rows()));
  for (int i = 0; i < r.rows(); ++i) {
    out.push_back(
        {r.int64(i, 0), r.int64(i, 1), std::string(r.text(i, 2)), r.int64(i, 3), r.float8(i, 4)});
  }
  return out;
}

constexpr const char* kCreateStage =
    "CREATE TEMP TABLE IF NOT EXISTS ste_stage (tenant_id bigint, device_id bigint, metric text, "
    "time timestamptz, value double precision, unit text) ON COMMIT DELETE ROWS";
const std::string kCopyStage = "COPY ste_stage FROM STDIN (FORMAT binary)";
constexpr const char* kUndefinedTable = "42P01";

void rollback_quietly(PgConnection& db) {
  if (!db.healthy()) return;
  try {
    db.exec("ROLLBACK");
  } catch (const PgError&) {
    // The connection is being lost; the caller's retry reconnects.
  }
}
}  // namespace

std::string_view write_method_name(WriteMethod m) {
  return m == WriteMethod::copy ? "copy" : "unnest";
}

std::optional<WriteMethod> parse_write_method(std::string_view s) {
  if (s == "copy") return WriteMethod::copy;
  if (s == "unnest") return WriteMethod::unnest;
  return std::nullopt;
}

WriteResult BatchWriter::write(std::span<const BufferedReading> readings) {
  if (readings.empty()) return {};
  return method_ == WriteMethod::copy ? write_copy(readings) : write_unnest(readings);
}

std::vector<PgParam> encode_unnest_params(std::span<const BufferedReading> readings) {
  PgArrayBuilder tenants, devices, metrics, ts, values, units;
  const size_t n = readings.size();
  tenants.reserve(n * 4);
  devices.reserve(n * 6);
  metrics.reserve(n * 16);
  ts.reserve(n * 18);
  values.reserve(n * 12);
  units.reserve(n * 6);
  for (const auto& br : readings) {
    tenants.add(br.tenant_id);
    devices.add(br.device_id);
    metrics.add(std::string_view{br.reading.metric});
    ts.add(static_cast<std::int64_t>(to_epoch_us(br.reading.ts)));
    values.add(br.reading.value);
    units.add(br.reading.unit);
  }
  return {tenants.finish(), devices.finish(), metrics.finish(),
          ts.finish(),      values.finish(),  units.finish()};
}

std::string encode_copy_rows(std::span<const BufferedReading> readings) {
  PgCopyBuffer rows;
  rows.reserve(readings.size() * 80);
  for (const auto& br : readings) {
    rows.begin_row(6);
    rows.add_int64(br.tenant_id);
    rows.add_int64(br.device_id);
    rows.add_text(br.reading.metric);
    rows.add_timestamptz_us(static_cast<std::int64_t>(to_epoch_us(br.reading.ts)));
    rows.add_float8(br.reading.value);
    if (br.reading.unit) {
      rows.add_text(*br.reading.unit);
    } else {
      rows.add_null();
    }
  }
  return rows.finish();
}

WriteResult BatchWriter::write_unnest(std::span<const BufferedReading> readings) {
  const auto params = encode_unnest_params(readings);
  auto r = db_.exec(kUnnestSql, params);
  WriteResult out{r.int64(0, 0), r.int64(0, 1), {}};
  // One statement, committed on its own; the check after it is still exact because stored rows
  // never change (see kStageDiffersSql).
  if (out.inserted < static_cast<std::int64_t>(readings.size())) {
    out.differing = stored_values(db_.exec(kUnnestDiffersSql, params));
  }
  return out;
}

WriteResult BatchWriter::write_copy(std::span<const BufferedReading> readings) {
  const std::string data = encode_copy_rows(readings);
  try {
    db_.exec("BEGIN");
    try {
      db_.copy_in(kCopyStage, data);
    } catch (const PgError& e) {
      // First batch on this session (or after a reconnect): the temp table does not exist yet.
      if (e.sqlstate() != kUndefinedTable) throw;
      db_.exec("ROLLBACK");
      db_.exec(kCreateStage);
      db_.exec("BEGIN");
      db_.copy_in(kCopyStage, data);
    }
    auto r = db_.exec(kStageSql, std::vector<PgParam>{});
    WriteResult out{r.int64(0, 0), r.int64(0, 1), {}};
    // Before COMMIT: the stage table empties on commit. The common path (everything inserted)
    // skips this query.
    if (out.inserted < static_cast<std::int64_t>(readings.size())) {
      out.differing = stored_values(db_.exec(kStageDiffersSql));
    }
    db_.exec("COMMIT");
    return out;
  } catch (const PgError&) {
    rollback_quietly(db_);
    throw;
  }
}

}  // namespace ste::ingest
