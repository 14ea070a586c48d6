#pragma once
/// SummaryEvaluator: one summary against the cached rules. Threshold rules are decided in memory;
/// the deviation statistics for every candidate of the summary come from one set-based query;
/// each firing is stored by AlertStore (cooldown under an advisory lock) and, after commit,
/// published on `ste.alerts.<tenant>`.
/// Thread-safe if the collaborators are (they are): any number of workers share one instance.
#include <functional>
#include <vector>

#include "common/nats_client.hpp"
#include "common/pg_connection.hpp"
#include "evaluator/alert_store.hpp"
#include "evaluator/eval_metrics.hpp"
#include "evaluator/rule_cache.hpp"
#include "evaluator/summary_parser.hpp"

namespace ste::eval {

class SummaryEvaluator {
 public:
  /// Targets for a tenant's new alerts (the outbox rows to write).
  using TargetsFor =
      std::function<std::vector<DeliveryTarget>(std::int64_t tenant_id, PgConnection&)>;

  SummaryEvaluator(RuleCache& rules, NatsClient& nats, EvalMetrics& metrics, TargetsFor targets)
      : rules_(rules), nats_(nats), metrics_(metrics), targets_(std::move(targets)) {}

  /// Throws PgError when the database fails (the caller hands the summary back for redelivery;
  /// alerts already stored stay, and their re-evaluation is absorbed by the unique key).
  void evaluate(const Summary& summary, PgConnection& db);

 private:
  void fire(const Rule& rule, const Tuple& tuple, const Firing& firing, PgConnection& db);

  RuleCache& rules_;
  NatsClient& nats_;
  EvalMetrics& metrics_;
  TargetsFor targets_;
};

}  // namespace ste::eval
