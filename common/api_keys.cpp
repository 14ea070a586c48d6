#include "common/api_keys.hpp"

#include <fmt/format.h>

#include "common/api_key.hpp"
#include "common/identifiers.hpp"
#include "common/pg_transaction.hpp"

namespace ste::admin {

namespace {
constexpr const char* kKeyColumns =
    "id, name, role, to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"')";

ApiKeyInfo key_info(const PgResult& r, int row) {
  return {std::string(r.text(row, 0)), std::string(r.text(row, 1)),
          parse_key_role(r.text(row, 2)).value_or(KeyRole::viewer), std::string(r.text(row, 3))};
}

/// The longest key authenticate_api_key() hashes; anything longer is refused unread.
constexpr std::size_t kMaxPresentedKey = 256;
}  // namespace

std::string_view key_role_name(KeyRole r) {
  return r == KeyRole::operator_ ? "operator" : "viewer";
}

std::optional<KeyRole> parse_key_role(std::string_view s) {
  if (s == "operator") return KeyRole::operator_;
  if (s == "viewer") return KeyRole::viewer;
  return std::nullopt;
}

KeyResult<CreatedApiKey> create_api_key(PgConnection& db, std::int64_t tenant_id,
                                        std::string_view name, KeyRole role) {
  if (const auto problem = ident::api_key_name_problem(name)) {
    return KeyError{KeyErrc::invalid_name, fmt::format("the key name {}: it must be {}", *problem,
                                                       ident::kApiKeyNameRule)};
  }
  CreatedApiKey out;
  out.key = generate_api_key();
  try {
    auto r = db.exec(fmt::format("INSERT INTO api_keys (tenant_id, name, role, key_hash) VALUES "
                                 "($1, $2, $3, decode($4, 'hex')) RETURNING {}",
                                 kKeyColumns),
                     {std::to_string(tenant_id), std::string(name),
                      std::string(key_role_name(role)), sha256_hex(out.key)});
    out.info = key_info(r, 0);
  } catch (const PgError& e) {
    // The only unique keys are the live name and the hash; 160 random bits do not collide.
    if (e.sqlstate() == "23505") {
      return KeyError{KeyErrc::duplicate_name,
                      fmt::format("an API key named '{}' already exists; revoke it first or "
                                  "choose another name",
                                  name)};
    }
    throw;
  }
  return out;
}

std::vector<ApiKeyInfo> list_api_keys(PgConnection& db, std::int64_t tenant_id) {
  auto r = db.exec(fmt::format("SELECT {} FROM api_keys WHERE tenant_id = $1 AND revoked_at IS "
                               "NULL ORDER BY created_at, name",
                               kKeyColumns),
                   {std::to_string(tenant_id)});
  std::vector<ApiKeyInfo> out;
  out.reserve(static_cast<std::size_t>(r.rows()));
  for (int i = 0; i < r.rows(); ++i) out.push_back(key_info(r, i));
  return out;
}

KeyResult<ApiKeyInfo> revoke_api_key(PgConnection& db, std::int64_t tenant_id,
                                     std::string_view id_or_name, KeyLookup lookup) {
  const std::string tenant = std::to_string(tenant_id);
  const std::string wanted(id_or_name);
  PgTransaction tx(db);
  // The tenant row's lock serialises revocations, so the last-operator check cannot be overtaken
  // by a concurrent revocation of the other operator key.
  db.exec("SELECT 1 FROM tenants WHERE id = $1 FOR UPDATE", {tenant});
  // id::text, not a cast of the input: a name or a malformed id is simply no match.
  auto key =
      db.exec(fmt::format("SELECT {} FROM api_keys WHERE tenant_id = $1 AND revoked_at IS NULL AND "
                          "(id::text = lower($2) OR ($3 AND name = $2)) "
                          "ORDER BY id::text = lower($2) DESC LIMIT 1",
                          kKeyColumns),
              {tenant, wanted, lookup == KeyLookup::id_or_name ? "true" : "false"});
  if (key.rows() == 0) {
    return KeyError{
        KeyErrc::not_found,
        fmt::format("no API key {} '{}'", lookup == KeyLookup::id ? "with id" : "named", wanted)};
  }
  ApiKeyInfo info = key_info(key, 0);
  if (info.role == KeyRole::operator_) {
    const auto operators = db.exec(
                                 "SELECT count(*) FROM api_keys WHERE tenant_id = $1 AND "
                                 "revoked_at IS NULL AND role = 'operator'",
                                 {tenant})
                               .int64(0, 0);
    if (operators <= 1) {
      return KeyError{KeyErrc::last_operator,
                      fmt::format("API key '{}' is the tenant's last operator key: create another "
                                  "operator key before revoking it",
                                  info.name)};
    }
  }
  db.exec("UPDATE api_keys SET revoked_at = now() WHERE tenant_id = $1 AND id = $2",
          {tenant, info.id});
  tx.commit();
  return info;
}

std::optional<KeyHolder> authenticate_api_key(PgConnection& db, std::string_view key) {
  if (key.empty() || key.size() > kMaxPresentedKey) return std::nullopt;
  const std::string hash = sha256_hex(key);
  auto r = db.exec(
      "SELECT k.tenant_id, t.slug, k.id, k.name, k.role, encode(k.key_hash, 'hex') "
      "FROM api_keys k JOIN tenants t ON t.id = k.tenant_id "
      "WHERE k.key_hash = decode($1, 'hex') AND k.revoked_at IS NULL",
      {hash});
  if (r.rows() != 1 || !constant_time_equal(r.text(0, 5), hash)) return std::nullopt;
  const auto role = parse_key_role(r.text(0, 4));
  if (!role) return std::nullopt;  // the schema's CHECK allows no other; refuse rather than guess
  return KeyHolder{r.int64(0, 0), std::string(r.text(0, 1)), std::string(r.text(0, 2)),
                   std::string(r.text(0, 3)), *role};
}

}  // namespace ste::admin
