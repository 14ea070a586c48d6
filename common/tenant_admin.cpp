#include "common/tenant_admin.hpp"

#include <fmt/format.h>

#include <stdexcept>

#include "common/api_keys.hpp"
#include "common/identifiers.hpp"
#include "common/pg_transaction.hpp"

namespace ste::admin {

CreatedTenant create_tenant(PgConnection& db, const std::string& slug, const std::string& name) {
  if (!ident::is_tenant_slug(slug)) {
    throw std::invalid_argument(
        fmt::format("tenant slug must match [a-z0-9-]{{1,63}}, got '{}'", slug));
  }
  PgTransaction tx(db);
  std::int64_t id = 0;
  try {
    id = db.exec("INSERT INTO tenants (slug, name) VALUES ($1, $2) RETURNING id",
                 {slug, name.empty() ? slug : name})
             .int64(0, 0);
  } catch (const PgError& e) {
    if (e.sqlstate() == "23505")
      throw std::runtime_error(fmt::format("tenant '{}' already exists", slug));
    throw;
  }
  // The tenant's first key: `default`, operator (docs/ALERTING.md §2).
  auto key = create_api_key(db, id, kFirstKeyName, KeyRole::operator_);
  if (auto* e = std::get_if<KeyError>(&key)) throw std::runtime_error(e->message);
  tx.commit();
  return {id, slug, std::get<CreatedApiKey>(key).key};
}

void set_integrations(PgConnection& db, const std::string& slug, const IntegrationUpdate& u) {
  // COALESCE keeps a stored value the caller did not mention; NULLIF turns "" into "cleared".
  const auto param = [](const std::optional<std::string>& v) -> PgParam { return v; };
  auto r = db.exec(
      "INSERT INTO tenant_integrations (tenant_id, notification_hub_url, notification_hub_api_key, "
      "  workflow_engine_url, workflow_engine_secret) "
      "SELECT id, NULLIF($2, ''), NULLIF($3, ''), NULLIF($4, ''), NULLIF($5, '') FROM tenants "
      "WHERE slug = $1 "
      "ON CONFLICT (tenant_id) DO UPDATE SET "
      "  notification_hub_url = CASE WHEN $2 IS NULL THEN tenant_integrations.notification_hub_url "
      "ELSE EXCLUDED.notification_hub_url END, "
      "  notification_hub_api_key = CASE WHEN $3 IS NULL THEN "
      "tenant_integrations.notification_hub_api_key ELSE EXCLUDED.notification_hub_api_key END, "
      "  workflow_engine_url = CASE WHEN $4 IS NULL THEN tenant_integrations.workflow_engine_url "
      "ELSE EXCLUDED.workflow_engine_url END, "
      "  workflow_engine_secret = CASE WHEN $5 IS NULL THEN "
      "tenant_integrations.workflow_engine_secret ELSE EXCLUDED.workflow_engine_secret END, "
      "  updated_at = now()",
      {slug, param(u.hub_url), param(u.hub_api_key), param(u.workflow_url),
       param(u.workflow_secret)});
  if (r.affected() == 0) throw std::runtime_error(fmt::format("no tenant '{}'", slug));
}

}  // namespace ste::admin
