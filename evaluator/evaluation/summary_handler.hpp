#pragma once
/// SummaryHandler: what the evaluator does with one `ste.batches.flushed` message — decode it,
/// evaluate it, decide the verdict and give it through the MessageSettler (docs/DESIGN.md §5).
///
/// The error firewall around one unit of work: nothing the evaluation throws leaves on_message().
/// - evaluated: acked; counted in ste_eval_summaries_total and ste_eval_seconds.
/// - undecodable: dead-lettered at once, reason `undecodable` (errors{kind="bad_summary"}).
/// - the environment failed (a PgError whose SQLSTATE class or lost connection says the database
///   is away, or a NatsError): nak'd with the redelivery back-off and never dead-lettered, however
///   many deliveries (errors{kind="database"}).
/// - the summary's own failure (any other PgError or exception): nak'd with the same back-off
///   until STE_MAX_DELIVERIES, then dead-lettered, reason `evaluation_failed` with the error text
///   (errors{kind="evaluation"}).
/// - a dead letter that cannot be published: nak'd with the first delay (errors{kind=
///   "dead_letter"}); nothing is lost. A refused ack, nak or term is counted by op.
/// At most once (core NATS) there is nothing to settle: no verdict is given, an undecodable
/// summary is logged and dropped, a failed one only logged and counted.
///
/// Not thread-safe (it owns a SummaryParser): one per consumer thread. The evaluation, settler,
/// metrics and clock it is given may be shared (they are thread-safe).
#include <nats/nats.h>

#include <functional>
#include <string>
#include <string_view>

#include "common/clock.hpp"
#include "common/message_settler.hpp"
#include "common/redelivery.hpp"
#include "evaluator/evaluation/eval_metrics.hpp"
#include "evaluator/evaluation/summary_parser.hpp"

namespace ste::eval {

/// What became of one summary.
struct SummaryOutcome {
  enum class Result { evaluated, undecodable, failed };
  Result result = Result::evaluated;
  FailureCause cause = FailureCause::message;  ///< for `failed`
  std::string error;                           ///< for `undecodable` and `failed`
};

/// How the summaries arrive: JetStream (redelivered until settled) or core NATS (at most once).
enum class SummaryDelivery { at_least_once, at_most_once };

class SummaryHandler {
 public:
  /// Evaluates one decoded summary to the end. Throws PgError when the database fails, NatsError
  /// when NATS does, anything else when the summary itself cannot be evaluated.
  using Evaluate = std::function<void(const Summary&)>;

  SummaryHandler(Evaluate evaluate, MessageSettler& settler, const RedeliveryPolicy& policy,
                 EvalMetrics& metrics, const Clock& clock,
                 SummaryDelivery delivery = SummaryDelivery::at_least_once)
      : evaluate_(std::move(evaluate)),
        settler_(settler),
        policy_(policy),
        metrics_(metrics),
        clock_(clock),
        delivery_(delivery) {}

  /// Handles and settles one message; nothing the evaluation throws leaves it. The caller keeps
  /// ownership of `m`.
  void on_message(natsMsg* m);

  /// Decodes and evaluates one summary, counting the error by kind; gives no verdict.
  SummaryOutcome handle(std::string_view body);

 private:
  void settle(natsMsg* m, const SummaryOutcome& outcome);

  Evaluate evaluate_;
  MessageSettler& settler_;
  RedeliveryPolicy policy_;
  EvalMetrics& metrics_;
  const Clock& clock_;
  SummaryDelivery delivery_;
  SummaryParser parser_;
};

}  // namespace ste::eval
