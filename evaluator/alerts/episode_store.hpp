#pragma once
/// EpisodeStore: applies the EpisodeMachine's decisions to PostgreSQL, race-free across any
/// number of evaluator instances, restarts and redelivered summaries (docs/ALERTING.md §1, §6).
///
/// - open_fingerprints(): which of a summary's (rule, device) pairs have an open episode, in one
///   round trip, so a tuple that neither crosses nor has anything to clear costs nothing more.
/// - apply_tuple(): one transaction under the fingerprint's advisory lock (lock_fingerprint):
///   read the fingerprint (seen_until, last notification, open episode) and the rule's current
///   definition, step the machine, write the episode, its timeline, and one outbox row per target
///   for each notifying transition; commit. A tuple not newer than `seen_until` changes nothing,
///   so a redelivered summary cannot transition twice. The cooldown (at most one firing
///   notification per fingerprint per cooldown_minutes, by the database clock) decides whether a
///   firing notifies; an episode that fired unnotified does not notify its resolution either.
/// - close_episode(): resolve an open episode for a reason other than clearing (manual,
///   rule_changed, rule_deleted, rule_disabled), in the caller's transaction under the lock.
///
/// The returned notices are published on NATS by the caller after the commit. Thin adapter:
/// tested against a real server (tests/integration/episode_lifecycle_test.cpp).
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "common/pg_connection.hpp"
#include "evaluator/alerts/alert_store.hpp"
#include "evaluator/alerts/episode_log.hpp"
#include "evaluator/alerts/episode_machine.hpp"
#include "evaluator/evaluation/rule_evaluator.hpp"

namespace ste::eval {

struct FingerprintKey {
  std::int64_t tenant_id = 0;
  std::string rule_id;
  std::int64_t device_id = 0;
};

/// One flag per key, in order: does the fingerprint have a pending or firing episode now.
std::vector<bool> open_fingerprints(PgConnection& db, const std::vector<FingerprintKey>& keys);

/// How one summary tuple stands against one rule: the verdict, and the reading that would open an
/// episode (set whenever verdict.any_crosses).
struct EpisodeInput {
  const Rule* rule = nullptr;
  const Tuple* tuple = nullptr;
  TupleVerdict verdict;
  std::optional<Firing> firing;
};

struct TupleOutcome {
  enum class Kind {
    applied,     ///< decided; `events` may be empty (nothing changed state)
    stale,       ///< not newer than what the fingerprint has seen: nothing written
    rule_stale,  ///< the rule was edited, disabled or deleted since it was cached: skipped
  };
  Kind kind = Kind::applied;
  std::vector<EpisodeEvent> events;
  int notified = 0;    ///< notifying transitions written to the outbox (fired, resolved)
  int suppressed = 0;  ///< firings inside the cooldown, and resolutions of unnotified firings
  std::vector<EpisodeNotice> notices;  ///< fired and resolved transitions, for NATS
};

TupleOutcome apply_tuple(PgConnection& db, const EpisodeInput& in, const TargetsLookup& targets);

/// Makes the pending episode `alert_id` firing, decided at data time `data_ts`, in the caller's
/// transaction under its fingerprint lock: the `fired` timeline entry, and the `created`
/// notification when the cooldown allows it and no active silence matches the episode (else the
/// suppression and why; a silenced firing is `muted`, and notified when the silence ends while
/// it is still firing and unacknowledged). Returns the notice to publish after the commit and
/// whether the notification went out (what the cooldown counts from).
struct Fired {
  EpisodeNotice notice;
  bool notified = false;
};
Fired fire_episode(PgConnection& db, std::int64_t tenant_id, const std::string& alert_id,
                   bool cooldown_allows, int cooldown_minutes, TimePoint data_ts,
                   const TargetsLookup& targets);

/// Resolves the open episode `alert_id` with `reason` (cleared, manual, rule_changed,
/// rule_deleted, rule_disabled) by `actor`, `data_ts` the reading it was decided at (cleared).
/// The caller holds the fingerprint lock in its transaction. The resolved notification goes out
/// (targets read then) only if the firing one did. Returns the notice to publish, or nullopt
/// when the episode was not open.
std::optional<EpisodeNotice> close_episode(PgConnection& db, std::int64_t tenant_id,
                                           const std::string& alert_id, std::string_view reason,
                                           std::string_view actor,
                                           std::optional<std::string_view> comment,
                                           const TargetsLookup& targets,
                                           std::optional<TimePoint> data_ts = std::nullopt);

/// Resolves every open episode of `rule_id` with `reason`, each under its fingerprint lock, in
/// the caller's transaction (a rule edit or delete commits with its episodes). Returns the
/// notices to publish after the commit.
std::vector<EpisodeNotice> close_rule_episodes(PgConnection& db, std::int64_t tenant_id,
                                               const std::string& rule_id, std::string_view reason,
                                               std::string_view actor,
                                               const TargetsLookup& targets);

}  // namespace ste::eval
