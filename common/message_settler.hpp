#pragma once
/// MessageSettler: the port through which a service settles the messages it consumed — ack, nak
/// with a delay, "still in progress", dead letter — and learns how often a message was delivered.
/// The services' state machines (BatchFlusher, MessageIntake, the summary handler) decide; this
/// port only carries the verdict to the broker, so their rules are unit-tested with a fake
/// (tests/unit/support/fake_settler.hpp) and the real adapters are tested against nats-server.
///
/// `natsMsg*` is used as an opaque handle: a settler never frees it (its owner does).
/// Every operation returns false when the broker was not told (the caller counts it); none throws
/// except dead_letter(), whose failure means the message was not stored anywhere else yet.
#include <nats/nats.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "common/nats_client.hpp"
#include "common/redelivery.hpp"

namespace ste {

class MessageSettler {
 public:
  virtual ~MessageSettler() = default;
  /// Done: the broker forgets the message.
  virtual bool ack(natsMsg* m) = 0;
  /// Handed back: the broker redelivers it after `delay`.
  virtual bool nak(natsMsg* m, std::chrono::milliseconds delay) = 0;
  /// Still being worked on: the broker restarts its ack-wait timer.
  virtual bool in_progress(natsMsg* m) = 0;
  /// Republishes the message on `ste.dead.<stream>` with `reason` and `detail`, then terminates
  /// it. Throws NatsError when the republish failed (the message is untouched; nak it). Returns
  /// false when only the terminate failed (it is dead-lettered again on redelivery, deduplicated).
  virtual bool dead_letter(natsMsg* m, std::string_view reason, std::string_view detail) = 0;
  /// How many times the broker has delivered `m`, this delivery included (1 when unknown).
  virtual std::int64_t deliveries(natsMsg* m) = 0;
};

/// How a failed message was settled by settle_failure().
struct FailureSettlement {
  enum class Kind {
    nakd,               ///< handed back with `delay` (it is delivered again)
    dead_lettered,      ///< republished on ste.dead.<stream> and terminated
    dead_letter_failed  ///< it was due for a dead letter but STE_DEAD refused: nak'd with `delay`
  };
  Kind kind = Kind::nakd;
  std::chrono::milliseconds delay{0};  ///< for nakd and dead_letter_failed
  std::int64_t deliveries = 1;         ///< the delivery that failed
  bool broker_told = true;             ///< false when the ack/nak/term itself failed (count it)
  std::string dead_letter_error;       ///< for dead_letter_failed: why STE_DEAD refused
};

/// The delivery limit and dead-letter path, in one place for every consumer (docs/DESIGN.md §4):
/// a message that failed for `cause` on its delivery number `settler.deliveries(m)` is nak'd with
/// the back-off of that delivery, or, when it failed for its own reasons and has used its
/// deliveries (`dead_letter_now` forces it: a message that can never succeed, e.g. undecodable),
/// dead-lettered with `reason` and `detail`. A dead letter that cannot be published is nak'd with
/// `policy.first_delay` instead: nothing is lost. An environment failure is never dead-lettered.
FailureSettlement settle_failure(MessageSettler& settler, natsMsg* m,
                                 const RedeliveryPolicy& policy, FailureCause cause,
                                 std::string_view reason, std::string_view detail,
                                 bool dead_letter_now = false);

/// The JetStream adapter: natsMsg_Ack / NakWithDelay / InProgress, common/dead_letter.hpp, and the
/// delivery count from the message's metadata. Failures are logged (throttled) by AckResults.
/// Thread-safe (cnats is; AckResults has its own lock).
class JetStreamSettler final : public MessageSettler {
 public:
  JetStreamSettler(NatsClient& nats, std::string stream)
      : nats_(nats), stream_(std::move(stream)) {}
  bool ack(natsMsg* m) override;
  bool nak(natsMsg* m, std::chrono::milliseconds delay) override;
  bool in_progress(natsMsg* m) override;
  bool dead_letter(natsMsg* m, std::string_view reason, std::string_view detail) override;
  std::int64_t deliveries(natsMsg* m) override;

 private:
  NatsClient& nats_;
  std::string stream_;
  AckResults results_;
};

/// Core NATS (at most once): there is nothing to settle. Every operation succeeds and does
/// nothing; dead_letter() is not available (core messages have no stream) and returns false
/// without publishing; deliveries() is 1.
class CoreSettler final : public MessageSettler {
 public:
  bool ack(natsMsg*) override { return true; }
  bool nak(natsMsg*, std::chrono::milliseconds) override { return true; }
  bool in_progress(natsMsg*) override { return true; }
  bool dead_letter(natsMsg*, std::string_view, std::string_view) override { return false; }
  std::int64_t deliveries(natsMsg*) override { return 1; }
};

/// JetStreamSettler for `stream` when `jetstream`, otherwise CoreSettler.
std::unique_ptr<MessageSettler> make_settler(bool jetstream, NatsClient& nats, std::string stream);

}  // namespace ste
