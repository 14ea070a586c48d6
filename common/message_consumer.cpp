#include "common/message_consumer.hpp"

#include <exception>

#include "common/jetstream_fetch.hpp"
#include "common/log.hpp"

namespace ste {

MessageConsumer::MessageConsumer(NatsClient& nats, MessageSettler& settler, ConsumerOptions options,
                                 Handler handler, Hooks hooks)
    : MessageConsumer(
          nats, settler, std::move(options), [handler = std::move(handler)] { return handler; },
          std::move(hooks)) {}

MessageConsumer::MessageConsumer(NatsClient& nats, MessageSettler& settler, ConsumerOptions options,
                                 std::function<Handler()> make_handler, Hooks hooks)
    : nats_(nats),
      settler_(settler),
      options_(std::move(options)),
      make_handler_(std::move(make_handler)),
      hooks_(std::move(hooks)) {}

MessageConsumer::~MessageConsumer() {
  stop();
  close();
}

void MessageConsumer::start() {
  stopping_ = false;
  if (options_.jetstream) {
    // Bind every subscription first, so a failure throws here rather than on a thread.
    std::vector<natsSubscription*> subs;
    try {
      for (int i = 0; i < std::max(1, options_.threads); ++i) {
        subs.push_back(nats_.pull_subscribe(options_.consumer, options_.subject));
      }
    } catch (...) {
      for (auto* s : subs) natsSubscription_Destroy(s);
      throw;
    }
    for (std::size_t i = 0; i < subs.size(); ++i) {
      pull_subs_.push_back(subs[i]);
      threads_.emplace_back(
          [this, sub = subs[i], handler = make_handler_()] { pull_loop(sub, handler); });
    }
    return;
  }
  core_handler_ = make_handler_();
  nats_check(natsConnection_QueueSubscribe(&core_sub_, nats_.conn(), options_.subject.c_str(),
                                           options_.queue.c_str(), on_core_message, this),
             "subscribe " + options_.subject);
  natsSubscription_SetPendingLimits(core_sub_, options_.core_pending_messages,
                                    static_cast<int>(options_.core_pending_bytes));
  // At most once: the server must know the subscription before the service calls itself started.
  nats_.flush(std::chrono::milliseconds{5000});
}

void MessageConsumer::stop() {
  stopping_ = true;
  for (auto& t : threads_) t.join();
  threads_.clear();
  if (core_sub_ != nullptr) {
    natsSubscription_Unsubscribe(core_sub_);
    natsSubscription_Destroy(core_sub_);
    core_sub_ = nullptr;
  }
}

void MessageConsumer::close() {
  stop();
  for (auto* sub : pull_subs_) natsSubscription_Destroy(sub);
  pull_subs_.clear();
}

std::optional<std::uint64_t> MessageConsumer::pending() {
  if (!options_.jetstream) return std::nullopt;
  const auto n = nats_.consumer_counts(options_.consumer.stream, options_.consumer.durable);
  if (!n) return std::nullopt;
  return n->pending;
}

void MessageConsumer::deliver(const Handler& handler, natsMsg* m) {
  try {
    handler(m);
    return;
  } catch (const std::exception& e) {
    ++handler_errors_;
    if (hooks_.on_handler_error) hooks_.on_handler_error();
    if (auto refused = handler_log_.admit(MonoClock::now())) {
      log::error("message handler failed; message handed back",
                 {{"consumer", options_.name},
                  {"subject", natsMsg_GetSubject(m)},
                  {"error", e.what()},
                  {"failures_not_logged", *refused}});
    }
  } catch (...) {
    ++handler_errors_;
    if (hooks_.on_handler_error) hooks_.on_handler_error();
    if (auto refused = handler_log_.admit(MonoClock::now())) {
      log::error("message handler failed with an unknown exception; message handed back",
                 {{"consumer", options_.name}, {"failures_not_logged", *refused}});
    }
  }
  // The handler threw, so the message is still ours: hand it back with its delivery counted.
  if (options_.jetstream) settler_.nak(m, options_.redelivery.first_delay);
  natsMsg_Destroy(m);
}

void MessageConsumer::pull_loop(natsSubscription* sub, const Handler& handler) {
  while (!stopping_) {
    if (hooks_.room && !hooks_.room(options_.fetch_wait)) continue;  // let the service catch up
    natsMsgList list{};
    jsErrCode jerr = static_cast<jsErrCode>(0);
    const natsStatus s = fetch_messages(&list, sub, options_.fetch_size, options_.fetch_wait, &jerr,
                                        options_.fetch_style, options_.fetch_max_bytes);
    if (s == NATS_TIMEOUT) continue;
    if (s != NATS_OK) {
      if (auto refused = fetch_log_.admit(MonoClock::now())) {
        log::warn("fetch failed", {{"consumer", options_.name},
                                   {"status", natsStatus_GetText(s)},
                                   {"jetstream_error", static_cast<int>(jerr)},
                                   {"failures_not_logged", *refused}});
      }
      std::this_thread::sleep_for(options_.fetch_wait);
      continue;
    }
    for (int i = 0; i < list.Count; ++i) {
      natsMsg* m = list.Msgs[i];
      list.Msgs[i] = nullptr;  // ownership moves to the handler
      deliver(handler, m);
    }
    natsMsgList_Destroy(&list);
    if (hooks_.after_fetch) hooks_.after_fetch();
  }
}

void MessageConsumer::on_core_message(natsConnection*, natsSubscription*, natsMsg* m,
                                      void* closure) {
  auto* self = static_cast<MessageConsumer*>(closure);
  // Core mode has no redelivery to lean on; waiting here pushes back into cnats' pending buffer.
  if (self->hooks_.room) {
    while (!self->hooks_.room(self->options_.fetch_wait)) {
    }
  }
  self->deliver(self->core_handler_, m);
  if (self->hooks_.after_fetch) self->hooks_.after_fetch();
}

}  // namespace ste
