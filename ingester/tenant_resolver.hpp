#pragma once
/// TenantResolver: tenant slug -> tenant id, with a bounded cache in front of the tenants table.
/// Known tenants are cached for `positive_ttl`; unknown ones for a short `negative_ttl`, so a
/// flood of messages for a tenant that does not exist costs one query per interval, not one per
/// message, while a newly created tenant is picked up within seconds. Both caches are bounded
/// (`max_known`, `max_unknown` entries); a full cache evicts its oldest entry, so a flood of random
/// tenant tokens costs a fixed amount of memory and never evicts a known tenant.
/// Thread-safe as far as its own state goes (one mutex around the caches; the lookup runs outside
/// it), so it is as thread-safe as the lookup it is given. The ingester gives it lookups on the
/// consumer thread's own connection (directory_lookups.hpp) and calls it from that thread only.
#include <cstddef>
#include <functional>
#include <list>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>

#include "common/clock.hpp"

namespace ste::ingest {

class TenantResolver {
 public:
  /// Looks a slug up in the database; nullopt = no such tenant. May throw (e.g. PgError).
  using Lookup = std::function<std::optional<std::int64_t>(const std::string& slug)>;

  static constexpr std::size_t kDefaultMaxKnown = 10'000;
  static constexpr std::size_t kDefaultMaxUnknown = 1'000;

  TenantResolver(const Clock& clock, Lookup lookup, Millis positive_ttl = std::chrono::minutes{5},
                 Millis negative_ttl = std::chrono::seconds{5},
                 std::size_t max_known = kDefaultMaxKnown,
                 std::size_t max_unknown = kDefaultMaxUnknown);

  /// The tenant id, or nullopt for an unknown tenant. Lookup exceptions propagate uncached.
  std::optional<std::int64_t> resolve(const std::string& slug);

  /// Entries currently cached (known, unknown), expired ones included until evicted or replaced.
  std::pair<std::size_t, std::size_t> cached() const;

 private:
  struct Entry {
    std::optional<std::int64_t> id;
    TimePoint expires;
    std::list<std::string>::iterator order;  ///< position in its cache's insertion order
  };
  /// One cache: entries by slug plus their insertion order (front = oldest), at most `max`.
  struct Cache {
    std::size_t max = 0;
    std::unordered_map<std::string, Entry> entries;
    std::list<std::string> order;
    void erase(const std::string& slug);
    void insert(const std::string& slug, std::optional<std::int64_t> id, TimePoint expires);
  };
  const Clock& clock_;
  Lookup lookup_;
  Millis positive_ttl_;
  Millis negative_ttl_;
  mutable std::mutex mu_;
  Cache known_;    // guarded by mu_
  Cache unknown_;  // guarded by mu_
};

}  // namespace ste::ingest
