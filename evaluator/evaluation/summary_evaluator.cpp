#include "evaluator/evaluation/summary_evaluator.hpp"

#include "common/log.hpp"
#include "common/nats_client.hpp"

namespace ste::eval {

void SummaryEvaluator::fire(const Rule& rule, const Tuple& tuple, const Firing& firing,
                            EvaluationStore& store) {
  const auto result = store.store_alert(rule, tuple, firing);  // committed when it returns
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
    events_.publish("ste.alerts." + a.tenant, alert_to_json(a));
  } catch (const NatsError& e) {
    // The alert is stored and its deliveries are queued; only the live event is lost.
    metrics_.errors_publish.Increment();
    log::warn("alert event not published", {{"alert_id", a.id}, {"error", e.what()}});
  }
}

std::vector<WindowStats> SummaryEvaluator::window_stats(const std::vector<StatsRequest>& requests,
                                                        EvaluationStore& store) {
  const bool use_cache = window_cache_enabled_.load();
  UniqueStatsRequests plan = deduplicate_stats_requests(requests);
  std::vector<WindowStats> unique_stats(plan.unique.size());
  std::vector<size_t> missing;  // indexes into plan.unique
  for (size_t u = 0; u < plan.unique.size(); ++u) {
    if (use_cache) {
      if (auto hit = window_cache_.find(plan.unique[u])) {
        unique_stats[u] = *hit;
        continue;
      }
    }
    missing.push_back(u);
  }
  if (use_cache) {
    metrics_.window_stats_hit.Increment(static_cast<double>(plan.unique.size() - missing.size()));
    metrics_.window_stats_miss.Increment(static_cast<double>(missing.size()));
  }
  if (!missing.empty()) {
    std::vector<StatsRequest> to_query;
    to_query.reserve(missing.size());
    for (size_t u : missing) to_query.push_back(plan.unique[u]);
    const std::vector<WindowStats> answers = store.window_stats(to_query);  // one round trip
    for (size_t k = 0; k < missing.size(); ++k) {
      unique_stats[missing[k]] = answers[k];
      if (use_cache) window_cache_.store(to_query[k], answers[k]);
    }
  }
  std::vector<WindowStats> out;
  out.reserve(requests.size());
  for (size_t u : plan.index) out.push_back(unique_stats[u]);
  return out;
}

void SummaryEvaluator::evaluate(const Summary& summary, EvaluationStore& store) {
  const auto rules = rules_();
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
    fire(*threshold_hits[i].first, *threshold_hits[i].second, threshold_firings[i], store);
  }
  if (deviation.empty()) return;
  const std::vector<WindowStats> stats = window_stats(requests, store);
  for (const auto& d : deviation) {
    const Evaluation e =
        evaluate_deviation(*d.rule, *d.tuple, stats[d.min_request], stats[d.max_request]);
    if (e.outcome == Outcome::too_few_buckets) {
      metrics_.skipped_few_buckets.Increment();
    } else if (e.outcome == Outcome::fire) {
      fire(*d.rule, *d.tuple, *e.firing, store);
    }
  }
}

}  // namespace ste::eval
