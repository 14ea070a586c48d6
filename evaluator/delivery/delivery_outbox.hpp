#pragma once
/// The SQL side of webhook delivery. claim_deliveries() takes due pending rows with
/// FOR UPDATE SKIP LOCKED and leases them (next_attempt_at moved past the send timeout) in one
/// statement, so any number of evaluator instances never send the same row at once and a worker
/// that dies mid-send only delays the row until its lease ends. record_attempt() stores one
/// attempt and the row's new state in one statement (a final state clears the row's stored
/// credential). A credential belongs to its URL (DESIGN §6): delivery_targets() decides which URL
/// and credential a new row gets, row_credential() what a claimed row is sent with; both pure.
/// Thin adapter otherwise: the caller supplies the connection.
#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "common/pg_connection.hpp"
#include "evaluator/alerts/alert_store.hpp"
#include "evaluator/delivery/retry_policy.hpp"
#include "evaluator/delivery/webhook_request.hpp"

namespace ste::eval {

/// The STE_* defaults: the operator's targets, used for tenants without their own URL in
/// tenant_integrations. Their credentials go to their URLs only.
struct TargetDefaults {
  std::string hub_url;
  std::string hub_api_key;
  std::string workflow_url;
  std::string workflow_secret;
};

struct ClaimedDelivery {
  std::string id;
  std::string alert_id;
  std::int64_t tenant_id = 0;
  std::string target;  ///< notification_hub | workflow_engine
  std::string url;
  int attempts = 0;  ///< completed before this one
  std::string alert_json;
  std::string credential;  ///< hub API key or workflow secret (may be empty)
  Transition transition;   ///< the event and timeline seq it notifies (Idempotency-Key)
};

struct AttemptRecord {
  int attempt = 0;  ///< this attempt's number (1-based)
  TimePoint started{};
  double duration_ms = 0;
  std::optional<int> http_status;
  std::string error;  ///< empty when a response arrived
  AttemptVerdict verdict = AttemptVerdict::failed;
  std::optional<std::chrono::milliseconds> retry_in;  ///< set when verdict == retry
};

struct Backlog {
  std::int64_t pending = 0;
  double oldest_pending_seconds = 0;
};

/// A tenant's own settings in tenant_integrations (nullopt = not set).
struct TenantIntegrations {
  std::optional<std::string> hub_url;
  std::optional<std::string> hub_api_key;
  std::optional<std::string> workflow_url;
  std::optional<std::string> workflow_secret;
};

/// Pure. The outbox rows to write for a new alert: per target, the tenant's own URL with the
/// tenant's own credential (none if unset) where the tenant set a URL, else the STE_* URL
/// (credential_source "default", nothing stored); a target with no URL at all gets no row. A
/// tenant credential without a tenant URL is never used: it does not go to the STE_* URL.
std::vector<DeliveryTarget> delivery_targets(const std::optional<TenantIntegrations>& tenant,
                                             const TargetDefaults& defaults);

/// What a claimed outbox row carries for its credential.
struct RowCredential {
  std::string target;  ///< notification_hub | workflow_engine
  std::string url;     ///< the row's URL
  /// "default" | "tenant"; nullopt for a row written before schema 004.
  std::optional<std::string> source;
  std::optional<std::string> stored;  ///< the tenant credential written with the row
  /// The tenant's current URL and credential for this target (used for rows without a source).
  std::optional<std::string> tenant_url;
  std::optional<std::string> tenant_credential;
};

/// Pure. The credential to send a claimed row with; empty = none (no X-API-Key header, no
/// signature). "tenant": the credential stored with the row. "default": the STE_* credential of
/// the target while the row's URL is still the STE_* URL, else none (the operator moved the
/// target: the new key does not go to the old URL). No source (written before schema 004): the
/// credential of whichever source's current URL equals the row's URL, the tenant's first; none
/// when neither does.
std::string row_credential(const RowCredential& row, const TargetDefaults& defaults);

/// Leases up to `limit` due rows, oldest first, skipping rows whose URL is in `skip_urls`.
std::vector<ClaimedDelivery> claim_deliveries(PgConnection& db, int limit,
                                              std::chrono::seconds lease,
                                              const TargetDefaults& defaults,
                                              const std::vector<std::string>& skip_urls = {});
void record_attempt(PgConnection& db, const ClaimedDelivery& d, const AttemptRecord& a);
Backlog delivery_backlog(PgConnection& db);

/// The outbox rows to write for a new alert of `tenant_id` (delivery_targets() on the tenant's
/// tenant_integrations row).
std::vector<DeliveryTarget> targets_for_tenant(PgConnection& db, std::int64_t tenant_id,
                                               const TargetDefaults& defaults);

}  // namespace ste::eval
