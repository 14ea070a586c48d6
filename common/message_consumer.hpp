#pragma once
/// MessageConsumer: the one consumer runtime both services use. It owns how messages arrive —
/// JetStream pull threads (each with its own subscription to a durable consumer, fetching in
/// batches) or a core NATS queue subscription — and everything around the service's handler:
/// - back-pressure: before each fetch (or, in core mode, each message) it waits until the
///   service says it has room (`RoomCheck`), so unacknowledged work stays bounded;
/// - the error firewall: a handler that throws never ends a thread or the process. The message is
///   handed back (JetStream: nak with the first redelivery delay, so its delivery count grows
///   and the service's delivery limit applies; core: dropped), counted, and logged (throttled);
/// - throttled logging of fetch failures (a broken connection fails every fetch).
/// The per-message verdicts themselves go through the MessageSettler port
/// (common/message_settler.hpp), with the delivery limit and dead letters in settle_failure().
///
/// Ownership: the handler takes the message when it returns normally (it settles and frees it,
/// now or later); when it throws, the runtime keeps it, settles it and frees it.
/// Threads: JetStream handlers run on the runtime's pull threads (`threads` of them, one message at
/// a time each); core handlers on cnats' delivery thread for the subscription.
/// start()/stop() from one owner thread.
#include <nats/nats.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "common/clock.hpp"
#include "common/jetstream_fetch.hpp"
#include "common/log_throttle.hpp"
#include "common/message_settler.hpp"
#include "common/nats_client.hpp"
#include "common/redelivery.hpp"

namespace ste {

struct ConsumerOptions {
  std::string name;  ///< in logs, e.g. "sensors"
  bool jetstream = true;
  ConsumerSpec consumer;   ///< JetStream: the durable pull consumer (set up by the caller)
  std::string subject;     ///< JetStream: the filter; core: the subject subscribed to
  std::string queue;       ///< core: the queue group
  int threads = 1;         ///< JetStream: pull threads
  int fetch_size = 100;    ///< JetStream: messages per fetch
  Millis fetch_wait{250};  ///< JetStream: how long one fetch waits; also the back-pressure poll
  FetchStyle fetch_style = FetchStyle::available;  ///< JetStream: see jetstream_fetch.hpp
  std::int64_t fetch_max_bytes = 0;   ///< JetStream, filling fetch: bytes per fetch (0 = any)
  int core_pending_messages = 65536;  ///< core: cnats' buffer before it drops
  std::int64_t core_pending_bytes = 64 << 20;  ///< core: the same in bytes
  RedeliveryPolicy redelivery;                 ///< the nak delay after a handler threw
};

class MessageConsumer {
 public:
  /// Handles one message; takes ownership on normal return (see the class note).
  using Handler = std::function<void(natsMsg*)>;
  /// Waits up to the given time for room; false when there is none yet (asked again).
  using RoomCheck = std::function<bool(Millis)>;
  /// After the messages of one fetch were handled (JetStream), or after each message (core).
  using AfterFetch = std::function<void()>;
  /// Called once per handler failure (e.g. to count it in the service's metrics).
  using OnHandlerError = std::function<void()>;

  struct Hooks {
    RoomCheck room;
    AfterFetch after_fetch;
    OnHandlerError on_handler_error;
  };

  MessageConsumer(NatsClient& nats, MessageSettler& settler, ConsumerOptions options,
                  Handler handler, Hooks hooks = {});
  /// With a handler per pull thread (made on start; for handlers that are not thread-safe).
  MessageConsumer(NatsClient& nats, MessageSettler& settler, ConsumerOptions options,
                  std::function<Handler()> make_handler, Hooks hooks = {});
  ~MessageConsumer();
  MessageConsumer(const MessageConsumer&) = delete;
  MessageConsumer& operator=(const MessageConsumer&) = delete;

  /// Subscribes and starts delivering. Throws NatsError when the subscription fails. In core mode
  /// it returns once the server knows the subscription.
  void start();
  /// Stops taking messages: JetStream threads finish their current fetch and join; the core
  /// subscription is removed. Messages already handed to the handler stay the service's, and
  /// the pull subscriptions stay open so they can still be acked (cnats acks through the
  /// message's subscription: acking after it is destroyed reads freed memory). Idempotent.
  void stop();
  /// Closes the pull subscriptions; call once every message taken has been settled (after
  /// stop()). The destructor does it too. Idempotent.
  void close();
  /// Messages of the durable consumer not yet delivered (JetStream; nullopt on failure or core).
  std::optional<std::uint64_t> pending();
  /// Handler failures caught by the firewall since start.
  std::uint64_t handler_errors() const { return handler_errors_.load(); }

 private:
  void pull_loop(natsSubscription* sub, const Handler& handler);
  std::vector<natsSubscription*> pull_subs_;
  /// Runs `handler` behind the firewall.
  void deliver(const Handler& handler, natsMsg* m);
  static void on_core_message(natsConnection*, natsSubscription*, natsMsg* m, void* closure);

  NatsClient& nats_;
  MessageSettler& settler_;
  ConsumerOptions options_;
  std::function<Handler()> make_handler_;
  Handler core_handler_;
  Hooks hooks_;
  std::atomic<bool> stopping_{false};
  std::atomic<std::uint64_t> handler_errors_{0};
  std::vector<std::thread> threads_;
  natsSubscription* core_sub_ = nullptr;
  LogThrottle fetch_log_{std::chrono::seconds{5}};
  LogThrottle handler_log_{std::chrono::seconds{5}};
};

}  // namespace ste
