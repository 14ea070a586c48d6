#include "admin/tenant_admin.hpp"

#include <fmt/format.h>

#include <regex>
#include <stdexcept>

#include "common/api_key.hpp"

namespace ste::admin {

CreatedTenant create_tenant(PgConnection& db, const std::string& slug, const std::string& name) {
  static const std::regex kSlug("^[a-z0-9-]{1,63}$");
  if (!std::regex_match(slug, kSlug)) {
    throw std::invalid_argument(
        fmt::format("tenant slug must match [a-z0-9-]{{1,63}}, got '{}'", slug));
  }
  const std::string key = generate_api_key();
  try {
    auto r = db.exec(
        "INSERT INTO tenants (slug, name, api_key_hash) VALUES ($1, $2, decode($3, 'hex')) "
        "RETURNING id",
        {slug, name.empty() ? slug : name, sha256_hex(key)});
    return {r.int64(0, 0), slug, key};
  } catch (const PgError& e) {
    if (e.sqlstate() == "23505")
      throw std::runtime_error(fmt::format("tenant '{}' already exists", slug));
    throw;
  }
}

}  // namespace ste::admin
