#pragma once
/// Tenant creation: a random API key is generated, printed once, and only its SHA-256 is stored.
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

}  // namespace ste::admin
