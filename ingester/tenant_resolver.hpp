#pragma once
/// TenantResolver: tenant slug -> tenant id, with a cache in front of the tenants table. Known
/// tenants are cached for `positive_ttl`; unknown ones for a short `negative_ttl`, so a flood of
/// messages for a tenant that does not exist costs one query per interval, not one per message,
/// while a newly created tenant is picked up within seconds.
/// Thread-safe (one mutex around the cache; the lookup runs outside it).
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

#include "common/clock.hpp"

namespace ste::ingest {

class TenantResolver {
 public:
  /// Looks a slug up in the database; nullopt = no such tenant. May throw (e.g. PgError).
  using Lookup = std::function<std::optional<std::int64_t>(const std::string& slug)>;

  TenantResolver(const Clock& clock, Lookup lookup, Millis positive_ttl = std::chrono::minutes{5},
                 Millis negative_ttl = std::chrono::seconds{5});

  /// The tenant id, or nullopt for an unknown tenant. Lookup exceptions propagate uncached.
  std::optional<std::int64_t> resolve(const std::string& slug);

 private:
  struct Entry {
    std::optional<std::int64_t> id;
    TimePoint expires;
  };
  const Clock& clock_;
  Lookup lookup_;
  Millis positive_ttl_;
  Millis negative_ttl_;
  std::mutex mu_;
  std::unordered_map<std::string, Entry> cache_;  // guarded by mu_
};

}  // namespace ste::ingest
