#pragma once
/// EvaluationStore: the port through which SummaryEvaluator reaches the database while it
/// evaluates one summary — the deviation window statistics, and storing a firing as an alert
/// (cooldown decided under the advisory lock, the alert and its outbox rows in one transaction,
/// docs/DESIGN.md §5). SummaryEvaluator decides; this port only carries the work to PostgreSQL,
/// so the evaluator's rules are unit-tested with a fake
/// (tests/unit/support/fake_evaluation_store.hpp) and the adapter is tested against a real server
/// by the integration tests.
///
/// Both operations throw PgError when the database fails; what store_alert() committed before a
/// later failure stays (a re-evaluation is absorbed by the alerts' unique key).
#include <functional>
#include <vector>

#include "common/pg_connection.hpp"
#include "evaluator/alerts/alert_store.hpp"
#include "evaluator/evaluation/deviation_stats.hpp"
#include "evaluator/evaluation/rule_evaluator.hpp"

namespace ste::eval {

class EvaluationStore {
 public:
  virtual ~EvaluationStore() = default;
  /// One WindowStats per request, in request order, in one round trip. Throws PgError.
  virtual std::vector<WindowStats> window_stats(const std::vector<StatsRequest>& requests) = 0;
  /// Stores `firing` as an alert with one outbox row per target of the tenant, unless the rule is
  /// cooling down for the device or the alert is already stored. The alert is committed when this
  /// returns `stored`. Throws PgError.
  virtual StoreResult store_alert(const Rule& rule, const Tuple& tuple, const Firing& firing) = 0;
};

/// The outbox targets for a tenant's new alerts (delivery_outbox's targets_for_tenant() in the
/// service), read on the connection the alert is stored on.
using TargetsFor =
    std::function<std::vector<DeliveryTarget>(std::int64_t tenant_id, PgConnection&)>;

/// The PostgreSQL adapter, bound to one connection for the evaluation of one summary:
/// query_window_stats() and alert_store's store_alert() with the targets of `targets` (none when
/// empty). Not thread-safe (neither is the connection): one per summary being evaluated.
class PgEvaluationStore final : public EvaluationStore {
 public:
  PgEvaluationStore(PgConnection& db, const TargetsFor& targets) : db_(db), targets_(targets) {}
  std::vector<WindowStats> window_stats(const std::vector<StatsRequest>& requests) override;
  StoreResult store_alert(const Rule& rule, const Tuple& tuple, const Firing& firing) override;

 private:
  PgConnection& db_;
  const TargetsFor& targets_;
};

}  // namespace ste::eval
