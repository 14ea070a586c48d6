#include "ingester/tenant_resolver.hpp"

#include <iterator>

namespace ste::ingest {

void TenantResolver::Cache::erase(const std::string& slug) {
  auto it = entries.find(slug);
  if (it == entries.end()) return;
  order.erase(it->second.order);
  entries.erase(it);
}

void TenantResolver::Cache::insert(const std::string& slug, std::optional<std::int64_t> id,
                                   TimePoint expires) {
  erase(slug);
  if (max == 0) return;
  while (entries.size() >= max) erase(order.front());
  order.push_back(slug);
  entries.emplace(slug, Entry{id, expires, std::prev(order.end())});
}

TenantResolver::TenantResolver(const Clock& clock, Lookup lookup, Millis positive_ttl,
                               Millis negative_ttl, std::size_t max_known, std::size_t max_unknown)
    : clock_(clock),
      lookup_(std::move(lookup)),
      positive_ttl_(positive_ttl),
      negative_ttl_(negative_ttl) {
  known_.max = max_known;
  unknown_.max = max_unknown;
}

std::optional<std::int64_t> TenantResolver::resolve(const std::string& slug) {
  const TimePoint now = clock_.now();
  {
    std::lock_guard lock(mu_);
    for (const Cache* c : {&known_, &unknown_}) {
      auto it = c->entries.find(slug);
      if (it != c->entries.end() && now < it->second.expires) return it->second.id;
    }
  }
  const auto id = lookup_(slug);
  std::lock_guard lock(mu_);
  // A slug lives in one cache at a time: the answer just read replaces whatever was there.
  known_.erase(slug);
  unknown_.erase(slug);
  if (id) {
    known_.insert(slug, id, now + positive_ttl_);
  } else {
    unknown_.insert(slug, id, now + negative_ttl_);
  }
  return id;
}

std::pair<std::size_t, std::size_t> TenantResolver::cached() const {
  std::lock_guard lock(mu_);
  return {known_.entries.size(), unknown_.entries.size()};
}

}  // namespace ste::ingest
