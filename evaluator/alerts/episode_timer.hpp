#pragma once
/// EpisodeTimer: the time-driven part of the alert lifecycle (docs/ALERTING.md §1), run every
/// STE_NODATA_INTERVAL_S by exactly one evaluator instance at a time (a transaction-level
/// pg_try_advisory_xact_lock on a fixed key; the others skip that run). It
/// - sends repeat notifications (renotify_minutes: a firing, unacknowledged episode whose firing
///   was notified is notified again, event `repeated`), each re-checked under its fingerprint
///   lock inside the run's transaction, so a repeat is sent once even while an acknowledgement or
///   a resolve races with it;
/// - catches open episodes up with readings their fingerprint has not evaluated: a summary
///   tuple that crosses nothing is only applied where an episode is open, and that is asked
///   without a lock, so a clearing tuple evaluated while another instance was opening the
///   episode from an older one is skipped. An open episode whose fingerprint has not been
///   evaluated for `catch_up_after` while newer readings of its series are stored gets those
///   readings applied as one tuple (apply_tuple: locked, stale-safe, so racing a late summary
///   is harmless). Without it such an episode would stay firing until the next reading.
/// - sends the firing notification a silence held back once no silence matches the episode any
///   more, if it is still firing and unacknowledged (docs/ALERTING.md §3; repeats skip silenced
///   episodes and are due at once when the silence ends);
/// - ends flapping of fingerprints that have settled (episode_flapping.hpp: `flapping_ended`);
/// - runs the no-data rules (no_data_sweep.hpp), first, in their own transaction, and logs a
///   hold of the no-storm guards once per change of reason.
/// Silence ends join it (issue #17).
/// Thread-safety: run_once() on any connection the caller owns; start()/stop() from the owner.
#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/registry.h>

#include <chrono>
#include <optional>

#include "common/clock.hpp"
#include "common/periodic_task.hpp"
#include "common/pg_pool.hpp"
#include "common/publisher.hpp"
#include "evaluator/alerts/episode_log.hpp"
#include "evaluator/alerts/no_data_sweep.hpp"
#include "evaluator/delivery/delivery_outbox.hpp"

namespace ste::eval {

/// Pure: is a repeat notification due? Only for a firing episode whose firing notification went
/// out, not acknowledged, with renotify_minutes > 0, once renotify_minutes have passed since its
/// last firing or repeat notification (the boundary itself is due).
bool repeat_due(bool firing, bool notified, bool acked, int renotify_minutes,
                std::optional<TimePoint> last_notified_at, TimePoint now);

struct TimerRun {
  bool ran = false;  ///< false: another instance holds the timer this time
  int repeated = 0;
  int unmuted = 0;  ///< firing notifications sent because the silence over them ended
  std::vector<EpisodeNotice> notices;  ///< committed; to publish
};

/// One run in one transaction. At most `limit` repeats (the oldest due first); the rest are due
/// on the next run. Throws PgError.
TimerRun run_episode_timer(PgConnection& db, const TargetDefaults& defaults, int limit = 500);

struct CatchUp {
  int episodes = 0;                    ///< open episodes that had readings to catch up with
  std::vector<EpisodeNotice> notices;  ///< committed transitions; to publish
};

/// The catch-up pass (see above), for open episodes whose fingerprint's newest evaluated reading
/// is older than now - `catch_up_after` (the timer uses twice its interval, at least 30 s), with
/// the newest 10,000 readings each. Each episode is applied in its own transaction. Throws
/// PgError.
CatchUp catch_up_open_episodes(PgConnection& db, const TargetDefaults& defaults,
                               std::chrono::seconds catch_up_after);

class EpisodeTimer {
 public:
  EpisodeTimer(PgPool& pool, Publisher& events, TargetDefaults defaults,
               std::chrono::milliseconds interval, NoDataSettings no_data, BacklogProbe backlog,
               prometheus::Registry& registry, prometheus::Counter& publish_errors);
  void start() { task_.start(); }
  void stop() { task_.stop(); }

 private:
  void run();
  void run_no_data_rules();

  PgPool& pool_;
  Publisher& events_;
  TargetDefaults defaults_;
  NoDataSettings no_data_;
  BacklogProbe backlog_;
  NoDataHoldLog hold_log_;
  prometheus::Counter& runs_;
  prometheus::Counter& repeats_;
  prometheus::Counter& caught_up_;
  prometheus::Counter& nodata_fired_;
  prometheus::Counter& nodata_resolved_;
  prometheus::Family<prometheus::Gauge>& nodata_held_family_;
  prometheus::Gauge& nodata_held_starting_;
  prometheus::Gauge& nodata_held_backlog_;
  prometheus::Gauge& nodata_run_seconds_;
  std::chrono::seconds catch_up_after_;
  prometheus::Counter& publish_errors_;
  PeriodicTask task_;
};

}  // namespace ste::eval
