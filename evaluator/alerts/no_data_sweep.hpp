#pragma once
/// NoDataSweep: no-data rules on the episode timer (docs/ALERTING.md §4). One run, by one
/// evaluator instance at a time (a transaction-level advisory lock; the others skip it), is one
/// transaction:
/// 1. the watch's continuity (table nodata_timer, watched_since()): a run more than `max_gap`
///    after the previous one, by any instance, starts the watch again;
/// 2. one set-based query over every enabled no_data rule × the devices in its scope, with their
///    received times (devices.last_seen_at for metric "*", series_activity for one series) and
///    their open episode: only the pairs that change come back, open episodes that heard a
///    reading first, then pairs silent for longer than silent_minutes with no open episode;
/// 3. each pair under its rule's row lock (FOR SHARE: an edit of the rule waits, and a rule
///    edited since the query is skipped) and its fingerprint lock, checked again and decided by
///    decide_no_data(): a firing episode (opened at the silence's start, `value` = minutes
///    silent, no pending period) with its notification under the rule's cooldown, or a
///    resolution (`cleared`, at the received time that ended the silence).
/// The guards (start-up, backlog) hold new episodes back, never resolutions; the SENSORS backlog
/// is asked only when a silent pair passed the start-up guard. Two instances can never raise the
/// same episode: the fingerprint lock, the re-check and the schema's one-open-episode index.
/// Thin adapter over libpq; the decisions are no_data.hpp's. Tested against real servers
/// (tests/integration/no_data_test.cpp).
#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "common/pg_connection.hpp"
#include "evaluator/alerts/episode_log.hpp"
#include "evaluator/alerts/no_data.hpp"
#include "evaluator/delivery/delivery_outbox.hpp"

namespace ste::eval {

struct NoDataSettings {
  std::chrono::seconds max_gap{60};  ///< between runs before the watch starts again
  std::int64_t max_lag = 100000;     ///< STE_NODATA_MAX_LAG; 0 = no backlog guard
  int limit = 2000;                  ///< pairs decided per run; the rest on the next run
};

/// The ingester's SENSORS backlog (messages not yet stored); nullopt when unknown.
using BacklogProbe = std::function<std::optional<std::int64_t>()>;

struct NoDataRun {
  bool ran = false;  ///< false: another instance holds the no-data timer this time
  int fired = 0;
  int resolved = 0;
  int held_starting = 0;               ///< silent pairs held back by the start-up guard
  int held_backlog = 0;                ///< ... by the backlog guard
  NoDataHold hold = NoDataHold::none;  ///< backlog when any pair was held by it, else starting
  std::string hold_reason;             ///< the reason of the first pair held by `hold`
  std::vector<EpisodeNotice> notices;  ///< committed; to publish
};

/// One run (see above). Throws PgError.
NoDataRun run_no_data(PgConnection& db, const TargetDefaults& defaults,
                      const NoDataSettings& settings, const BacklogProbe& backlog);

}  // namespace ste::eval
