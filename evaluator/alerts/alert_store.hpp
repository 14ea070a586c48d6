#pragma once
/// store_alert(): turns a firing into a stored alert, race-free across evaluator instances.
/// One transaction: an advisory lock on (rule, device) serialises concurrent evaluators; the
/// cooldown is decided under it from the alerts table by the database clock (decide_cooldown);
/// the alert and one outbox row per configured target (with the credential that belongs to the
/// target's URL, DESIGN §6) are inserted; commit. (rule_id, device_id, reading_ts) is unique, so a
/// re-evaluated summary never stores the same alert twice.
/// Thin adapter: the caller passes a connection it owns for the duration of the call.
#include <optional>
#include <string>
#include <vector>

#include "common/pg_connection.hpp"
#include "evaluator/alerts/alert.hpp"
#include "evaluator/evaluation/rule_evaluator.hpp"

namespace ste::eval {

/// A configured webhook target for a tenant's alerts, with the credential that belongs to its URL.
struct DeliveryTarget {
  std::string target;  ///< "notification_hub" | "workflow_engine"
  std::string url;
  /// "default": the evaluator's STE_* URL (its credential is not stored with the row);
  /// "tenant": the tenant's own URL, sent with `credential` (the tenant's own, nullopt = none).
  std::string credential_source = "default";
  std::optional<std::string> credential;
};

enum class StoreOutcome { stored, suppressed_by_cooldown, already_stored };

struct StoreResult {
  StoreOutcome outcome;
  std::optional<Alert> alert;  ///< set when stored
};

/// The alert a firing of `rule` on `tuple` makes, before it is stored (no id, no created_at).
/// Pure; store_alert() and the tests' fake store build alerts with it.
Alert alert_for(const Rule& rule, const Tuple& tuple, const Firing& firing);

StoreResult store_alert(PgConnection& db, const Rule& rule, const Tuple& tuple,
                        const Firing& firing, const std::vector<DeliveryTarget>& targets);

}  // namespace ste::eval
