// ste-nodatabench (benchmark scenario 8): how long one run of the no-data rules takes
// (docs/ALERTING.md §4, target < 1 s at 100,000 series), measured on the product's own
// run_no_data(): the set-based query over rules × devices × received times, and the episodes it
// changes. The result is one JSON line on stdout.
//
// It sets up its own tenant `nodatabench` (replacing a previous run's): --devices devices
// (nd-00000..) reporting --metrics metrics each (m0..), every series received within the last
// few minutes, and one tenant-wide no_data rule per metric (silent_minutes 10) plus one on the
// whole device (metric "*"): devices × metrics series pairs and devices device pairs. Phases:
//   steady    nothing silent: the query finds nothing to change (the common case, every run);
//   onset     --silent-percent of the devices stop: their series and device pairs fire;
//   open      the same, with those episodes open: nothing changes;
//   recovery  they report again: every open episode resolves.
// Each phase's run is checked to have done exactly what it should, or the bench fails.
#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <iostream>
#include <string>
#include <vector>

#include "common/json_writer.hpp"
#include "common/log.hpp"
#include "common/pg_connection.hpp"
#include "common/settings.hpp"
#include "evaluator/alerts/no_data_sweep.hpp"

namespace {

using SteadyClock = std::chrono::steady_clock;
namespace eval = ste::eval;

constexpr const char* kTenant = "nodatabench";

struct Options {
  ste::CommonSettings common;
  std::uint32_t devices = 10000;
  std::uint32_t metrics = 10;
  std::uint32_t repeat = 5;
  std::uint32_t silent_percent = 1;
};

/// Replaces a previous run's tenant (cascading to devices, rules and alerts; series_activity has
/// no foreign key) and creates devices, fresh received times and rules. Returns the tenant id.
std::int64_t set_up(ste::PgConnection& db, const Options& o) {
  db.exec("BEGIN");
  db.exec("DELETE FROM series_activity WHERE tenant_id IN (SELECT id FROM tenants WHERE slug = $1)",
          {kTenant});
  db.exec("DELETE FROM tenants WHERE slug = $1", {kTenant});
  const auto tenant = db.exec(
                            "INSERT INTO tenants (slug, name) VALUES ($1, 'ste-nodatabench') "
                            "RETURNING id",
                            {kTenant})
                          .int64(0, 0);
  const std::string t = std::to_string(tenant);
  // Created an hour ago and received 0-5 minutes ago (random per series and device).
  db.exec(
      "INSERT INTO devices (tenant_id, device_key, created_at, last_seen_at) "
      "SELECT $1, format('nd-%s', lpad(d::text, 5, '0')), now() - interval '1 hour', "
      "now() - random() * interval '5 minutes' FROM generate_series(0, $2::int - 1) d",
      {t, std::to_string(o.devices)});
  db.exec(
      "INSERT INTO series_activity (tenant_id, device_id, metric, last_received_at) "
      "SELECT $1, d.id, 'm' || m, now() - random() * interval '5 minutes' "
      "FROM devices d CROSS JOIN generate_series(0, $2::int - 1) m WHERE d.tenant_id = $1",
      {t, std::to_string(o.metrics)});
  db.exec(
      "INSERT INTO alert_rules (tenant_id, name, metric, condition, silent_minutes, created_at) "
      "SELECT $1, 'nodatabench-' || m, 'm' || m, 'no_data', 10, now() - interval '1 hour' "
      "FROM generate_series(0, $2::int - 1) m",
      {t, std::to_string(o.metrics)});
  db.exec(
      "INSERT INTO alert_rules (tenant_id, name, metric, condition, silent_minutes, created_at) "
      "VALUES ($1, 'nodatabench-device', '*', 'no_data', 10, now() - interval '1 hour')",
      {t});
  db.exec("COMMIT");
  db.exec("ANALYZE devices");
  db.exec("ANALYZE series_activity");
  db.exec("ANALYZE alert_rules");
  return tenant;
}

/// The evaluators have watched for a day: the start-up guard does not hold anything back.
void watched_long(ste::PgConnection& db) {
  db.exec(
      "INSERT INTO nodata_timer (id, running_since, last_run_at) "
      "VALUES (1, now() - interval '1 day', now()) ON CONFLICT (id) DO UPDATE SET "
      "running_since = excluded.running_since, last_run_at = excluded.last_run_at");
}

/// The first `n` devices go silent (received 20 minutes ago) or report again (now).
void set_received(ste::PgConnection& db, std::int64_t tenant, std::uint32_t n, bool silent) {
  const std::string when = silent ? "now() - interval '20 minutes'" : "now()";
  const std::string t = std::to_string(tenant);
  const std::string keys = fmt::format("nd-{:05}", n);
  db.exec(fmt::format("UPDATE devices SET last_seen_at = {} WHERE tenant_id = $1 AND "
                      "device_key < $2",
                      when),
          {t, keys});
  db.exec(fmt::format("UPDATE series_activity s SET last_received_at = {} FROM devices d "
                      "WHERE d.tenant_id = $1 AND d.device_key < $2 AND s.tenant_id = $1 "
                      "AND s.device_id = d.id",
                      when),
          {t, keys});
}

struct Timed {
  double seconds = 0;
  eval::NoDataRun run;
};

Timed timed_run(ste::PgConnection& db, const eval::NoDataSettings& settings) {
  watched_long(db);
  const auto start = SteadyClock::now();
  Timed t;
  t.run = eval::run_no_data(db, {}, settings, [] { return std::optional<std::int64_t>{0}; });
  t.seconds = std::chrono::duration<double>(SteadyClock::now() - start).count();
  if (!t.run.ran) throw std::runtime_error("another process holds the no-data timer");
  return t;
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const auto n = v.size();
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

void expect(bool ok, const std::string& what) {
  if (!ok) throw std::runtime_error("bench check failed: " + what);
}

void write_phase(ste::JsonWriter& w, const char* name, const std::vector<double>& seconds) {
  w.key(name).begin_object();
  w.field("median_s", std::round(median(seconds) * 1000) / 1000);
  w.field("max_s", std::round(*std::max_element(seconds.begin(), seconds.end()) * 1000) / 1000);
  w.field("runs", static_cast<std::uint64_t>(seconds.size()));
  w.end_object();
}

int run(const Options& o) {
  ste::PgConnection db(o.common.database_url);
  const std::int64_t tenant = set_up(db, o);
  const std::uint32_t silent = std::max<std::uint32_t>(1, o.devices * o.silent_percent / 100);
  const int changes = static_cast<int>(silent * (o.metrics + 1));
  eval::NoDataSettings settings;
  settings.limit = std::max(settings.limit, changes);

  std::vector<double> steady, onset, open, recovery;
  timed_run(db, settings);  // warm-up
  for (std::uint32_t i = 0; i < o.repeat; ++i) {
    const Timed s = timed_run(db, settings);
    expect(s.run.fired == 0 && s.run.resolved == 0, "steady: nothing to change");
    steady.push_back(s.seconds);

    set_received(db, tenant, silent, true);
    const Timed on = timed_run(db, settings);
    expect(on.run.fired == changes,
           fmt::format("onset: {} fired, {} expected", on.run.fired, changes));
    onset.push_back(on.seconds);

    const Timed op = timed_run(db, settings);
    expect(op.run.fired == 0 && op.run.resolved == 0, "open: nothing to change");
    open.push_back(op.seconds);

    set_received(db, tenant, silent, false);
    const Timed rec = timed_run(db, settings);
    expect(rec.run.resolved == changes,
           fmt::format("recovery: {} resolved, {} expected", rec.run.resolved, changes));
    recovery.push_back(rec.seconds);
  }

  ste::JsonWriter w;
  w.begin_object()
      .field("scenario", "nodata")
      .field("devices", static_cast<std::uint64_t>(o.devices))
      .field("metrics", static_cast<std::uint64_t>(o.metrics))
      .field("series", static_cast<std::uint64_t>(o.devices) * o.metrics)
      .field("pairs", static_cast<std::uint64_t>(o.devices) * (o.metrics + 1))
      .field("silent_devices", static_cast<std::uint64_t>(silent))
      .field("changes_per_onset", static_cast<std::int64_t>(changes));
  write_phase(w, "steady", steady);
  write_phase(w, "onset", onset);
  write_phase(w, "open", open);
  write_phase(w, "recovery", recovery);
  w.end_object();
  std::cout << w.str() << std::endl;

  db.exec("DELETE FROM series_activity WHERE tenant_id = $1", {std::to_string(tenant)});
  db.exec("DELETE FROM tenants WHERE id = $1", {std::to_string(tenant)});
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  CLI::App app{"ste-nodatabench: the duration of one no-data run at fleet scale"};
  app.get_formatter()->column_width(40);
  ste::add_common_options(app, o.common);
  app.add_option("--devices", o.devices, "devices of the bench tenant")
      ->check(CLI::Range(1u, 1'000'000u))
      ->capture_default_str();
  app.add_option("--metrics", o.metrics, "metrics per device, each with a no_data rule")
      ->check(CLI::Range(1u, 1000u))
      ->capture_default_str();
  app.add_option("--repeat", o.repeat, "timed repetitions of the four phases (after a warm-up)")
      ->check(CLI::Range(1u, 1000u))
      ->capture_default_str();
  app.add_option("--silent-percent", o.silent_percent, "devices that go silent in the onset")
      ->check(CLI::Range(0u, 100u))
      ->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  try {
    ste::log::init("ste-nodatabench", o.common.log_format, o.common.log_level);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "ste-nodatabench: %s\n", e.what());
    return 2;
  }
  try {
    return run(o);
  } catch (const std::exception& e) {
    ste::log::error("ste-nodatabench failed", {{"error", e.what()}});
    return 1;
  }
}
