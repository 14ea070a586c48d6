#include "ingester/tenant_resolver.hpp"

namespace ste::ingest {

TenantResolver::TenantResolver(const Clock& clock, Lookup lookup, Millis positive_ttl,
                               Millis negative_ttl)
    : clock_(clock),
      lookup_(std::move(lookup)),
      positive_ttl_(positive_ttl),
      negative_ttl_(negative_ttl) {}

std::optional<std::int64_t> TenantResolver::resolve(const std::string& slug) {
  const TimePoint now = clock_.now();
  {
    std::lock_guard lock(mu_);
    auto it = cache_.find(slug);
    if (it != cache_.end() && now < it->second.expires) return it->second.id;
  }
  const auto id = lookup_(slug);
  std::lock_guard lock(mu_);
  cache_[slug] = Entry{id, now + (id ? positive_ttl_ : negative_ttl_)};
  return id;
}

}  // namespace ste::ingest
