#include "evaluator/evaluation/summary_handler.hpp"

#include "common/dead_letter.hpp"
#include "common/log.hpp"
#include "common/nats_client.hpp"
#include "common/pg_connection.hpp"

namespace ste::eval {

SummaryOutcome SummaryHandler::handle(std::string_view body) {
  using Result = SummaryOutcome::Result;
  const MonoPoint started = clock_.mono();
  auto parsed = parser_.parse(body);
  if (auto* err = std::get_if<SummaryError>(&parsed)) {
    metrics_.errors_bad_summary.Increment();
    return {Result::undecodable, FailureCause::message, err->message};
  }
  const Summary& summary = std::get<Summary>(parsed);
  try {
    evaluate_(summary);
  } catch (const PgError& e) {
    const bool environment = pg_error_is_environmental(e);
    (environment ? metrics_.errors_database : metrics_.errors_evaluation).Increment();
    log::warn("summary evaluation failed", {{"batch_id", summary.batch_id},
                                            {"cause", environment ? "database" : "summary"},
                                            {"sqlstate", e.sqlstate()},
                                            {"error", e.what()}});
    return {Result::failed, environment ? FailureCause::environment : FailureCause::message,
            e.what()};
  } catch (const NatsError& e) {  // NATS away: not the summary's fault either
    metrics_.errors_database.Increment();
    log::warn("summary evaluation failed", {{"batch_id", summary.batch_id}, {"error", e.what()}});
    return {Result::failed, FailureCause::environment, e.what()};
  } catch (const std::exception& e) {
    metrics_.errors_evaluation.Increment();
    log::warn("summary evaluation failed",
              {{"batch_id", summary.batch_id}, {"cause", "summary"}, {"error", e.what()}});
    return {Result::failed, FailureCause::message, e.what()};
  }
  metrics_.summaries.Increment();
  metrics_.eval_seconds.Observe(std::chrono::duration<double>(clock_.mono() - started).count());
  return {};
}

void SummaryHandler::on_message(natsMsg* m) {
  const std::string_view body(natsMsg_GetData(m), static_cast<size_t>(natsMsg_GetDataLength(m)));
  const SummaryOutcome outcome = handle(body);
  if (delivery_ == SummaryDelivery::at_most_once) {
    // No redelivery and no dead letters: a failure is logged and counted, nothing is settled.
    if (outcome.result == SummaryOutcome::Result::undecodable) {
      log::warn("summary dropped: cannot decode", {{"error", outcome.error}});
    }
    return;
  }
  settle(m, outcome);
}

void SummaryHandler::settle(natsMsg* m, const SummaryOutcome& outcome) {
  if (outcome.result == SummaryOutcome::Result::evaluated) {
    if (!settler_.ack(m)) metrics_.ack_failures_ack.Increment();
    return;
  }
  const bool undecodable = outcome.result == SummaryOutcome::Result::undecodable;
  const char* reason = undecodable ? "undecodable" : "evaluation_failed";
  const FailureSettlement s = settle_failure(settler_, m, policy_, outcome.cause, reason,
                                             outcome.error, /*dead_letter_now=*/undecodable);
  switch (s.kind) {
    case FailureSettlement::Kind::dead_lettered:
      (undecodable ? metrics_.dead_lettered_undecodable : metrics_.dead_lettered_failed)
          .Increment();
      log::warn("summary dead-lettered", {{"reason", reason},
                                          {"deliveries", s.deliveries},
                                          {"subject", dead_letter_subject(kBatchesStream.name)},
                                          {"error", outcome.error}});
      if (!s.broker_told) metrics_.ack_failures_term.Increment();
      return;
    case FailureSettlement::Kind::dead_letter_failed:
      metrics_.errors_dead_letter.Increment();
      log::warn("dead letter not published; summary handed back", {{"error", s.dead_letter_error}});
      break;
    case FailureSettlement::Kind::nakd:
      break;
  }
  if (!s.broker_told) metrics_.ack_failures_nak.Increment();
}

}  // namespace ste::eval
