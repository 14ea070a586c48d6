#include "ingester/directory_lookups.hpp"

#include "common/log.hpp"

namespace ste::ingest {

PgConnection& LookupDb::get() {
  if (!db_) {
    db_ = std::make_unique<PgConnection>(url_);
  } else if (!db_->healthy()) {
    db_->reconnect();
  }
  return *db_;
}

TenantResolver::Lookup tenant_lookup(LookupDb& db) {
  return [&db](const std::string& slug) -> std::optional<std::int64_t> {
    auto r = db.get().exec("SELECT id FROM tenants WHERE slug = $1", {slug});
    if (r.rows() == 0) return std::nullopt;
    return r.int64(0, 0);
  };
}

DeviceRegistry::Find device_find(LookupDb& db) {
  return [&db](std::int64_t tenant, const std::string& key) -> std::optional<std::int64_t> {
    auto r = db.get().exec("SELECT id FROM devices WHERE tenant_id = $1 AND device_key = $2",
                           {std::to_string(tenant), key});
    if (r.rows() == 0) return std::nullopt;
    return r.int64(0, 0);
  };
}

DeviceRegistry::Create device_create(LookupDb& db) {
  return [&db](std::int64_t tenant, const std::string& key) {
    auto r = db.get().exec(
        "INSERT INTO devices (tenant_id, device_key) VALUES ($1, $2) "
        "ON CONFLICT (tenant_id, device_key) DO UPDATE SET device_key = EXCLUDED.device_key "
        "RETURNING id",
        {std::to_string(tenant), key});
    log::info("device registered", {{"tenant_id", tenant}, {"device", key}});
    return r.int64(0, 0);
  };
}

}  // namespace ste::ingest
