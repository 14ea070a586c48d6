// ste-evalbench (benchmark scenario 4): tuples evaluated per second by the product's set-based
// SummaryEvaluator (threshold rules in memory, ONE deviation statistics query per summary) against
// the original design's "one query per tuple". Both paths see the same summary, rules and history,
// and must reach the same decisions; the result is one JSON line on stdout. Since alert episodes
// (schema 005) the set-based path includes the lifecycle: one query per summary for the open
// episodes of tuples that cross nothing, and a transaction per crossing; set_based_firing times
// summaries in which --firing-percent of the threshold series keep an episode firing.
//
// It sets up its own tenant `evalbench` (replacing a previous run's): --tuples series (devices
// eb-00000.. × metrics m0..m9), --history-minutes of readings_1m buckets before the current
// minute, and --rules device-specific rules, alternately above_threshold (threshold 1000) and
// deviation_from_mean (50 stddevs, window 60). Nothing fires and every deviation check has enough
// buckets, so the measurement is the evaluation itself; the bench refuses to report otherwise.
#include <fmt/format.h>
#include <prometheus/registry.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <iostream>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "common/json_writer.hpp"
#include "common/log.hpp"
#include "common/nats_client.hpp"
#include "common/pg_connection.hpp"
#include "common/settings.hpp"
#include "common/uuid.hpp"
#include "evaluator/evaluation/deviation_stats.hpp"
#include "evaluator/evaluation/eval_metrics.hpp"
#include "evaluator/evaluation/rule_cache.hpp"
#include "evaluator/evaluation/rule_evaluator.hpp"
#include "evaluator/evaluation/summary_evaluator.hpp"

namespace {

using SteadyClock = std::chrono::steady_clock;
using namespace std::chrono_literals;
namespace eval = ste::eval;

constexpr const char* kTenant = "evalbench";
constexpr int kMetricsPerDevice = 10;

struct Options {
  ste::CommonSettings common;
  std::uint32_t tuples = 1000;
  std::uint32_t rules = 1000;
  std::uint32_t repeat = 5;
  std::uint32_t history_minutes = 90;
  std::uint32_t firing_percent = 5;
};

/// One (device, metric) of the bench tenant: series i is device i / 10, metric m(i % 10).
struct Series {
  std::int64_t device_id = 0;
  std::string device;
  std::string metric;
};

struct Fixture {
  std::int64_t tenant_id = 0;
  std::vector<Series> series;
};

std::string device_key(std::uint32_t d) { return fmt::format("eb-{:05}", d); }

// The SQL mirrors device_key() and the series layout: format('eb-%s', lpad(...)) and i / 10.
constexpr const char* kDevicesSql = R"SQL(
INSERT INTO devices (tenant_id, device_key)
SELECT $1, format('eb-%s', lpad(d::text, 5, '0')) FROM generate_series(0, $2::int - 1) d
)SQL";

// One row per series and minute before the current one. Bucket averages scatter uniformly in
// 20 ± 1 (stddev ≈ 0.58), each bucket 60 readings with a spread of 0.5: a plausible sensor.
// random() sits in the inner select list so it is drawn per row, not once.
constexpr const char* kHistorySql = R"SQL(
INSERT INTO readings_1m (tenant_id, device_id, metric, bucket, n, sum, sumsq, min, max)
SELECT $1, dev.id, s.metric, s.bucket, 60, 60 * s.a, 60 * (s.a * s.a + 0.25), s.a - 1, s.a + 1
FROM (
  SELECT format('eb-%s', lpad((i / 10)::text, 5, '0')) AS device_key, 'm' || (i % 10) AS metric,
         date_trunc('minute', now()) - k * interval '1 minute' AS bucket,
         20 + (random() - 0.5) * 2 AS a
  FROM generate_series(0, $2::int - 1) i CROSS JOIN generate_series(1, $3::int) k
) s
JOIN devices dev ON dev.tenant_id = $1 AND dev.device_key = s.device_key
)SQL";

// Rule r belongs to series r % tuples; even rules are thresholds, odd ones deviations. With
// rules == tuples (the default) every tuple matches exactly one rule.
constexpr const char* kRulesSql = R"SQL(
INSERT INTO alert_rules (tenant_id, name, metric, device_key, condition, threshold,
                         window_minutes, cooldown_minutes)
SELECT $1, 'evalbench-' || r, 'm' || ((r % $2::int) % 10),
       format('eb-%s', lpad(((r % $2::int) / 10)::text, 5, '0')),
       CASE WHEN r % 2 = 0 THEN 'above_threshold' ELSE 'deviation_from_mean' END,
       CASE WHEN r % 2 = 0 THEN 1000 ELSE 50 END, 60, 15
FROM generate_series(0, $3::int - 1) r
)SQL";

/// Replaces whatever a previous run left (the tenant cascades to devices, rules and alerts;
/// readings_1m and readings carry no foreign key) in one transaction.
Fixture set_up(ste::PgConnection& db, const Options& o) {
  const std::string tuples = std::to_string(o.tuples);
  db.exec("BEGIN");
  try {
    db.exec("DELETE FROM readings_1m WHERE tenant_id IN (SELECT id FROM tenants WHERE slug = $1)",
            {kTenant});
    db.exec("DELETE FROM readings WHERE tenant_id IN (SELECT id FROM tenants WHERE slug = $1)",
            {kTenant});
    db.exec("DELETE FROM tenants WHERE slug = $1", {kTenant});
    // No API key: the bench never calls the API.
    auto t = db.exec("INSERT INTO tenants (slug, name) VALUES ($1, 'ste-evalbench') RETURNING id",
                     {kTenant});
    Fixture f;
    f.tenant_id = t.int64(0, 0);
    const std::string tenant_id = std::to_string(f.tenant_id);
    const auto devices = (o.tuples + kMetricsPerDevice - 1) / kMetricsPerDevice;
    db.exec(kDevicesSql, {tenant_id, std::to_string(devices)});
    db.exec(kHistorySql, {tenant_id, tuples, std::to_string(o.history_minutes)});
    db.exec(kRulesSql, {tenant_id, tuples, std::to_string(o.rules)});
    db.exec("COMMIT");

    auto rows = db.exec("SELECT id, device_key FROM devices WHERE tenant_id = $1", {tenant_id});
    std::map<std::string, std::int64_t, std::less<>> ids;
    for (int i = 0; i < rows.rows(); ++i) ids.emplace(rows.text(i, 1), rows.int64(i, 0));
    for (std::uint32_t i = 0; i < o.tuples; ++i) {
      Series s;
      s.device = device_key(i / kMetricsPerDevice);
      s.device_id = ids.at(s.device);
      s.metric = fmt::format("m{}", i % kMetricsPerDevice);
      f.series.push_back(std::move(s));
    }
    return f;
  } catch (...) {
    if (db.healthy()) db.exec("ROLLBACK");
    throw;
  }
}

/// One tuple per series, values around 20, every timestamp inside the current minute. With
/// `firing_every` > 0, every firing_every-th threshold series (even series: their rule is a
/// threshold of 1000 when rules == tuples) peaks at 2000 with its newest reading: it crosses and
/// keeps its episode firing.
eval::Summary make_summary(const Fixture& f, std::mt19937_64& rng, std::uint32_t firing_every = 0) {
  std::uniform_real_distribution<double> jitter(-0.5, 0.5);
  const ste::TimePoint now = ste::SysClock::now();
  const ste::TimePoint minute = eval::minute_start(now);
  const auto in_minute = [&](std::chrono::milliseconds back) {
    return std::max(minute, now - back);
  };
  eval::Summary s;
  s.batch_id = ste::new_uuid_v4();
  s.flushed_at = now;
  for (const Series& series : f.series) {
    eval::Tuple t;
    t.tenant_id = f.tenant_id;
    t.device_id = series.device_id;
    t.tenant = kTenant;
    t.device = series.device;
    t.metric = series.metric;
    t.min = 19.5 + jitter(rng) * 0.5;
    t.max = 20.5 + jitter(rng) * 0.5;
    t.last = 20.0 + jitter(rng);
    t.min_ts = in_minute(2000ms);
    t.max_ts = in_minute(1000ms);
    t.last_ts = now;
    t.count = 3;
    const std::size_t i = s.tuples.size();
    if (firing_every > 0 && i % 2 == 0 && (i / 2) % firing_every == 0) {
      t.max = t.last = 2000;
      t.max_ts = now;
    }
    s.readings += t.count;
    s.tuples.push_back(std::move(t));
  }
  return s;
}

struct Decisions {
  std::uint64_t fire = 0;
  std::uint64_t no_fire = 0;
  std::uint64_t too_few_buckets = 0;
  bool operator==(const Decisions&) const = default;
  void count(eval::Outcome o) {
    switch (o) {
      case eval::Outcome::fire:
        ++fire;
        return;
      case eval::Outcome::no_fire:
        ++no_fire;
        return;
      case eval::Outcome::too_few_buckets:
        ++too_few_buckets;
        return;
    }
  }
};

struct Timed {
  double seconds = 0;
  Decisions decisions;
};

/// (tuple, rule) pairs the summary has to decide; counted outside the timed sections.
std::uint64_t evaluations(const eval::Summary& s, const eval::RuleSet& rules) {
  std::uint64_t n = 0;
  for (const auto& t : s.tuples) n += rules.matching(t.tenant_id, t.metric, t.device).size();
  return n;
}

double seconds_since(SteadyClock::time_point t0) {
  return std::chrono::duration<double>(SteadyClock::now() - t0).count();
}

/// The product path. SummaryEvaluator reports its decisions only through its metrics, so they
/// are read back as deltas: fire = stored + suppressed + already stored; too_few_buckets =
/// skipped; no_fire = the rest of the (tuple, rule) pairs.
Timed run_set_based(eval::SummaryEvaluator& evaluator, eval::EvalMetrics& m, const eval::Summary& s,
                    std::uint64_t pairs, ste::PgConnection& db) {
  const auto fired = [&] {
    return m.alerts_fired.Value() + m.suppressed_cooldown.Value() + m.already_stored.Value();
  };
  const double fired0 = fired();
  const double skipped0 = m.skipped_few_buckets.Value();
  const auto t0 = SteadyClock::now();
  evaluator.evaluate(s, db);
  Timed out;
  out.seconds = seconds_since(t0);
  out.decisions.fire = static_cast<std::uint64_t>(std::llround(fired() - fired0));
  out.decisions.too_few_buckets =
      static_cast<std::uint64_t>(std::llround(m.skipped_few_buckets.Value() - skipped0));
  out.decisions.no_fire = pairs - out.decisions.fire - out.decisions.too_few_buckets;
  return out;
}

/// The original design: thresholds in memory, and one statistics query per tuple holding just
/// that tuple's requests (its min minute and max minute for each deviation rule).
Timed run_per_tuple(const eval::RuleCache& cache, const eval::Summary& s, ste::PgConnection& db) {
  const auto t0 = SteadyClock::now();
  const auto rules = cache.current();
  Timed out;
  std::vector<const eval::Rule*> deviation;
  std::vector<eval::StatsRequest> requests;
  for (const auto& tuple : s.tuples) {
    deviation.clear();
    requests.clear();
    for (const eval::Rule* rule : rules->matching(tuple.tenant_id, tuple.metric, tuple.device)) {
      if (rule->condition != eval::Condition::deviation_from_mean) {
        out.decisions.count(eval::evaluate_threshold(*rule, tuple).outcome);
        continue;
      }
      deviation.push_back(rule);
      requests.push_back({tuple.tenant_id, tuple.device_id, tuple.metric,
                          eval::minute_start(tuple.min_ts), rule->window_minutes});
      requests.push_back({tuple.tenant_id, tuple.device_id, tuple.metric,
                          eval::minute_start(tuple.max_ts), rule->window_minutes});
    }
    if (deviation.empty()) continue;
    const auto stats = eval::query_window_stats(db, requests);
    for (size_t i = 0; i < deviation.size(); ++i) {
      out.decisions.count(
          eval::evaluate_deviation(*deviation[i], tuple, stats[2 * i], stats[2 * i + 1]).outcome);
    }
  }
  out.seconds = seconds_since(t0);
  return out;
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2.0;
}

void write_path(ste::JsonWriter& w, std::string_view key, const std::vector<double>& rates) {
  w.key(key).begin_object().key("tuples_per_s").begin_array();
  for (double r : rates) w.value(std::round(r));
  w.end_array().field("median", std::round(median(rates))).end_object();
}

/// Both paths must decide the same, and the data must make them do real work: no firing (which
/// would time alert writes instead of evaluation) and no skipped deviation check (which would
/// time nothing).
bool check(const Decisions& set, const Decisions& per, std::uint64_t pairs, std::uint32_t rep) {
  const auto fields = [](const Decisions& d) {
    return fmt::format("fire={} no_fire={} too_few_buckets={}", d.fire, d.no_fire,
                       d.too_few_buckets);
  };
  if (set == per && set.fire == 0 && set.too_few_buckets == 0 && set.no_fire == pairs) return true;
  ste::log::error("the two paths did not both decide no_fire for every (tuple, rule) pair",
                  {{"repetition", rep},
                   {"pairs", pairs},
                   {"set_based", fields(set)},
                   {"per_tuple", fields(per)}});
  return false;
}

int run(const Options& o) {
  ste::PgConnection db(o.common.database_url);
  const auto setup_start = SteadyClock::now();
  const Fixture fixture = set_up(db, o);
  ste::log::info("fixture ready", {{"tenant_id", fixture.tenant_id},
                                   {"series", fixture.series.size()},
                                   {"rules", o.rules},
                                   {"history_minutes", o.history_minutes},
                                   {"seconds", seconds_since(setup_start)}});
  db.exec("ANALYZE readings_1m");  // fresh rows: give the planner the statistics it would have

  eval::RuleCache cache(o.common.database_url);
  cache.start();  // loads synchronously: the rules are in memory before anything is timed
  ste::NatsSettings ns = o.common.nats;
  ns.name = "ste-evalbench";
  ste::NatsClient nats(ns);  // SummaryEvaluator publishes firings; here nothing fires
  prometheus::Registry registry;
  eval::EvalMetrics metrics(registry);
  eval::SummaryEvaluator evaluator(cache, nats, metrics, [](std::int64_t, ste::PgConnection&) {
    return std::vector<eval::DeliveryTarget>{};
  });

  std::mt19937_64 rng(42);
  const auto pairs_of = [&](const eval::Summary& s) { return evaluations(s, *cache.current()); };
  {
    // Warm-up, untimed: both paths' first query plans and cold pages are not part of a rate.
    const eval::Summary s = make_summary(fixture, rng);
    const std::uint64_t pairs = pairs_of(s);
    if (pairs != o.rules) {
      ste::log::error("the rule cache does not hold the bench's rules",
                      {{"expected", o.rules}, {"matched", pairs}});
      return 1;
    }
    const Timed a = run_set_based(evaluator, metrics, s, pairs, db);
    const Timed b = run_per_tuple(cache, s, db);
    if (!check(a.decisions, b.decisions, pairs, 0)) return 1;
  }

  // set_based: the window cache off, so every summary pays its one statistics query (the first
  // summary of a minute in production). set_based_cached: a later summary of the same minute,
  // whose windows the cache already holds (the steady state: a busy series is in several summaries
  // per second). per_tuple: one query per tuple, as the original design did.
  std::vector<double> set_rates, cached_rates, per_rates;
  for (std::uint32_t rep = 1; rep <= o.repeat; ++rep) {
    const eval::Summary s = make_summary(fixture, rng);
    const std::uint64_t pairs = pairs_of(s);
    evaluator.set_window_cache_enabled(false);
    const Timed a = run_set_based(evaluator, metrics, s, pairs, db);
    const Timed b = run_per_tuple(cache, s, db);
    if (!check(a.decisions, b.decisions, pairs, rep)) return 1;
    evaluator.set_window_cache_enabled(true);
    (void)run_set_based(evaluator, metrics, s, pairs, db);  // fills the cache for this minute
    const eval::Summary later = make_summary(fixture, rng);
    const Timed c = run_set_based(evaluator, metrics, later, pairs_of(later), db);
    if (!check(c.decisions, b.decisions, pairs, rep)) return 1;
    const double n = static_cast<double>(s.tuples.size());
    set_rates.push_back(n / a.seconds);
    cached_rates.push_back(n / c.seconds);
    per_rates.push_back(n / b.seconds);
    ste::log::info("repetition", {{"repetition", rep},
                                  {"set_based_ms", a.seconds * 1000.0},
                                  {"set_based_cached_ms", c.seconds * 1000.0},
                                  {"per_tuple_ms", b.seconds * 1000.0}});
  }
  // The lifecycle's steady state: firing_percent of the threshold series cross in every summary,
  // so their episodes stay firing and each is updated under its fingerprint lock (one
  // transaction each); the rest go through the one open-episode query. The first summary opens
  // the episodes (untimed).
  std::vector<double> firing_rates;
  std::int64_t firing = 0;
  if (o.firing_percent > 0) {
    const std::uint32_t every = std::max(1u, 100u / o.firing_percent);
    evaluator.set_window_cache_enabled(true);
    evaluator.evaluate(make_summary(fixture, rng, every), db);
    firing = db.exec("SELECT count(*) FROM alerts WHERE tenant_id = $1 AND status = 'firing'",
                     {std::to_string(fixture.tenant_id)})
                 .int64(0, 0);
    std::int64_t expected = 0;
    for (std::size_t i = 0; i < fixture.series.size(); i += 2) expected += (i / 2) % every == 0;
    if (o.rules < o.tuples || firing != expected) {
      ste::log::error("the lifecycle run did not open the expected episodes",
                      {{"expected", expected}, {"firing", firing}});
      return 1;
    }
    for (std::uint32_t rep = 1; rep <= o.repeat; ++rep) {
      const eval::Summary s = make_summary(fixture, rng, every);
      const auto t0 = SteadyClock::now();
      evaluator.evaluate(s, db);
      firing_rates.push_back(static_cast<double>(s.tuples.size()) / seconds_since(t0));
    }
  }
  cache.stop();

  ste::JsonWriter w;
  w.begin_object()
      .field("tuples", static_cast<std::uint64_t>(o.tuples))
      .field("rules", static_cast<std::uint64_t>(o.rules))
      .field("repeat", static_cast<std::uint64_t>(o.repeat));
  write_path(w, "set_based", set_rates);
  write_path(w, "set_based_cached", cached_rates);
  write_path(w, "per_tuple", per_rates);
  if (!firing_rates.empty()) {
    write_path(w, "set_based_firing", firing_rates);
    w.field("firing_episodes", firing);
  }
  w.field("ratio", std::round(median(set_rates) / median(per_rates) * 100.0) / 100.0);
  w.field("ratio_cached", std::round(median(cached_rates) / median(per_rates) * 100.0) / 100.0)
      .end_object();
  std::cout << w.str() << std::endl;
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  CLI::App app{
      "ste-evalbench: tuples evaluated per second, set-based evaluation vs one query per tuple"};
  app.get_formatter()->column_width(40);
  ste::add_common_options(app, o.common);
  app.add_option("--tuples", o.tuples, "tuples per summary (series: devices of 10 metrics)")
      ->check(CLI::Range(1u, 1'000'000u))
      ->capture_default_str();
  app.add_option("--rules", o.rules, "device-specific rules, half threshold, half deviation")
      ->check(CLI::Range(1u, 1'000'000u))
      ->capture_default_str();
  app.add_option("--repeat", o.repeat, "timed repetitions (after one untimed warm-up)")
      ->check(CLI::Range(1u, 10'000u))
      ->capture_default_str();
  app.add_option("--history-minutes", o.history_minutes,
                 "readings_1m buckets per series before the current minute")
      ->check(CLI::Range(1u, 1440u))
      ->capture_default_str();
  app.add_option("--firing-percent", o.firing_percent,
                 "percent of the threshold series whose episodes stay firing in the lifecycle "
                 "measurement (0 = skip it)")
      ->check(CLI::Range(0u, 100u))
      ->capture_default_str();
  CLI11_PARSE(app, argc, argv);

  try {
    ste::log::init("ste-evalbench", o.common.log_format, o.common.log_level);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "ste-evalbench: %s\n", e.what());
    return 2;
  }
  try {
    return run(o);
  } catch (const std::exception& e) {
    ste::log::error("ste-evalbench failed", {{"error", e.what()}});
    return 1;
  }
}
