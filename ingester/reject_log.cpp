#include "ingester/reject_log.hpp"

namespace ste::ingest {

std::optional<std::uint64_t> RejectLog::admit(RejectReason reason, TimePoint now) {
  std::lock_guard lock(mu_);
  Slot& s = slots_[static_cast<size_t>(reason)];
  if (s.ever && now - s.last < interval_) {
    ++s.suppressed;
    return std::nullopt;
  }
  const std::uint64_t suppressed = s.suppressed;
  s = Slot{now, true, 0};
  return suppressed;
}

}  // namespace ste::ingest
