#include "ingester/batch_writer.hpp"

namespace ste::ingest {

namespace {
// Timestamps travel as epoch microseconds (bigint) so they reach PostgreSQL exactly; a float or
// text round trip would risk a different key on redelivery. ORDER BY in the rollup makes
// concurrent writers lock rollup rows in the same order (no deadlock between writer connections).
constexpr const char* kWriteBatchSql = R"SQL(
WITH input AS (
  SELECT t.tenant_id, t.device_id, t.metric,
         timestamptz 'epoch' + t.ts_us * interval '1 microsecond' AS time, t.value, t.unit
  FROM unnest($1::bigint[], $2::bigint[], $3::text[], $4::bigint[], $5::float8[], $6::text[])
       AS t(tenant_id, device_id, metric, ts_us, value, unit)
), ins AS (
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
  WHERE d.id = x.device_id AND (d.last_seen_at IS NULL OR d.last_seen_at < now() - interval '1 minute')
  RETURNING 1
)
SELECT (SELECT count(*) FROM ins), (SELECT count(*) FROM rollup), (SELECT count(*) FROM seen)
)SQL";
}  // namespace

WriteResult BatchWriter::write(const std::vector<BufferedReading>& readings) {
  if (readings.empty()) return {};
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
  auto r = db_.exec(kWriteBatchSql, {tenants.finish(), devices.finish(), metrics.finish(),
                                     ts.finish(), values.finish(), units.finish()});
  return WriteResult{r.int64(0, 0), r.int64(0, 1)};
}

}  // namespace ste::ingest
