// BatchWriter against a real PostgreSQL, for both write methods: every row stored once, the rollup
// exact under redelivery, NULL units and awkward metric names intact, and a failed batch leaves
// nothing behind and the connection usable.
#include "ingester/batch_writer.hpp"

#include <catch2/catch.hpp>
#include <cmath>

#include "common/pg_connection.hpp"
#include "common/schema_migrator.hpp"
#include "ingester/partition_keeper.hpp"
#include "tests/support/test_servers.hpp"

using namespace ste;
using namespace ste::ingest;

namespace {

struct Db {
  std::string url = ste::test::fresh_database_url();
  PgConnection conn{url};
  std::int64_t tenant = 0;
  std::int64_t device = 0;
  Db() {
    apply_migrations(conn, STE_SCHEMA_DIR);
    PartitionKeeper(30).run(conn, SysClock::now());
    tenant =
        conn.exec("INSERT INTO tenants (slug, name) VALUES ('t', 't') RETURNING id").int64(0, 0);
    device = conn.exec("INSERT INTO devices (tenant_id, device_key) VALUES ($1, 'd1') RETURNING id",
                       {std::to_string(tenant)})
                 .int64(0, 0);
  }
  long long scalar(const std::string& sql) { return conn.exec(sql).int64(0, 0); }
};

BufferedReading reading(const Db& db, std::string metric, double value, TimePoint ts,
                        std::optional<std::string> unit = "C") {
  BufferedReading br;
  br.tenant_id = db.tenant;
  br.device_id = db.device;
  br.reading.metric = std::move(metric);
  br.reading.value = value;
  br.reading.ts = ts;
  br.reading.unit = std::move(unit);
  return br;
}

}  // namespace

TEST_CASE("both write methods store each reading once and keep the rollup exact",
          "[batch_writer]") {
  const auto method = GENERATE(WriteMethod::copy, WriteMethod::unnest);
  INFO("method " << write_method_name(method));
  Db db;
  const TimePoint minute = from_epoch_ms((to_epoch_ms(SysClock::now()) / 60000 - 2) * 60000);
  std::vector<BufferedReading> batch;
  for (int i = 0; i < 100; ++i) {
    batch.push_back(reading(db, i % 2 ? "temp" : "hum\"id\\ity,{x}", i,
                            minute + std::chrono::microseconds{i * 500'123},
                            i % 3 ? std::optional<std::string>{"C"} : std::nullopt));
  }
  BatchWriter writer(db.conn, method);
  const WriteResult first = writer.write(batch);
  CHECK(first.inserted == 100);
  CHECK(first.rollup_rows == 2);

  // Redelivery of the same batch plus one new reading: only the new one counts.
  batch.push_back(reading(db, "temp", 1000, minute + std::chrono::seconds{59}));
  const WriteResult second = writer.write(batch);
  CHECK(second.inserted == 1);
  CHECK(db.scalar("SELECT count(*) FROM readings") == 101);
  CHECK(db.scalar("SELECT sum(n) FROM readings_1m") == 101);
  CHECK(db.scalar("SELECT count(*) FROM readings WHERE unit IS NULL") == 34);
  CHECK(db.scalar("SELECT count(*) FROM readings WHERE metric = 'hum\"id\\ity,{x}'") == 50);
  CHECK(db.conn.exec("SELECT max FROM readings_1m WHERE metric = 'temp'").float8(0, 0) == 1000);
  // Microsecond timestamps arrive exactly: every planned instant is present.
  CHECK(db.scalar("SELECT count(*) FROM readings r, generate_series(0, 99) g WHERE r.time = "
                  "timestamptz 'epoch' + (" +
                  std::to_string(to_epoch_us(minute)) +
                  " + g * 500123) * interval '1 microsecond'") == 100);
  CHECK(db.scalar("SELECT count(*) FROM devices WHERE last_seen_at IS NOT NULL") == 1);
}

TEST_CASE("both write methods stamp server-time received times per series, at most every 15 s",
          "[batch_writer]") {
  const auto method = GENERATE(WriteMethod::copy, WriteMethod::unnest);
  INFO("method " << write_method_name(method));
  Db db;
  BatchWriter writer(db.conn, method);
  // Device timestamps an hour old: received is still the server's now().
  const TimePoint old = SysClock::now() - std::chrono::hours{1};
  std::vector<BufferedReading> batch{reading(db, "temp", 1, old),
                                     reading(db, "temp", 2, old + std::chrono::seconds{1}),
                                     reading(db, "hum", 3, old)};
  CHECK(writer.write(batch).inserted == 3);
  CHECK(db.scalar("SELECT count(*) FROM series_activity") == 2);
  CHECK(db.scalar("SELECT count(*) FROM series_activity a JOIN devices d ON d.id = a.device_id "
                  "WHERE a.last_received_at = d.last_seen_at AND a.last_received_at > now() - "
                  "interval '1 minute'") == 2);

  // Within 15 s nothing is rewritten; a redelivery (nothing inserted) older than that is.
  db.conn.exec(
      "UPDATE series_activity SET last_received_at = now() - interval '5 seconds' "
      "WHERE metric = 'temp'");
  db.conn.exec(
      "UPDATE series_activity SET last_received_at = now() - interval '1 hour' "
      "WHERE metric = 'hum'");
  db.conn.exec("UPDATE devices SET last_seen_at = now() - interval '1 hour'");
  const WriteResult again = writer.write(batch);
  CHECK(again.inserted == 0);
  CHECK(db.scalar("SELECT count(*) FROM series_activity WHERE metric = 'temp' AND "
                  "last_received_at < now() - interval '4 seconds'") == 1);
  CHECK(db.scalar("SELECT count(*) FROM series_activity WHERE metric = 'hum' AND "
                  "last_received_at > now() - interval '1 minute'") == 1);
  CHECK(db.scalar("SELECT count(*) FROM devices WHERE last_seen_at > now() - interval '1 "
                  "minute'") == 1);
}

TEST_CASE("a failed batch writes nothing and the connection stays usable", "[batch_writer]") {
  const auto method = GENERATE(WriteMethod::copy, WriteMethod::unnest);
  INFO("method " << write_method_name(method));
  Db db;
  BatchWriter writer(db.conn, method);
  const TimePoint now = SysClock::now();
  // No partition exists for 1990: the whole batch fails, including its good reading.
  std::vector<BufferedReading> bad{reading(db, "temp", 1, now),
                                   reading(db, "temp", 2, from_epoch_ms(631152000000))};
  CHECK_THROWS_AS(writer.write(bad), PgError);
  CHECK(db.scalar("SELECT count(*) FROM readings") == 0);
  CHECK(db.scalar("SELECT count(*) FROM readings_1m") == 0);
  const WriteResult ok = writer.write(std::vector{reading(db, "temp", 3, now)});
  CHECK(ok.inserted == 1);
  CHECK(db.scalar("SELECT count(*) FROM readings") == 1);
}

TEST_CASE("the copy method recreates its staging table after a reconnect", "[batch_writer]") {
  Db db;
  BatchWriter writer(db.conn, WriteMethod::copy);
  CHECK(writer.write(std::vector{reading(db, "temp", 1, SysClock::now())}).inserted == 1);
  db.conn.reconnect();  // a new session: the temp table is gone
  CHECK(writer.write(std::vector{reading(db, "temp", 2, SysClock::now() + std::chrono::seconds{1})})
            .inserted == 1);
  CHECK(db.scalar("SELECT count(*) FROM readings") == 2);
}
