#include "evaluator/evaluation/summary_evaluator.hpp"

#include "common/log.hpp"
#include "common/nats_client.hpp"
#include "evaluator/alerts/episode_events.hpp"
#include "evaluator/alerts/tuple_verdict.hpp"

namespace ste::eval {

Judgement judge_tuple(const Rule& rule, const Tuple& tuple, const WindowStats* min_stats,
                      const WindowStats* max_stats) {
  Judgement j{{&rule, &tuple, {}, std::nullopt}};
  EpisodeInput& in = j.input;
  if (rule.condition == Condition::deviation_from_mean) {
    const WindowStats none{};
    const WindowStats& lo = min_stats ? *min_stats : none;
    const WindowStats& hi = max_stats ? *max_stats : none;
    const Evaluation e = evaluate_deviation(rule, tuple, lo, hi);
    in.firing = e.firing;
    j.too_few_buckets = e.outcome == Outcome::too_few_buckets;
    in.verdict = deviation_verdict(rule.threshold, tuple, lo, hi);
  } else {
    in.firing = evaluate_threshold(rule, tuple).firing;
    in.verdict = threshold_verdict(rule.condition, rule.threshold, rule.clear_threshold, tuple);
  }
  return j;
}

void SummaryEvaluator::apply(const EpisodeInput& input, EvaluationStore& store) {
  const TupleOutcome out = store.apply(input);  // committed when it returns
  switch (out.kind) {
    case TupleOutcome::Kind::stale:
      metrics_.already_stored.Increment();
      return;
    case TupleOutcome::Kind::rule_stale:
      metrics_.rule_stale.Increment();
      return;
    case TupleOutcome::Kind::applied:
      break;
  }
  for (const EpisodeEvent& e : out.events) metrics_.transition(e.kind).Increment();
  for (const EpisodeNotice& n : out.notices) {
    if (n.event == "created") {
      metrics_.alerts_fired.Increment();
      if (!n.alert.notified) metrics_.suppressed_cooldown.Increment();
    }
    publish_notice(events_, metrics_.errors_publish, n);
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
  struct Candidate {
    const Rule* rule;
    const Tuple* tuple;
    size_t min_request = 0;
    size_t max_request = 0;
  };
  std::vector<Candidate> candidates;
  std::vector<StatsRequest> requests;
  for (const auto& tuple : summary.tuples) {
    metrics_.tuples.Increment();
    for (const Rule* rule : rules->matching(tuple.tenant_id, tuple.metric, tuple.device)) {
      Candidate c{rule, &tuple};
      if (rule->condition == Condition::deviation_from_mean) {
        c.min_request = requests.size();
        requests.push_back({tuple.tenant_id, tuple.device_id, tuple.metric,
                            minute_start(tuple.min_ts), rule->window_minutes});
        c.max_request = requests.size();
        requests.push_back({tuple.tenant_id, tuple.device_id, tuple.metric,
                            minute_start(tuple.max_ts), rule->window_minutes});
      }
      candidates.push_back(c);
    }
  }
  if (candidates.empty()) return;
  std::vector<WindowStats> stats;
  if (!requests.empty()) stats = window_stats(requests, store);  // one round trip at most

  std::vector<EpisodeInput> inputs;
  inputs.reserve(candidates.size());
  for (const Candidate& c : candidates) {
    const bool deviation = c.rule->condition == Condition::deviation_from_mean;
    const Judgement j = judge_tuple(*c.rule, *c.tuple, deviation ? &stats[c.min_request] : nullptr,
                                    deviation ? &stats[c.max_request] : nullptr);
    if (j.too_few_buckets) metrics_.skipped_few_buckets.Increment();
    inputs.push_back(j.input);
  }

  // A crossing always goes to its fingerprint; anything else only where an episode is open
  // (something may clear or cancel), asked for the whole summary in one round trip.
  std::vector<bool> needed(inputs.size(), false);
  std::vector<FingerprintKey> keys;
  std::vector<size_t> key_input;
  for (size_t i = 0; i < inputs.size(); ++i) {
    if (inputs[i].verdict.any_crosses) {
      needed[i] = true;
    } else {
      keys.push_back({inputs[i].tuple->tenant_id, inputs[i].rule->id, inputs[i].tuple->device_id});
      key_input.push_back(i);
    }
  }
  if (!keys.empty()) {
    const std::vector<bool> open = store.open_episodes(keys);
    for (size_t k = 0; k < keys.size(); ++k) needed[key_input[k]] = open[k];
  }
  for (size_t i = 0; i < inputs.size(); ++i) {
    if (needed[i]) apply(inputs[i], store);
  }
}

}  // namespace ste::eval
