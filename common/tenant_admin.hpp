#pragma once
/// Tenant creation: a random API key is generated, printed once, and only its SHA-256 is stored.
#include <optional>
#include <string>

#include "common/pg_connection.hpp"

namespace ste::admin {

struct CreatedTenant {
  std::int64_t id;
  std::string slug;
  std::string api_key;
};

/// Throws std::invalid_argument for a bad slug and std::runtime_error if the slug exists.
CreatedTenant create_tenant(PgConnection& db, const std::string& slug, const std::string& name);

/// A tenant's own webhook targets; an unset optional leaves the stored value, an empty string
/// clears it (the evaluator's STE_* default applies again).
struct IntegrationUpdate {
  std::optional<std::string> hub_url, hub_api_key, workflow_url, workflow_secret;
};

/// Throws std::runtime_error for an unknown tenant.
void set_integrations(PgConnection& db, const std::string& slug, const IntegrationUpdate& u);

}  // namespace ste::admin
