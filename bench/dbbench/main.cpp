// ste-dbbench: how fast can PostgreSQL take readings on the product schema, without NATS or
// parsing in the way? One method and configuration per run; each repetition starts from empty
// readings/readings_1m tables after a CHECKPOINT, writes --readings rows and verifies them
// exactly. Prints one JSON line with rows/s per repetition and their median.
//
// Each repetition also starts with no received times (series_activity empty, devices'
// last_seen_at NULL), so every series' row is written during the repetition: with the default
// 200,000 readings over 4,000 series that is one activity upsert per 50 readings, about ten
// times what the pipeline writes at the same rate (one per series per 15 s), i.e. the figure
// includes a pessimistic share of activity writes.
//
// Methods:
//   copy_ceiling  binary COPY straight into the partitioned `readings` (no conflict handling, no
//                 rollup): the raw ceiling.
//   original      the original design's write path: one INSERT ... SELECT FROM unnest(...) ON
//                 CONFLICT DO NOTHING per 100 readings, with the rollup folded in the same
//                 statement (batch forced to 100).
//   unnest, copy  the product's BatchWriter (ingester/batch_writer.cpp) with that write method.
//   copy_no_rollup  the copy method's staging and idempotent insert without the rollup: what the
//                 in-statement rollup costs.
//
// The data has the shape of the pipeline benchmark: --devices x --metrics series, each getting a
// reading every 1/--series-rate seconds, in arrival order (time-major), so batches touch the same
// number of rollup rows they would in the pipeline.
#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <iostream>
#include <span>
#include <thread>

#include "common/json_writer.hpp"
#include "common/log.hpp"
#include "common/pg_connection.hpp"
#include "common/settings.hpp"
#include "ingester/batch_writer.hpp"
#include "ingester/partition_keeper.hpp"

namespace {

using ste::ingest::BufferedReading;

struct Options {
  ste::CommonSettings common;
  std::string method = "copy";
  int batch = 10000;
  int writers = 1;
  std::int64_t readings = 200000;
  int repeat = 3;
  int devices = 1000;
  int metrics = 4;
  double series_rate = 25.0;
};

constexpr const char* kOriginalSql = R"SQL(
WITH ins AS (
  INSERT INTO readings (tenant_id, device_id, metric, time, value, unit)
  SELECT t.tenant_id, t.device_id, t.metric,
         timestamptz 'epoch' + t.ts_us * interval '1 microsecond', t.value, t.unit
  FROM unnest($1::bigint[], $2::bigint[], $3::text[], $4::bigint[], $5::float8[], $6::text[])
       AS t(tenant_id, device_id, metric, ts_us, value, unit)
  ON CONFLICT DO NOTHING
  RETURNING tenant_id, device_id, metric, time, value
)
INSERT INTO readings_1m AS r (tenant_id, device_id, metric, bucket, n, sum, sumsq, min, max)
SELECT tenant_id, device_id, metric, date_trunc('minute', time), count(*), sum(value),
       sum(value * value), min(value), max(value)
FROM ins GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4
ON CONFLICT (tenant_id, device_id, metric, bucket) DO UPDATE
  SET n = r.n + EXCLUDED.n, sum = r.sum + EXCLUDED.sum, sumsq = r.sumsq + EXCLUDED.sumsq,
      min = LEAST(r.min, EXCLUDED.min), max = GREATEST(r.max, EXCLUDED.max)
)SQL";

/// Tenant `dbbench` and its devices; returns (tenant id, device ids).
std::pair<std::int64_t, std::vector<std::int64_t>> set_up(ste::PgConnection& db, int devices) {
  ste::ingest::PartitionKeeper(30).run(db, ste::SysClock::now());
  db.exec(
      "INSERT INTO tenants (slug, name) VALUES ('dbbench', 'dbbench') ON CONFLICT (slug) DO "
      "NOTHING");
  const std::int64_t tenant = db.exec("SELECT id FROM tenants WHERE slug = 'dbbench'").int64(0, 0);
  db.exec(
      "INSERT INTO devices (tenant_id, device_key) SELECT $1, 'dev-' || lpad(g::text, 4, '0') "
      "FROM generate_series(0, $2 - 1) g ON CONFLICT (tenant_id, device_key) DO NOTHING",
      {std::to_string(tenant), std::to_string(devices)});
  auto r = db.exec(
      "SELECT id FROM devices WHERE tenant_id = $1 AND device_key ~ '^dev-[0-9]+$' "
      "ORDER BY device_key LIMIT $2",
      {std::to_string(tenant), std::to_string(devices)});
  std::vector<std::int64_t> ids;
  for (int i = 0; i < r.rows(); ++i) ids.push_back(r.int64(i, 0));
  return {tenant, ids};
}

std::vector<BufferedReading> make_readings(const Options& o, std::int64_t tenant,
                                           const std::vector<std::int64_t>& devices,
                                           ste::TimePoint base) {
  std::vector<std::string> metric_names;
  for (int m = 0; m < o.metrics; ++m) metric_names.push_back(fmt::format("m{}", m));
  const std::int64_t series = static_cast<std::int64_t>(devices.size()) * o.metrics;
  const auto step_us = static_cast<std::int64_t>(1e6 / o.series_rate);
  std::vector<BufferedReading> out(static_cast<size_t>(o.readings));
  for (std::int64_t k = 0; k < o.readings; ++k) {
    const std::int64_t step = k / series, s = k % series;
    auto& br = out[static_cast<size_t>(k)];
    br.tenant_id = tenant;
    br.device_id = devices[static_cast<size_t>(s / o.metrics)];
    br.reading.metric = metric_names[static_cast<size_t>(s % o.metrics)];
    br.reading.ts = base + std::chrono::microseconds{step * step_us + s % 1000};
    br.reading.value = 20.0 + 5.0 * std::sin(static_cast<double>(k) * 0.001);
    br.reading.unit = "C";
  }
  return out;
}

void write_ceiling(ste::PgConnection& db, std::span<const BufferedReading> batch) {
  db.copy_in(
      "COPY readings (tenant_id, device_id, metric, time, value, unit) FROM STDIN (FORMAT binary)",
      ste::ingest::encode_copy_rows(batch));
}

void write_no_rollup(ste::PgConnection& db, std::span<const BufferedReading> batch) {
  db.exec(
      "CREATE TEMP TABLE IF NOT EXISTS bench_stage (tenant_id bigint, device_id bigint, metric "
      "text, time timestamptz, value double precision, unit text) ON COMMIT DELETE ROWS");
  db.exec("BEGIN");
  db.copy_in("COPY bench_stage FROM STDIN (FORMAT binary)", ste::ingest::encode_copy_rows(batch));
  db.exec(
      "INSERT INTO readings (tenant_id, device_id, metric, time, value, unit) SELECT * FROM "
      "bench_stage ON CONFLICT DO NOTHING");
  db.exec("COMMIT");
}

void write_original(ste::PgConnection& db, std::span<const BufferedReading> batch) {
  db.exec(kOriginalSql, ste::ingest::encode_unnest_params(batch));
}

/// Writes every batch (round-robin over the writers) and returns the elapsed seconds.
double run_once(const Options& o, std::vector<std::unique_ptr<ste::PgConnection>>& conns,
                const std::vector<BufferedReading>& rs) {
  const size_t batch = o.method == "original" ? 100 : static_cast<size_t>(o.batch);
  const size_t batches = (rs.size() + batch - 1) / batch;
  std::atomic<bool> failed{false};
  std::string error;
  std::mutex error_mu;
  const auto started = std::chrono::steady_clock::now();
  std::vector<std::thread> threads;
  for (int w = 0; w < o.writers; ++w) {
    threads.emplace_back([&, w] {
      ste::PgConnection& db = *conns[static_cast<size_t>(w)];
      try {
        for (size_t b = static_cast<size_t>(w); b < batches && !failed;
             b += static_cast<size_t>(o.writers)) {
          const size_t from = b * batch, to = std::min(rs.size(), from + batch);
          const std::span<const BufferedReading> slice(rs.data() + from, to - from);
          if (o.method == "copy_ceiling") {
            write_ceiling(db, slice);
          } else if (o.method == "copy_no_rollup") {
            write_no_rollup(db, slice);
          } else if (o.method == "original") {
            write_original(db, slice);
          } else {
            ste::ingest::BatchWriter(db, *ste::ingest::parse_write_method(o.method)).write(slice);
          }
        }
      } catch (const std::exception& e) {
        failed = true;
        std::lock_guard lock(error_mu);
        error = e.what();
      }
    });
  }
  for (auto& t : threads) t.join();
  if (failed) throw std::runtime_error("write failed: " + error);
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
}

/// Empty readings, rollup and received times (see the header comment).
void reset_tables(ste::PgConnection& admin) {
  admin.exec("TRUNCATE readings, readings_1m, series_activity");
  admin.exec("UPDATE devices SET last_seen_at = NULL WHERE last_seen_at IS NOT NULL");
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

int run(const Options& o) {
  ste::PgConnection admin(o.common.database_url);
  const auto [tenant, devices] = set_up(admin, o.devices);
  std::vector<std::unique_ptr<ste::PgConnection>> conns;
  for (int w = 0; w < o.writers; ++w)
    conns.push_back(std::make_unique<ste::PgConnection>(o.common.database_url));

  {
    // Untimed warm-up (a quarter of the rows): the first batches of a fresh process and table
    // run measurably slower, which is not the steady state being measured.
    Options warm = o;
    warm.readings = std::max<std::int64_t>(1, o.readings / 4);
    reset_tables(admin);
    (void)run_once(
        warm, conns,
        make_readings(warm, tenant, devices, ste::SysClock::now() - std::chrono::minutes{5}));
  }
  std::vector<double> rates;
  for (int rep = 0; rep < o.repeat; ++rep) {
    reset_tables(admin);
    admin.exec("CHECKPOINT");
    // A fresh time range each repetition: every row is new, as in the pipeline.
    const auto base = ste::SysClock::now() - std::chrono::minutes{5};
    const auto rs = make_readings(o, tenant, devices, base);
    const double secs = run_once(o, conns, rs);
    const std::int64_t stored = admin.exec("SELECT count(*) FROM readings").int64(0, 0);
    if (stored != o.readings)
      throw std::runtime_error(fmt::format("stored {} rows, expected {}", stored, o.readings));
    if (o.method != "copy_ceiling" && o.method != "copy_no_rollup") {
      const std::int64_t rolled =
          admin.exec("SELECT coalesce(sum(n), 0) FROM readings_1m").int64(0, 0);
      if (rolled != o.readings)
        throw std::runtime_error(
            fmt::format("rollup counts {} readings, expected {}", rolled, o.readings));
    }
    rates.push_back(static_cast<double>(o.readings) / secs);
    ste::log::info(
        "repetition done",
        {{"method", o.method}, {"rep", rep + 1}, {"seconds", secs}, {"rows_per_s", rates.back()}});
  }
  admin.exec("TRUNCATE readings, readings_1m");

  ste::JsonWriter w;
  w.begin_object();
  w.field("method", o.method);
  w.field("batch", static_cast<std::int64_t>(o.method == "original" ? 100 : o.batch));
  w.field("writers", static_cast<std::int64_t>(o.writers));
  w.field("readings", o.readings);
  w.field("series", static_cast<std::int64_t>(devices.size()) * o.metrics);
  w.key("rows_per_s");
  w.begin_array();
  for (double r : rates) w.value(std::round(r));
  w.end_array();
  w.field("median", std::round(median(rates)));
  w.end_object();
  std::cout << w.take() << std::endl;
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  CLI::App app{"ste-dbbench: database write-path ceilings on the product schema"};
  ste::add_common_options(app, o.common);
  app.add_option("--method", o.method, "copy_ceiling | copy_no_rollup | original | unnest | copy")
      ->check(CLI::IsMember({"copy_ceiling", "copy_no_rollup", "original", "unnest", "copy"}))
      ->capture_default_str();
  app.add_option("--batch", o.batch, "rows per statement (original: always 100)")
      ->check(CLI::Range(1, 1'000'000))
      ->capture_default_str();
  app.add_option("--writers", o.writers, "writer connections, batches round-robin")
      ->check(CLI::Range(1, 16))
      ->capture_default_str();
  app.add_option("--readings", o.readings, "rows per repetition")
      ->check(CLI::Range(1, 100'000'000))
      ->capture_default_str();
  app.add_option("--repeat", o.repeat, "repetitions")
      ->check(CLI::Range(1, 100))
      ->capture_default_str();
  app.add_option("--devices", o.devices, "devices")
      ->check(CLI::Range(1, 1'000'000))
      ->capture_default_str();
  app.add_option("--metrics", o.metrics, "metrics per device")
      ->check(CLI::Range(1, 1000))
      ->capture_default_str();
  app.add_option("--series-rate", o.series_rate, "readings per second per series (time spacing)")
      ->check(CLI::Range(0.01, 1e6))
      ->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  try {
    ste::log::init("dbbench", o.common.log_format, o.common.log_level);
    return run(o);
  } catch (const std::exception& e) {
    ste::log::error("dbbench failed", {{"error", e.what()}});
    return 1;
  }
}
