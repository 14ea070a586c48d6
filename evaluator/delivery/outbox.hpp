#pragma once
/// Outbox: the port through which the DeliveryWorker reads and writes the deliveries table. It
/// claims due rows (leasing them), records each attempt's outcome with the row's new state, and
/// reports the backlog. PgOutbox (pg_outbox.hpp) is the real adapter over delivery_outbox.hpp;
/// unit tests use tests/unit/support/fake_outbox.hpp. The worker decides what to claim and what
/// an attempt means; this port only carries it to the table. Adapter failures throw (the worker
/// logs, counts and survives them). Implementations are used from the worker thread only.
#include <chrono>
#include <string>
#include <vector>

#include "evaluator/delivery/delivery_outbox.hpp"

namespace ste::eval {

class Outbox {
 public:
  virtual ~Outbox() = default;
  /// Leases up to `limit` due pending rows, oldest first, skipping rows whose URL is in
  /// `skip_urls`: each claimed row is not due again for `lease` (a worker that dies mid-send only
  /// delays it). The rows carry the credential they are to be sent with (row_credential()).
  virtual std::vector<ClaimedDelivery> claim(int limit, std::chrono::seconds lease,
                                             const std::vector<std::string>& skip_urls) = 0;
  /// Stores one attempt and the row's new state: delivered, failed, or pending again after
  /// `attempt.retry_in`.
  virtual void record(const ClaimedDelivery& delivery, const AttemptRecord& attempt) = 0;
  /// The pending rows and the age of the oldest, for the gauges.
  virtual Backlog backlog() = 0;
};

}  // namespace ste::eval
