#pragma once
/// The tenant and device lookups behind TenantResolver and DeviceRegistry: SQL on the consumer
/// thread's own PostgreSQL connection (LookupDb), reconnected on demand. The resolvers cache; these
/// functions are what a cache miss runs. Not thread-safe: one LookupDb per consuming thread.
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "common/pg_connection.hpp"
#include "ingester/device_registry.hpp"
#include "ingester/tenant_resolver.hpp"

namespace ste::ingest {

/// One lazily opened connection, reconnected when it went bad. Throws PgError when the database
/// cannot be reached (the intake hands the message back).
class LookupDb {
 public:
  explicit LookupDb(std::string url) : url_(std::move(url)) {}
  PgConnection& get();

 private:
  std::string url_;
  std::unique_ptr<PgConnection> db_;
};

/// `SELECT id FROM tenants WHERE slug = $1`.
TenantResolver::Lookup tenant_lookup(LookupDb& db);
/// `SELECT id FROM devices WHERE tenant_id = $1 AND device_key = $2`.
DeviceRegistry::Find device_find(LookupDb& db);
/// Registers a device (idempotent with concurrent ingesters: ON CONFLICT returns the existing id)
/// and logs "device registered".
DeviceRegistry::Create device_create(LookupDb& db);

}  // namespace ste::ingest
