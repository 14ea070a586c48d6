#pragma once
/// A tenant's named API keys with roles (docs/ALERTING.md §2, schema/006_api_keys.sql): create,
/// list, revoke and authenticate, on a PgConnection. The one implementation behind `ste-admin key`
/// and `/api/keys`; tenant creation makes the first key (`default`, operator) through it too.
///
/// A key is shown once, when created; only its SHA-256 is stored. Revoking keeps the row with
/// `revoked_at` set: the key stops authenticating at once and its name may be reused. A tenant
/// always keeps at least one live operator key, so it cannot lock itself out; revocations take the
/// tenant row's lock, so two concurrent revocations cannot both pass that check.
/// Expected failures (a bad name, a taken name, an unknown key, the last operator key) are values
/// (KeyError); database failures throw PgError. Stateless; the connection is the caller's.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "common/pg_connection.hpp"

namespace ste::admin {

/// `operator_`: reads and changes everything of its tenant (`operator` is a C++ keyword).
/// `viewer`: reads everything, changes nothing.
enum class KeyRole { operator_, viewer };

/// "operator" / "viewer".
std::string_view key_role_name(KeyRole r);
/// The role named `s` (exactly "operator" or "viewer"), nullopt otherwise.
std::optional<KeyRole> parse_key_role(std::string_view s);
/// The rule a role must follow, as error messages quote it.
inline constexpr std::string_view kKeyRoleRule = "operator or viewer";

enum class KeyErrc { invalid_name, duplicate_name, not_found, last_operator };
struct KeyError {
  KeyErrc code;
  std::string message;  ///< names the key and the rule, e.g. "an API key named 'bob' exists"
};
template <class T>
using KeyResult = std::variant<T, KeyError>;

/// A key as listed: never its secret or hash.
struct ApiKeyInfo {
  std::string id;  ///< uuid
  std::string name;
  KeyRole role = KeyRole::viewer;
  std::string created_at;  ///< RFC 3339, UTC, milliseconds
};

struct CreatedApiKey {
  ApiKeyInfo info;
  std::string key;  ///< the secret; shown once, never stored
};

/// Creates a live key named `name` with `role` for the tenant. invalid_name when `name` breaks
/// ident::kApiKeyNameRule; duplicate_name when a live key of the tenant has that name.
KeyResult<CreatedApiKey> create_api_key(PgConnection& db, std::int64_t tenant_id,
                                        std::string_view name, KeyRole role);

/// The tenant's live keys, oldest first.
std::vector<ApiKeyInfo> list_api_keys(PgConnection& db, std::int64_t tenant_id);

/// How revoke_api_key() finds the key: by id only (the API's DELETE /api/keys/{id}), or by id
/// or, failing that, by the name of a live key (`ste-admin key revoke`).
enum class KeyLookup { id, id_or_name };

/// Revokes one live key of the tenant; returns it. not_found for an unknown, revoked or another
/// tenant's key; last_operator when it is the tenant's last live operator key. Runs its own
/// transaction (the caller must not be inside one).
KeyResult<ApiKeyInfo> revoke_api_key(PgConnection& db, std::int64_t tenant_id,
                                     std::string_view id_or_name, KeyLookup lookup);

/// Who presented a key: its tenant and the key itself.
struct KeyHolder {
  std::int64_t tenant_id = 0;
  std::string tenant_slug;
  std::string key_id;
  std::string key_name;
  KeyRole role = KeyRole::viewer;
};

/// The holder of the live key `key` (looked up by SHA-256, compared in constant time), or nullopt
/// for an empty, overlong, unknown or revoked key.
std::optional<KeyHolder> authenticate_api_key(PgConnection& db, std::string_view key);

}  // namespace ste::admin
