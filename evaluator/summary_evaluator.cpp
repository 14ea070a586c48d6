#include "evaluator/summary_evaluator.hpp"

#include "common/log.hpp"
#include "evaluator/deviation_stats.hpp"

namespace ste::eval {

void SummaryEvaluator::fire(const Rule& rule, const Tuple& tuple, const Firing& firing,
                            PgConnection& db) {
  const auto result = store_alert(db, rule, tuple, firing, targets_(tuple.tenant_id, db));
  switch (result.outcome) {
    case StoreOutcome::suppressed_by_cooldown:
      metrics_.suppressed_cooldown.Increment();
      return;
    case StoreOutcome::already_stored:
      metrics_.already_stored.Increment();
      return;
    case StoreOutcome::stored:
      break;
  }
  metrics_.alerts_fired.Increment();
  const Alert& a = *result.alert;
  log::info("alert fired", {{"alert_id", a.id},
                            {"rule_id", a.rule_id},
                            {"tenant", a.tenant},
                            {"device", a.device},
                            {"metric", a.metric},
                            {"value", a.value}});
  try {
    nats_.publish("ste.alerts." + a.tenant, alert_to_json(a));
  } catch (const NatsError& e) {
    // The alert is stored and its deliveries are queued; only the live event is lost.
    metrics_.errors_publish.Increment();
    log::warn("alert event not published", {{"alert_id", a.id}, {"error", e.what()}});
  }
}

void SummaryEvaluator::evaluate(const Summary& summary, PgConnection& db) {
  const auto rules = rules_.current();
  struct Pending {
    const Rule* rule;
    const Tuple* tuple;
    size_t min_request;
    size_t max_request;
  };
  std::vector<Pending> deviation;
  std::vector<StatsRequest> requests;
  std::vector<std::pair<const Rule*, const Tuple*>> threshold_hits;
  std::vector<Firing> threshold_firings;

  for (const auto& tuple : summary.tuples) {
    metrics_.tuples.Increment();
    for (const Rule* rule : rules->matching(tuple.tenant_id, tuple.metric, tuple.device)) {
      if (rule->condition == Condition::deviation_from_mean) {
        const size_t mi = requests.size();
        requests.push_back({tuple.tenant_id, tuple.device_id, tuple.metric,
                            minute_start(tuple.min_ts), rule->window_minutes});
        requests.push_back({tuple.tenant_id, tuple.device_id, tuple.metric,
                            minute_start(tuple.max_ts), rule->window_minutes});
        deviation.push_back({rule, &tuple, mi, mi + 1});
        continue;
      }
      const Evaluation e = evaluate_threshold(*rule, tuple);
      if (e.outcome == Outcome::fire) {
        threshold_hits.emplace_back(rule, &tuple);
        threshold_firings.push_back(*e.firing);
      }
    }
  }

  for (size_t i = 0; i < threshold_hits.size(); ++i) {
    fire(*threshold_hits[i].first, *threshold_hits[i].second, threshold_firings[i], db);
  }
  if (deviation.empty()) return;
  const std::vector<WindowStats> stats = query_window_stats(db, requests);  // one round trip
  for (const auto& d : deviation) {
    const Evaluation e =
        evaluate_deviation(*d.rule, *d.tuple, stats[d.min_request], stats[d.max_request]);
    if (e.outcome == Outcome::too_few_buckets) {
      metrics_.skipped_few_buckets.Increment();
    } else if (e.outcome == Outcome::fire) {
      fire(*d.rule, *d.tuple, *e.firing, db);
    }
  }
}

}  // namespace ste::eval
