#include "evaluator/delivery/delivery_outbox.hpp"

#include <fmt/format.h>

#include "common/time_format.hpp"
#include "evaluator/alerts/alert.hpp"
#include "evaluator/alerts/alert_row.hpp"
#include "evaluator/alerts/alert_store.hpp"

namespace ste::eval {

namespace {
// The alert columns (kAlertColumns) come first, so alert_from_row() reads them; the row's own
// columns follow. Rows written since schema 005 carry the alert object of their transition
// (payload); older rows are sent with the alert as it is now, as before.
constexpr const char* kClaimSql = R"SQL(
WITH due AS (
  SELECT tenant_id, id FROM deliveries
  WHERE status = 'pending' AND next_attempt_at <= now() AND url <> ALL ($3::text[])
  ORDER BY next_attempt_at
  LIMIT $1
  FOR UPDATE SKIP LOCKED
), claimed AS (
  UPDATE deliveries d SET next_attempt_at = now() + $2 * interval '1 second'
  FROM due WHERE d.tenant_id = due.tenant_id AND d.id = due.id
  RETURNING d.id, d.alert_id, d.tenant_id, d.target, d.url, d.attempts, d.credential_source,
            d.credential, d.event, d.transition_seq, d.payload
)
SELECT {alert_columns},
       c.id, c.target, c.url, c.attempts,
       i.notification_hub_api_key, i.workflow_engine_secret, c.credential_source, c.credential,
       i.notification_hub_url, i.workflow_engine_url, c.event, c.transition_seq, c.payload
FROM claimed c
JOIN alerts a ON a.tenant_id = c.tenant_id AND a.id = c.alert_id
JOIN tenants t ON t.id = c.tenant_id
LEFT JOIN tenant_integrations i ON i.tenant_id = c.tenant_id
)SQL";

constexpr const char* kRecordSql = R"SQL(
WITH upd AS (
  UPDATE deliveries
  SET status = $2, attempts = $3,
      next_attempt_at = CASE WHEN $2 = 'pending' THEN now() + $4 * interval '1 millisecond' ELSE next_attempt_at END,
      last_error = $5, last_status = $6,
      credential = CASE WHEN $2 = 'pending' THEN credential END,
      delivered_at = CASE WHEN $2 = 'delivered' THEN now() ELSE NULL END
  WHERE tenant_id = $7 AND id = $1
  RETURNING next_attempt_at
)
INSERT INTO delivery_attempts (delivery_id, tenant_id, attempt, started_at, duration_ms, http_status,
                               error, outcome, next_attempt_at)
SELECT $1, $7, $3, $8::timestamptz, $9, $6, $5, $10,
       CASE WHEN $2 = 'pending' THEN (SELECT next_attempt_at FROM upd) END
)SQL";

}  // namespace

std::vector<DeliveryTarget> delivery_targets(const std::optional<TenantIntegrations>& tenant,
                                             const TargetDefaults& defaults) {
  std::vector<DeliveryTarget> out;
  const auto add = [&out](const char* target, const std::optional<std::string>& own_url,
                          const std::optional<std::string>& own_credential,
                          const std::string& default_url) {
    if (own_url) {
      if (!own_url->empty()) out.push_back({target, *own_url, "tenant", own_credential});
    } else if (!default_url.empty()) {
      out.push_back({target, default_url, "default", std::nullopt});
    }
  };
  const TenantIntegrations none;
  const TenantIntegrations& t = tenant ? *tenant : none;
  add("notification_hub", t.hub_url, t.hub_api_key, defaults.hub_url);
  add("workflow_engine", t.workflow_url, t.workflow_secret, defaults.workflow_url);
  return out;
}

std::string row_credential(const RowCredential& row, const TargetDefaults& defaults) {
  const bool hub = row.target == "notification_hub";
  const std::string& default_url = hub ? defaults.hub_url : defaults.workflow_url;
  const std::string& default_credential = hub ? defaults.hub_api_key : defaults.workflow_secret;
  if (row.source == "tenant") return row.stored.value_or(std::string());
  if (row.source == "default") return row.url == default_url ? default_credential : std::string();
  if (row.source) return {};  // unknown source: no credential rather than a guessed one
  if (row.tenant_url && *row.tenant_url == row.url) {
    return row.tenant_credential.value_or(std::string());
  }
  if (!default_url.empty() && row.url == default_url) return default_credential;
  return {};
}

std::vector<ClaimedDelivery> claim_deliveries(PgConnection& db, int limit,
                                              std::chrono::seconds lease,
                                              const TargetDefaults& defaults,
                                              const std::vector<std::string>& skip_urls) {
  PgArrayBuilder skip;
  for (const auto& u : skip_urls) skip.add(std::string_view{u});
  static const std::string sql =
      fmt::format(fmt::runtime(kClaimSql), fmt::arg("alert_columns", kAlertColumns));
  auto r = db.exec(sql, {std::to_string(limit), std::to_string(lease.count()), skip.finish()});
  std::vector<ClaimedDelivery> out;
  out.reserve(static_cast<size_t>(r.rows()));
  constexpr int k = kAlertColumnCount;  // the row's own columns start here
  for (int i = 0; i < r.rows(); ++i) {
    const Alert a = alert_from_row(r, i);
    ClaimedDelivery d;
    d.alert_id = a.id;
    d.tenant_id = r.int64(i, 28);
    d.id = std::string(r.text(i, k));
    d.target = std::string(r.text(i, k + 1));
    d.url = std::string(r.text(i, k + 2));
    d.attempts = static_cast<int>(r.int64(i, k + 3));
    d.transition.event = std::string(r.text(i, k + 10));
    d.transition.seq = static_cast<int>(r.int64(i, k + 11));
    d.alert_json = r.is_null(i, k + 12) ? alert_to_json(a) : std::string(r.text(i, k + 12));
    const bool hub = d.target == "notification_hub";
    RowCredential rc;
    rc.target = d.target;
    rc.url = d.url;
    rc.source = r.opt_text(i, k + 6);
    rc.stored = r.opt_text(i, k + 7);
    rc.tenant_url = r.opt_text(i, hub ? k + 8 : k + 9);
    rc.tenant_credential = r.opt_text(i, hub ? k + 4 : k + 5);
    d.credential = row_credential(rc, defaults);
    out.push_back(std::move(d));
  }
  return out;
}

void record_attempt(PgConnection& db, const ClaimedDelivery& d, const AttemptRecord& a) {
  const std::string status = a.verdict == AttemptVerdict::delivered ? "delivered"
                             : a.verdict == AttemptVerdict::retry   ? "pending"
                                                                    : "failed";
  PgParam http_status;
  if (a.http_status) http_status = std::to_string(*a.http_status);
  PgParam error;
  if (!a.error.empty()) {
    error = a.error;
  } else if (a.verdict != AttemptVerdict::delivered && a.http_status) {
    error = fmt::format("HTTP {}", *a.http_status);
  }
  db.exec(kRecordSql, {d.id, status, std::to_string(a.attempt),
                       std::to_string(a.retry_in ? a.retry_in->count() : 0), error, http_status,
                       std::to_string(d.tenant_id), format_rfc3339_us(a.started),
                       fmt::format("{}", a.duration_ms), std::string(verdict_name(a.verdict))});
}

Backlog delivery_backlog(PgConnection& db) {
  auto r = db.exec(
      "SELECT count(*), coalesce(extract(epoch FROM now() - min(created_at)), 0) "
      "FROM deliveries WHERE status = 'pending'");
  return {r.int64(0, 0), r.float8(0, 1)};
}

std::vector<DeliveryTarget> targets_for_tenant(PgConnection& db, std::int64_t tenant_id,
                                               const TargetDefaults& defaults) {
  auto r = db.exec(
      "SELECT notification_hub_url, notification_hub_api_key, workflow_engine_url, "
      "workflow_engine_secret FROM tenant_integrations WHERE tenant_id = $1",
      {std::to_string(tenant_id)});
  std::optional<TenantIntegrations> own;
  if (r.rows() == 1) {
    own =
        TenantIntegrations{r.opt_text(0, 0), r.opt_text(0, 1), r.opt_text(0, 2), r.opt_text(0, 3)};
  }
  return delivery_targets(own, defaults);
}

}  // namespace ste::eval
