#pragma once
/// EpisodeFlapping: flapping applied to PostgreSQL (docs/ALERTING.md §5); the decisions are
/// flap_detector.hpp's. The recent change times and the flag live in alert_fingerprints, read
/// and written under the fingerprint's lock by whoever decides a transition, so they survive
/// restarts and every evaluator instance sees the same state. Thin adapter, tested against a
/// real server (tests/integration/flapping_test.cpp).
#include <string>

#include "common/pg_connection.hpp"
#include "evaluator/alerts/episode_log.hpp"
#include "evaluator/delivery/delivery_outbox.hpp"

namespace ste::eval {

/// What a fired or cleared transition notifies, given flapping.
enum class FlapOutcome {
  normal,     ///< not flapping: the transition's own notification
  started,    ///< flapping starts with it: flapping_started instead
  suppressed  ///< flapping already: nothing
};

/// Records a fired or cleared transition of episode `alert_id` (at the database's now) against
/// its rule's flap_changes / flap_window_minutes, in the caller's transaction under the
/// fingerprint lock. A flapping fingerprint's episode is marked `flapping`.
FlapOutcome note_transition(PgConnection& db, std::int64_t tenant_id, const std::string& alert_id);

/// The episode timer's part: ends flapping for fingerprints whose last change is at least their
/// rule's window old, each under its lock: the fingerprint and its latest episode stop flapping
/// (a firing one counts as notified from then on: flapping_ended told of it), a
/// `flapping_ended` entry and notification carrying the state it settled in. At most `limit`.
/// Returns the notices to publish after the commit.
std::vector<EpisodeNotice> end_flapping(PgConnection& db, const TargetDefaults& defaults,
                                        int limit);

}  // namespace ste::eval
