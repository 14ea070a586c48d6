#pragma once
/// Tenant creation: the tenant and its first API key (named `default`, role operator; see
/// common/api_keys.hpp), generated at random, printed once; only its SHA-256 is stored.
#include <optional>
#include <string>
#include <string_view>

#include "common/pg_connection.hpp"

namespace ste::admin {

/// The name of the key a new tenant starts with (and that schema 006 gave every existing key).
inline constexpr std::string_view kFirstKeyName = "default";

struct CreatedTenant {
  std::int64_t id;
  std::string slug;
  std::string api_key;  ///< the `default` key's secret
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
