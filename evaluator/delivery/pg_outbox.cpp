#include "evaluator/delivery/pg_outbox.hpp"

#include <utility>

namespace ste::eval {

PgOutbox::PgOutbox(PgPool& pool, TargetDefaults defaults)
    : pool_(pool), defaults_(std::move(defaults)) {}

std::vector<ClaimedDelivery> PgOutbox::claim(int limit, std::chrono::seconds lease,
                                             const std::vector<std::string>& skip_urls) {
  auto db = pool_.acquire();
  return claim_deliveries(*db, limit, lease, defaults_, skip_urls);
}

void PgOutbox::record(const ClaimedDelivery& delivery, const AttemptRecord& attempt) {
  auto db = pool_.acquire();
  record_attempt(*db, delivery, attempt);
}

Backlog PgOutbox::backlog() {
  auto db = pool_.acquire();
  return delivery_backlog(*db);
}

}  // namespace ste::eval
