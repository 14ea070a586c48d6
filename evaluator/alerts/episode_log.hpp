#pragma once
/// EpisodeLog: the writes every change of an episode is made of (docs/ALERTING.md §1, §2, §6),
/// inside the caller's transaction. Whoever changes an episode (the evaluator deciding a
/// transition, the API acknowledging or resolving, a rule edit, the repeat timer) first takes
/// lock_fingerprint() in that transaction, so changes of one (rule, device) are serialised across
/// every evaluator instance and each transition is decided, logged and notified exactly once.
/// Thin adapter over libpq; tested against a real server.
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/pg_connection.hpp"
#include "evaluator/alerts/alert.hpp"
#include "evaluator/alerts/alert_store.hpp"

namespace ste::eval {

/// A notifying transition (ALERTING.md §6): `event` is created, resolved, repeated,
/// acknowledged, flapping_started or flapping_ended; `alert` the alert object after it.
/// Published on NATS after the transaction commits.
struct EpisodeNotice {
  std::string event;
  Alert alert;
};

/// The Notification Hub event_type ("sensor.alert.<event>") and the Workflow Engine event
/// ("alert.<event>") of a notice's event.
std::string hub_event_type(std::string_view event);
std::string workflow_event(std::string_view event);

/// Serialises every change to the episodes of (rule, device) until the transaction ends.
void lock_fingerprint(PgConnection& db, const std::string& rule_id, std::int64_t device_id);

/// Appends one entry to the episode's timeline and returns its seq (1, 2, ...). `actor` is
/// "evaluator" or an API key's name; `detail` a JSON object.
int append_event(PgConnection& db, std::int64_t tenant_id, const std::string& alert_id,
                 std::string_view kind, std::string_view actor,
                 std::optional<TimePoint> data_ts = std::nullopt, std::string_view detail = "{}");

/// The outbox targets of a tenant, read (on the transaction's connection) only when a transition
/// notifies.
using TargetsLookup = std::function<std::vector<DeliveryTarget>()>;

/// `targets` (none when empty), read at most once however often the result is called: one
/// transaction that notifies several transitions reads the tenant's targets once.
TargetsLookup read_once(TargetsLookup targets);

/// Writes one outbox row per target for the transition logged as `seq`, carrying the alert object
/// as it is now; the Idempotency-Key of its requests is "<alert id>:<seq>". While the alert is
/// muted (an active silence matches it, or its device's no-data episode inhibits it), every
/// event but `resolved` is muted instead (the suppression and why in the timeline) and false is
/// returned (docs/ALERTING.md §3: a resolution is notified exactly when the firing was).
bool queue_notification(PgConnection& db, std::int64_t tenant_id, const Alert& alert, int seq,
                        std::string_view event, const std::vector<DeliveryTarget>& targets);

/// "silenced by <id>, <id>" and/or "inhibited by ...": the timeline's reason for a muted
/// notification.
std::string muted_reason(const Alert& alert);

/// Logs that `transition` (fired, resolved, acknowledged) notifies nobody, and why.
void suppress_notification(PgConnection& db, std::int64_t tenant_id, const std::string& alert_id,
                           std::string_view actor, std::string_view transition,
                           std::string_view reason);

}  // namespace ste::eval
