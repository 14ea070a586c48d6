#include "evaluator/alerts/episode_timer.hpp"

#include <fmt/format.h>

#include "common/pg_transaction.hpp"
#include "common/time_format.hpp"
#include "evaluator/alerts/alert_row.hpp"
#include "evaluator/alerts/episode_events.hpp"

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
ORDER BY a.last_notified_at
)SQL";

// Under the lock: still firing, notified, unacknowledged, and not repeated by anyone since the
// candidate was read; then marked sent.
constexpr const char* kClaimSql = R"SQL(
UPDATE alerts SET last_notified_at = now()
WHERE tenant_id = $1 AND id = $2 AND status = 'firing' AND notified AND acked_at IS NULL
  AND (extract(epoch FROM last_notified_at) * 1000000)::bigint = $3::bigint
RETURNING id
)SQL";

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
  auto due = db.exec(kCandidatesSql);
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
  tx.commit();
  return out;
}

EpisodeTimer::EpisodeTimer(PgPool& pool, Publisher& events, TargetDefaults defaults,
                           std::chrono::milliseconds interval, prometheus::Registry& registry,
                           prometheus::Counter& publish_errors)
    : pool_(pool),
      events_(events),
      defaults_(std::move(defaults)),
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
      publish_errors_(publish_errors),
      task_("episode timer", interval, [this] { run(); }) {}

void EpisodeTimer::run() {
  TimerRun r;
  {
    auto db = pool_.acquire();
    r = run_episode_timer(*db, defaults_);
  }
  if (!r.ran) return;
  runs_.Increment();
  repeats_.Increment(r.repeated);
  for (const auto& n : r.notices) publish_notice(events_, publish_errors_, n);
}

}  // namespace ste::eval
