#include "evaluator/alerts/episode_timer.hpp"

#include <fmt/format.h>

#include "common/log.hpp"
#include "common/pg_transaction.hpp"
#include "common/time_format.hpp"
#include "evaluator/alerts/alert_row.hpp"
#include "evaluator/alerts/episode_events.hpp"
#include "evaluator/alerts/episode_flapping.hpp"
#include "evaluator/alerts/episode_store.hpp"
#include "evaluator/evaluation/deviation_stats.hpp"
#include "evaluator/evaluation/rule_cache.hpp"
#include "evaluator/evaluation/summary_evaluator.hpp"

namespace ste::eval {

namespace {

constexpr std::int64_t kTimerLockKey = 0x5354'4554'494d;  // "STETIM", arbitrary but fixed

// Firing episodes of rules that repeat, oldest notification first, with the database clock;
// repeat_due() decides, and each one is checked again under its fingerprint lock.
constexpr const char* kCandidatesSql = R"SQL(
SELECT a.tenant_id, a.id, a.rule_id, a.device_id, r.renotify_minutes,
       (extract(epoch FROM a.last_notified_at) * 1000000)::bigint,
       (extract(epoch FROM now()) * 1000000)::bigint
FROM alerts a
JOIN alert_rules r ON r.tenant_id = a.tenant_id AND r.id = a.rule_id
WHERE a.status = 'firing' AND a.notified AND a.acked_at IS NULL
  AND r.enabled AND r.renotify_minutes > 0
  AND NOT {muted}
ORDER BY a.last_notified_at
)SQL";

// Firing, unacknowledged episodes whose firing notification a silence or an inhibition held
// back, muted no more: their notification goes out now.
constexpr const char* kUnmutedSql = R"SQL(
SELECT a.tenant_id, a.id, a.rule_id, a.device_id
FROM alerts a
WHERE a.status = 'firing' AND a.muted AND NOT a.notified AND a.acked_at IS NULL
  AND NOT {muted}
ORDER BY a.fired_at
LIMIT $1
)SQL";

// Under the lock: still so; marked notified.
constexpr const char* kUnmuteSql = R"SQL(
UPDATE alerts SET notified = true, muted = false, last_notified_at = now(),
                  version = version + 1, updated_at = now()
WHERE tenant_id = $1 AND id = $2 AND status = 'firing' AND muted AND NOT notified
  AND acked_at IS NULL
RETURNING id
)SQL";

// Under the lock: still firing, notified, unacknowledged, and not repeated by anyone since the
// candidate was read; then marked sent.
constexpr const char* kClaimSql = R"SQL(
UPDATE alerts SET last_notified_at = now()
WHERE tenant_id = $1 AND id = $2 AND status = 'firing' AND notified AND acked_at IS NULL
  AND (extract(epoch FROM last_notified_at) * 1000000)::bigint = $3::bigint
RETURNING id
)SQL";

// Open episodes whose series has stored readings newer than their fingerprint's seen_until,
// while that is older than the grace period: the rule (rule_from_row), then the episode's device
// and tenant, then its readings (the newest 10,000), oldest first.
constexpr const char* kCatchUpSql = R"SQL(
SELECT {rule_columns}, a.device_id, a.device_key, t.slug,
       x.value, (extract(epoch FROM x.time) * 1000000)::bigint
FROM alerts a
JOIN tenants t ON t.id = a.tenant_id
JOIN alert_rules r ON r.tenant_id = a.tenant_id AND r.id = a.rule_id AND r.enabled
                  AND r.condition <> 'no_data'
JOIN alert_fingerprints f
  ON f.tenant_id = a.tenant_id AND f.rule_id = a.rule_id AND f.device_id = a.device_id
CROSS JOIN LATERAL (
  SELECT value, time FROM readings
  WHERE tenant_id = a.tenant_id AND device_id = a.device_id AND metric = a.metric
    AND time > f.seen_until
  ORDER BY time DESC LIMIT 10000
) x
WHERE a.status IN ('pending', 'firing')
  AND f.seen_until < now() - $1 * interval '1 second'
ORDER BY a.tenant_id, a.rule_id, a.device_id, x.time
)SQL";

}  // namespace

CatchUp catch_up_open_episodes(PgConnection& db, const TargetDefaults& defaults,
                               std::chrono::seconds catch_up_after) {
  CatchUp out;
  static const std::string sql =
      fmt::format(fmt::runtime(kCatchUpSql), fmt::arg("rule_columns", kRuleColumns));
  auto r = db.exec(sql, {std::to_string(catch_up_after.count())});
  constexpr int k = kRuleColumnCount;  // the episode's own columns start here
  int i = 0;
  while (i < r.rows()) {
    // One group of rows per episode, oldest reading first: folded into one tuple.
    const std::optional<Rule> parsed = rule_from_row(r, i);
    const std::string rule_id(r.text(i, 0));
    const std::int64_t device_id = r.int64(i, k);
    Tuple t;
    t.tenant_id = r.int64(i, 1);
    t.device_id = device_id;
    t.metric = std::string(r.text(i, 3));
    t.device = std::string(r.text(i, k + 1));
    t.tenant = std::string(r.text(i, k + 2));
    for (; i < r.rows() && r.text(i, 0) == rule_id && r.int64(i, k) == device_id; ++i) {
      add_reading(t, r.float8(i, k + 3), from_epoch_us(r.int64(i, k + 4)));
    }
    if (!parsed) continue;
    const Rule& rule = *parsed;
    std::vector<WindowStats> stats(2);
    if (rule.condition == Condition::deviation_from_mean) {
      stats = query_window_stats(
          db, {{t.tenant_id, t.device_id, t.metric, minute_start(t.min_ts), rule.window_minutes},
               {t.tenant_id, t.device_id, t.metric, minute_start(t.max_ts), rule.window_minutes}});
    }
    const EpisodeInput in = judge_tuple(rule, t, &stats[0], &stats[1]).input;
    const TupleOutcome o = apply_tuple(
        db, in, [&db, &t, &defaults] { return targets_for_tenant(db, t.tenant_id, defaults); });
    if (o.kind != TupleOutcome::Kind::applied) continue;
    ++out.episodes;
    for (const auto& n : o.notices) out.notices.push_back(n);
  }
  return out;
}

namespace {

/// The firing notifications silences or inhibitions held back, for episodes muted no more.
void send_unmuted(PgConnection& db, const TargetDefaults& defaults, int limit, TimerRun& out) {
  static const std::string sql =
      fmt::format(fmt::runtime(kUnmutedSql), fmt::arg("muted", kAlertMutedSql));
  auto due = db.exec(sql, {std::to_string(limit)});
  for (int i = 0; i < due.rows(); ++i) {
    const std::int64_t tenant = due.int64(i, 0);
    const std::string id(due.text(i, 1));
    lock_fingerprint(db, std::string(due.text(i, 2)), due.int64(i, 3));
    if (db.exec(kUnmuteSql, {std::to_string(tenant), id}).rows() == 0) continue;
    const int seq = append_event(db, tenant, id, "unmuted", "evaluator", std::nullopt,
                                 R"({"notification":"created"})");
    const Alert a = *load_alert(db, tenant, id);
    queue_notification(db, tenant, a, seq, "created", targets_for_tenant(db, tenant, defaults));
    db.exec(
        "UPDATE alert_fingerprints SET last_notified_at = now() "
        "WHERE tenant_id = $1 AND rule_id = $2 AND device_id = $3",
        {std::to_string(tenant), std::string(due.text(i, 2)), std::to_string(due.int64(i, 3))});
    out.notices.push_back({"created", a});
    ++out.unmuted;
  }
}

}  // namespace

bool repeat_due(bool firing, bool notified, bool acked, int renotify_minutes,
                std::optional<TimePoint> last_notified_at, TimePoint now) {
  if (!firing || !notified || acked || renotify_minutes <= 0 || !last_notified_at) return false;
  return now - *last_notified_at >= std::chrono::minutes{renotify_minutes};
}

TimerRun run_episode_timer(PgConnection& db, const TargetDefaults& defaults, int limit) {
  TimerRun out;
  PgTransaction tx(db);
  if (!db.exec(fmt::format("SELECT pg_try_advisory_xact_lock({})", kTimerLockKey)).boolean(0, 0)) {
    return out;
  }
  out.ran = true;
  static const std::string candidates =
      fmt::format(fmt::runtime(kCandidatesSql), fmt::arg("muted", kAlertMutedSql));
  auto due = db.exec(candidates);
  for (int i = 0; i < due.rows() && out.repeated < limit; ++i) {
    const int renotify = static_cast<int>(due.int64(i, 4));
    const TimePoint last = from_epoch_us(due.int64(i, 5));
    if (!repeat_due(true, true, false, renotify, last, from_epoch_us(due.int64(i, 6)))) continue;
    const std::int64_t tenant = due.int64(i, 0);
    const std::string id(due.text(i, 1));
    lock_fingerprint(db, std::string(due.text(i, 2)), due.int64(i, 3));
    auto claimed =
        db.exec(kClaimSql, {std::to_string(tenant), id, std::to_string(due.int64(i, 5))});
    if (claimed.rows() == 0) continue;  // acknowledged, resolved or repeated meanwhile
    const int seq = append_event(db, tenant, id, "repeated", "evaluator", std::nullopt,
                                 fmt::format(R"({{"renotify_minutes":{}}})", renotify));
    const Alert a = *load_alert(db, tenant, id);
    queue_notification(db, tenant, a, seq, "repeated", targets_for_tenant(db, tenant, defaults));
    out.notices.push_back({"repeated", a});
    ++out.repeated;
  }
  send_unmuted(db, defaults, limit, out);
  for (auto& n : end_flapping(db, defaults, limit)) out.notices.push_back(std::move(n));
  tx.commit();
  return out;
}

EpisodeTimer::EpisodeTimer(PgPool& pool, Publisher& events, TargetDefaults defaults,
                           std::chrono::milliseconds interval, NoDataSettings no_data,
                           BacklogProbe backlog, prometheus::Registry& registry,
                           prometheus::Counter& publish_errors)
    : pool_(pool),
      events_(events),
      defaults_(std::move(defaults)),
      no_data_(no_data),
      backlog_(std::move(backlog)),
      runs_(prometheus::BuildCounter()
                .Name("ste_eval_timer_runs_total")
                .Help("Runs of the episode timer (repeat notifications) by this instance; an "
                      "instance that found another one running it does not count")
                .Register(registry)
                .Add({})),
      repeats_(prometheus::BuildCounter()
                   .Name("ste_eval_repeats_total")
                   .Help("Repeat notifications (renotify_minutes) queued by this instance")
                   .Register(registry)
                   .Add({})),
      caught_up_(prometheus::BuildCounter()
                     .Name("ste_eval_episodes_caught_up_total")
                     .Help("Open episodes the episode timer applied stored readings to that no "
                           "summary had applied (a clearing tuple skipped while another instance "
                           "opened the episode)")
                     .Register(registry)
                     .Add({})),
      nodata_fired_(prometheus::BuildCounter()
                        .Name("ste_eval_nodata_fired_total")
                        .Help("No-data episodes this instance raised (docs/ALERTING.md §4)")
                        .Register(registry)
                        .Add({})),
      nodata_resolved_(prometheus::BuildCounter()
                           .Name("ste_eval_nodata_resolved_total")
                           .Help("No-data episodes this instance resolved because a reading "
                                 "arrived")
                           .Register(registry)
                           .Add({})),
      nodata_held_family_(prometheus::BuildGauge()
                              .Name("ste_eval_nodata_held")
                              .Help("Silent devices or series whose no-data episode the last "
                                    "no-data run of this instance held back, by reason: "
                                    "starting (watched for less than silent_minutes) or backlog "
                                    "(SENSORS backlog above STE_NODATA_MAX_LAG or unknown)")
                              .Register(registry)),
      nodata_held_starting_(nodata_held_family_.Add({{"reason", "starting"}})),
      nodata_held_backlog_(nodata_held_family_.Add({{"reason", "backlog"}})),
      nodata_run_seconds_(prometheus::BuildGauge()
                              .Name("ste_eval_nodata_run_seconds")
                              .Help("How long the last no-data run of this instance took (the "
                                    "set-based query and the episodes it changed)")
                              .Register(registry)
                              .Add({})),
      catch_up_after_(std::max(std::chrono::seconds{30},
                               2 * std::chrono::duration_cast<std::chrono::seconds>(interval))),
      publish_errors_(publish_errors),
      task_("episode timer", interval, [this] { run(); }) {}

void EpisodeTimer::run_no_data_rules() {
  const auto start = std::chrono::steady_clock::now();
  NoDataRun n;
  {
    auto db = pool_.acquire();
    n = run_no_data(*db, defaults_, no_data_, backlog_);
  }
  if (!n.ran) return;
  nodata_run_seconds_.Set(
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  nodata_fired_.Increment(n.fired);
  nodata_resolved_.Increment(n.resolved);
  nodata_held_starting_.Set(n.held_starting);
  nodata_held_backlog_.Set(n.held_backlog);
  if (hold_log_.update(n.hold)) {
    if (n.hold == NoDataHold::none) {
      log::info("no-data alerts no longer held back", {});
    } else {
      log::warn(
          "no-data alerts held back",
          {{"reason", n.hold_reason}, {"held", std::to_string(n.held_starting + n.held_backlog)}});
    }
  }
  for (const auto& notice : n.notices) publish_notice(events_, publish_errors_, notice);
}

void EpisodeTimer::run() {
  run_no_data_rules();
  TimerRun r;
  {
    auto db = pool_.acquire();
    r = run_episode_timer(*db, defaults_);
  }
  if (!r.ran) return;
  runs_.Increment();
  repeats_.Increment(r.repeated);
  for (const auto& n : r.notices) publish_notice(events_, publish_errors_, n);
  CatchUp c;
  {
    auto db = pool_.acquire();
    c = catch_up_open_episodes(*db, defaults_, catch_up_after_);
  }
  caught_up_.Increment(c.episodes);
  for (const auto& n : c.notices) publish_notice(events_, publish_errors_, n);
}

}  // namespace ste::eval
