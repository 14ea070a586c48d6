#include "evaluator/evaluation/evaluation_store.hpp"

namespace ste::eval {

std::vector<WindowStats> PgEvaluationStore::window_stats(
    const std::vector<StatsRequest>& requests) {
  return query_window_stats(db_, requests);
}

StoreResult PgEvaluationStore::store_alert(const Rule& rule, const Tuple& tuple,
                                           const Firing& firing) {
  // The targets are read before the alert's transaction begins, as they always were.
  const std::vector<DeliveryTarget> targets =
      targets_ ? targets_(tuple.tenant_id, db_) : std::vector<DeliveryTarget>{};
  return eval::store_alert(db_, rule, tuple, firing, targets);
}

}  // namespace ste::eval
