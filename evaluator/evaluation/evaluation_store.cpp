#include "evaluator/evaluation/evaluation_store.hpp"

namespace ste::eval {

std::vector<WindowStats> PgEvaluationStore::window_stats(
    const std::vector<StatsRequest>& requests) {
  return query_window_stats(db_, requests);
}

std::vector<bool> PgEvaluationStore::open_episodes(const std::vector<FingerprintKey>& keys) {
  return open_fingerprints(db_, keys);
}

TupleOutcome PgEvaluationStore::apply(const EpisodeInput& input) {
  const std::int64_t tenant = input.tuple->tenant_id;
  return apply_tuple(db_, input, [this, tenant] {
    return targets_ ? targets_(tenant, db_) : std::vector<DeliveryTarget>{};
  });
}

}  // namespace ste::eval
