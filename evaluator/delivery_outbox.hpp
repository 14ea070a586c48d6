#pragma once
/// DeliveryOutbox: the SQL side of webhook delivery. claim() takes due pending rows with
/// FOR UPDATE SKIP LOCKED and leases them (next_attempt_at moved past the send timeout) in one
/// statement, so any number of evaluator instances never send the same row at once and a worker
/// that dies mid-send only delays the row until its lease ends. record() stores one attempt and
/// the row's new state in one statement. Thin adapter: the caller supplies the connection.
#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "common/pg_connection.hpp"
#include "evaluator/alert_store.hpp"
#include "evaluator/retry_policy.hpp"

namespace ste::eval {

/// The STE_* defaults, used for tenants without their own values in tenant_integrations.
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

/// Leases up to `limit` due rows, oldest first, skipping rows whose URL is in `skip_urls`.
std::vector<ClaimedDelivery> claim_deliveries(PgConnection& db, int limit,
                                              std::chrono::seconds lease,
                                              const TargetDefaults& defaults,
                                              const std::vector<std::string>& skip_urls = {});
void record_attempt(PgConnection& db, const ClaimedDelivery& d, const AttemptRecord& a);
Backlog delivery_backlog(PgConnection& db);

/// The outbox rows to write for a new alert of `tenant_id`: the tenant's own URLs where set,
/// else the defaults; a target with no URL at all gets no row.
std::vector<DeliveryTarget> targets_for_tenant(PgConnection& db, std::int64_t tenant_id,
                                               const TargetDefaults& defaults);

}  // namespace ste::eval
