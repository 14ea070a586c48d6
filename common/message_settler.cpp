#include "common/message_settler.hpp"

#include "common/dead_letter.hpp"

namespace ste {

FailureSettlement settle_failure(MessageSettler& settler, natsMsg* m,
                                 const RedeliveryPolicy& policy, FailureCause cause,
                                 std::string_view reason, std::string_view detail,
                                 bool dead_letter_now) {
  FailureSettlement out;
  out.deliveries = settler.deliveries(m);
  const FailureAction action = dead_letter_now && cause == FailureCause::message
                                   ? FailureAction{true, {}}
                                   : after_failure(policy, cause, out.deliveries);
  if (action.dead_letter) {
    try {
      out.broker_told = settler.dead_letter(m, reason, detail);
      out.kind = FailureSettlement::Kind::dead_lettered;
      return out;
    } catch (const NatsError& e) {  // not stored anywhere else yet: hand it back
      out.kind = FailureSettlement::Kind::dead_letter_failed;
      out.dead_letter_error = e.what();
      out.delay = policy.first_delay;
      out.broker_told = settler.nak(m, out.delay);
      return out;
    }
  }
  out.kind = FailureSettlement::Kind::nakd;
  out.delay = action.delay;
  out.broker_told = settler.nak(m, out.delay);
  return out;
}

bool JetStreamSettler::ack(natsMsg* m) { return results_.check(natsMsg_Ack(m, nullptr), "ack"); }

bool JetStreamSettler::nak(natsMsg* m, std::chrono::milliseconds delay) {
  return results_.check(natsMsg_NakWithDelay(m, delay.count(), nullptr), "nak");
}

bool JetStreamSettler::in_progress(natsMsg* m) {
  return results_.check(natsMsg_InProgress(m, nullptr), "in_progress");
}

bool JetStreamSettler::dead_letter(natsMsg* m, std::string_view reason, std::string_view detail) {
  return results_.check(ste::dead_letter(nats_, m, stream_, reason, detail), "term");
}

std::int64_t JetStreamSettler::deliveries(natsMsg* m) { return delivery_count(m); }

std::unique_ptr<MessageSettler> make_settler(bool jetstream, NatsClient& nats, std::string stream) {
  if (jetstream) return std::make_unique<JetStreamSettler>(nats, std::move(stream));
  return std::make_unique<CoreSettler>();
}

}  // namespace ste
