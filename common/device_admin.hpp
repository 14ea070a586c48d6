#pragma once
/// Registering devices ahead, in bulk (ste-admin `devices register` and `POST /api/devices`):
/// deliberate operator or tenant actions, so the ingester's new-device cap does not apply.
/// The caller validates the keys ([A-Za-z0-9_-]{1,128}, the ingest contract's device-key rule;
/// the table's CHECK constraint enforces the same). Stateless; thread-safe as PgConnection is
/// (one connection per thread).
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/pg_connection.hpp"

namespace ste::admin {

struct DeviceRegistration {
  std::int64_t created = 0;   ///< devices that did not exist
  std::int64_t existing = 0;  ///< distinct keys that were already registered
};

/// Registers `keys` for `tenant_id` in one set-based statement (INSERT ... SELECT unnest(...)
/// ON CONFLICT DO NOTHING). Idempotent; a key given twice counts once. Throws PgError.
inline DeviceRegistration register_devices(PgConnection& db, std::int64_t tenant_id,
                                           const std::vector<std::string>& keys) {
  PgArrayBuilder array;
  for (const auto& k : keys) array.add(std::string_view{k});
  auto r = db.exec(
      "WITH input AS (SELECT DISTINCT k FROM unnest($2::text[]) AS k), "
      "ins AS (INSERT INTO devices (tenant_id, device_key) SELECT $1, k FROM input "
      "ON CONFLICT (tenant_id, device_key) DO NOTHING RETURNING 1) "
      "SELECT (SELECT count(*) FROM ins), (SELECT count(*) FROM input)",
      {std::to_string(tenant_id), array.finish()});
  const std::int64_t created = r.int64(0, 0);
  return {created, r.int64(0, 1) - created};
}

}  // namespace ste::admin
