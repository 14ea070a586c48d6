#include "evaluator/evaluation/eval_metrics.hpp"

#include <string>

#include "common/metric_builders.hpp"

namespace ste::eval {

namespace {
prometheus::Counter& error_counter(prometheus::Registry& r, const std::string& kind) {
  return prometheus::BuildCounter()
      .Name("ste_eval_errors_total")
      .Help("Evaluation errors by kind (the process carries on)")
      .Register(r)
      .Add({{"kind", kind}});
}
prometheus::Counter& window_stats_counter(prometheus::Registry& r, const std::string& result) {
  return prometheus::BuildCounter()
      .Name("ste_eval_window_stats_total")
      .Help("Distinct deviation window statistics of a summary, by cache result (hit: not queried)")
      .Register(r)
      .Add({{"result", result}});
}
prometheus::Counter& dead_lettered(prometheus::Registry& r, const std::string& reason) {
  return prometheus::BuildCounter()
      .Name("ste_dead_lettered_total")
      .Help("Messages moved to ste.dead.<stream> (terminated on their stream), by reason")
      .Register(r)
      .Add({{"stream", "STE_BATCHES"}, {"reason", reason}});
}
prometheus::Counter& ack_failure(prometheus::Registry& r, const std::string& op) {
  return prometheus::BuildCounter()
      .Name("ste_eval_settle_failures_total")
      .Help(
          "Summary acks, naks and terms that NATS refused; the summary comes back after its "
          "ack wait")
      .Register(r)
      .Add({{"op", op}});
}
prometheus::Counter& transition_counter(prometheus::Registry& r, const std::string& t) {
  return prometheus::BuildCounter()
      .Name("ste_eval_episode_transitions_total")
      .Help("Alert episode transitions decided by the evaluator, by transition")
      .Register(r)
      .Add({{"transition", t}});
}
}  // namespace

EvalMetrics::EvalMetrics(prometheus::Registry& r)
    : summaries(add_counter(r, "ste_eval_summaries_total", "Batch summaries evaluated")),
      tuples(add_counter(r, "ste_eval_tuples_total", "Summary tuples evaluated")),
      alerts_fired(add_counter(r, "ste_eval_alerts_fired_total", "Episodes that fired")),
      suppressed_cooldown(
          add_counter(r, "ste_eval_suppressed_cooldown_total",
                      "Episodes that fired inside the cooldown of the fingerprint's "
                      "last notification: stored, not notified")),
      already_stored(
          add_counter(r, "ste_eval_already_stored_total",
                      "Tuples not newer than what their fingerprint has already evaluated "
                      "(a redelivered summary): nothing changed")),
      rule_stale(add_counter(r, "ste_eval_rule_stale_total",
                             "Tuples skipped because their rule was edited, disabled or deleted "
                             "since this evaluator cached it")),
      opened(transition_counter(r, "opened")),
      fired(transition_counter(r, "fired")),
      cancelled(transition_counter(r, "cancelled")),
      resolved(transition_counter(r, "resolved")),
      skipped_few_buckets(
          add_counter(r, "ste_eval_skipped_few_buckets_total",
                      "Deviation checks skipped: fewer than 5 one-minute buckets of history")),
      errors_database(error_counter(r, "database")),
      errors_evaluation(error_counter(r, "evaluation")),
      errors_bad_summary(error_counter(r, "bad_summary")),
      errors_dead_letter(error_counter(r, "dead_letter")),
      errors_publish(error_counter(r, "publish")),
      window_stats_hit(window_stats_counter(r, "hit")),
      window_stats_miss(window_stats_counter(r, "miss")),
      eval_seconds(
          prometheus::BuildHistogram()
              .Name("ste_eval_seconds")
              .Help("Time to evaluate one summary")
              .Register(r)
              .Add({}, prometheus::Histogram::BucketBoundaries{0.001, 0.0025, 0.005, 0.01, 0.025,
                                                               0.05, 0.1, 0.25, 0.5, 1, 2.5})),
      rules(prometheus::BuildGauge()
                .Name("ste_eval_rules")
                .Help("Enabled rules in the cache")
                .Register(r)
                .Add({})),
      dead_lettered_undecodable(dead_lettered(r, "undecodable")),
      dead_lettered_failed(dead_lettered(r, "evaluation_failed")),
      ack_failures_ack(ack_failure(r, "ack")),
      ack_failures_nak(ack_failure(r, "nak")),
      ack_failures_term(ack_failure(r, "term")) {}

}  // namespace ste::eval
