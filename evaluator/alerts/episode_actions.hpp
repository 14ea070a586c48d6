#pragma once
/// EpisodeActions: what a person does to an episode through the API (docs/ALERTING.md §2):
/// acknowledge, un-acknowledge, comment, resolve by hand.
///
/// Each action is one transaction: find the episode (scoped by tenant), take its fingerprint
/// lock (lock_fingerprint), re-read it under the lock, check the caller's expected version
/// (If-Match), decide with decide_action(), write the change, its timeline entry and, for a
/// notifying transition, the outbox rows; commit. The lock serialises the action with the
/// evaluator's transitions and with every other action on the same (rule, device), so two
/// concurrent acks write one `acked` event and a resolve cannot interleave with a firing.
/// The returned notice is published on NATS by the caller after the commit.
///
/// decide_action(), refusal_reason() and version_conflict() are pure; the rest is a thin adapter
/// over libpq, tested against a real server (tests/integration/alert_actions_test.cpp).
#include <optional>
#include <string>
#include <string_view>

#include "common/pg_connection.hpp"
#include "evaluator/alerts/alert.hpp"
#include "evaluator/alerts/alert_timeline.hpp"
#include "evaluator/alerts/episode_log.hpp"
#include "evaluator/alerts/episode_store.hpp"

namespace ste::eval {

enum class AlertAction { ack, unack, comment, resolve };

/// What an action does to an episode as it stands: change it, leave it as it is (acking an
/// acknowledged episode, un-acking one that is not: the caller gets the current object), or
/// refuse (the caller answers 409 with refusal_reason()).
enum class ActionVerdict { apply, unchanged, refused };

/// ack: firing only (unchanged when acknowledged); unack: firing only (unchanged when not
/// acknowledged); comment: any state; resolve: pending or firing.
ActionVerdict decide_action(AlertAction action, EpisodeStatus status, bool acked);

/// Why `action` is refused for an episode in `status`, naming the state, e.g. "the alert is not
/// firing yet (pending); only a firing alert can be acknowledged".
std::string refusal_reason(AlertAction action, EpisodeStatus status);

/// The message for an If-Match that names another version than `current`; nullopt when
/// `expected` is absent or equal.
std::optional<std::string> version_conflict(std::optional<int> expected, int current);

struct ActionRequest {
  std::int64_t tenant_id = 0;
  std::string alert_id;  ///< a UUID (the caller answers 404 for anything else)
  std::string actor;     ///< the API key's name: acked_by, the timeline's actor
  /// ack_comment, the comment's text, the manual resolve's comment (validated by the caller).
  std::optional<std::string> text;
  std::optional<int> expected_version;  ///< If-Match
};

struct ActionResult {
  enum class Kind { applied, unchanged, not_found, refused, version_mismatch };
  Kind kind = Kind::not_found;
  std::optional<Alert> alert;           ///< the episode after the action (all kinds but not_found)
  std::string reason;                   ///< refused, version_mismatch: the message
  std::optional<EpisodeNotice> notice;  ///< applied ack and resolve: publish after the commit
  std::optional<TimelineEntry> entry;   ///< applied comment: the entry written
};

/// Runs `action` as described above. `targets` is called, on `db` inside the transaction, only
/// when the action queues a notification (an ack or resolve of an episode whose firing was
/// notified). Throws PgError.
ActionResult perform_action(PgConnection& db, AlertAction action, const ActionRequest& request,
                            const TargetsLookup& targets);

}  // namespace ste::eval
