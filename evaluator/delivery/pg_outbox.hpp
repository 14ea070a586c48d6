#pragma once
/// PgOutbox: the Outbox on PostgreSQL. Each call takes a connection from the pool for the one
/// statement of delivery_outbox.hpp it runs (claim_deliveries(), record_attempt(),
/// delivery_backlog()) and gives it back; nothing clever, tested against a real server by the
/// delivery integration tests. Throws what the pool and the connection throw.
/// Thread-safety: as the pool; the worker uses it from its one thread.
#include "common/pg_pool.hpp"
#include "evaluator/delivery/outbox.hpp"

namespace ste::eval {

class PgOutbox final : public Outbox {
 public:
  /// `defaults`: the STE_* targets, which decide the credential a claimed row is sent with.
  PgOutbox(PgPool& pool, TargetDefaults defaults);
  std::vector<ClaimedDelivery> claim(int limit, std::chrono::seconds lease,
                                     const std::vector<std::string>& skip_urls) override;
  void record(const ClaimedDelivery& delivery, const AttemptRecord& attempt) override;
  Backlog backlog() override;

 private:
  PgPool& pool_;
  TargetDefaults defaults_;
};

}  // namespace ste::eval
