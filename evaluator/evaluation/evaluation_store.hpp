#pragma once
/// EvaluationStore: the port through which SummaryEvaluator reaches the database while it
/// evaluates one summary — the deviation window statistics, which fingerprints have an open
/// episode, and applying a tuple to its fingerprint's episode (episode_store.hpp: transitions,
/// cooldown, timeline and outbox rows in one transaction under the fingerprint's advisory lock).
/// SummaryEvaluator decides what to ask; this port only carries the work to PostgreSQL,
/// so the evaluator's rules are unit-tested with a fake
/// (tests/unit/support/fake_evaluation_store.hpp) and the adapter is tested against a real server
/// by the integration tests.
///
/// Every operation throws PgError when the database fails; what apply() committed before a later
/// failure stays (re-applying the same tuple is a no-op: it is not newer than seen_until).
#include <functional>
#include <vector>

#include "common/pg_connection.hpp"
#include "evaluator/alerts/episode_store.hpp"
#include "evaluator/evaluation/deviation_stats.hpp"
#include "evaluator/evaluation/rule_evaluator.hpp"

namespace ste::eval {

class EvaluationStore {
 public:
  virtual ~EvaluationStore() = default;
  /// One WindowStats per request, in request order, in one round trip. Throws PgError.
  virtual std::vector<WindowStats> window_stats(const std::vector<StatsRequest>& requests) = 0;
  /// One flag per key: does the fingerprint have an open episode. One round trip.
  virtual std::vector<bool> open_episodes(const std::vector<FingerprintKey>& keys) = 0;
  /// Applies one tuple to its fingerprint (apply_tuple()); committed when it returns.
  virtual TupleOutcome apply(const EpisodeInput& input) = 0;
};

/// The outbox targets for a tenant's new alerts (delivery_outbox's targets_for_tenant() in the
/// service), read on the connection the alert is stored on.
using TargetsFor =
    std::function<std::vector<DeliveryTarget>(std::int64_t tenant_id, PgConnection&)>;

/// The PostgreSQL adapter, bound to one connection for the evaluation of one summary:
/// query_window_stats(), open_fingerprints() and apply_tuple() with the targets of `targets`
/// (none when empty). Not thread-safe (neither is the connection): one per summary being evaluated.
class PgEvaluationStore final : public EvaluationStore {
 public:
  PgEvaluationStore(PgConnection& db, const TargetsFor& targets) : db_(db), targets_(targets) {}
  std::vector<WindowStats> window_stats(const std::vector<StatsRequest>& requests) override;
  std::vector<bool> open_episodes(const std::vector<FingerprintKey>& keys) override;
  TupleOutcome apply(const EpisodeInput& input) override;

 private:
  PgConnection& db_;
  const TargetsFor& targets_;
};

}  // namespace ste::eval
