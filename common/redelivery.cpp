#include "common/redelivery.hpp"

#include <algorithm>

#include "common/log.hpp"

namespace ste {

std::chrono::milliseconds nak_delay(const RedeliveryPolicy& policy, std::int64_t delivered) {
  const auto cap = std::max(policy.max_delay, policy.first_delay);
  auto delay = policy.first_delay;
  for (std::int64_t n = 1; n < delivered && delay < cap; ++n) delay *= 2;
  return std::min(delay, cap);
}

bool exhausted(const RedeliveryPolicy& policy, std::int64_t delivered) {
  return delivered >= std::max(policy.max_deliveries, 1);
}

FailureAction after_failure(const RedeliveryPolicy& policy, FailureCause cause,
                            std::int64_t delivered) {
  if (cause == FailureCause::message && exhausted(policy, delivered)) return {true, {}};
  return {false, nak_delay(policy, delivered)};
}

std::int64_t delivery_count(natsMsg* msg) {
  jsMsgMetaData* meta = nullptr;
  if (natsMsg_GetMetaData(&meta, msg) != NATS_OK || !meta) return 1;  // not from JetStream
  const auto n = static_cast<std::int64_t>(meta->NumDelivered);
  jsMsgMetaData_Destroy(meta);
  return std::max<std::int64_t>(n, 1);
}

bool AckResults::should_log(TimePoint now) {
  std::lock_guard lock(mu_);
  if (logged_ && now - last_log_ < log_every_) return false;
  logged_ = true;
  last_log_ = now;
  return true;
}

bool AckResults::check(natsStatus s, std::string_view op, TimePoint now) {
  if (s == NATS_OK) return true;
  if (should_log(now)) {
    log::warn("jetstream acknowledgement failed; the message will be redelivered",
              {{"op", op}, {"status", natsStatus_GetText(s)}});
  }
  return false;
}

}  // namespace ste
