#pragma once
/// JetStream async publisher that knows, exactly, how many readings the stream has acknowledged.
///
/// Each message goes out with `js_PublishMsgAsync` (at most `max_pending` un-acked, cnats stalls
/// the caller beyond that) and a `Nats-Msg-Id`, so a re-sent message whose first ack was merely
/// lost is deduplicated by the stream instead of being stored twice. A failed or timed-out ack
/// hands the message back to us; it is re-published from the publishing thread after a short
/// backoff, up to `max_attempts` times, then counted as failed.
///
/// Lifecycle: construct on a connected natsConnection, publish(), call settle() until it returns
/// true (or abandon()), then read counters(). Concurrency: publish/resend_due/settle/abandon are
/// called from one publishing thread; the ack handler runs on cnats' reply thread. `mu_` guards
/// `inflight_`, `retry_` and `counters_`; it is never held across a cnats call.
#include <nats/nats.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <deque>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

namespace ste::loadgen {

struct PublishCounters {
  std::uint64_t acked_readings = 0;
  std::uint64_t acked_messages = 0;
  std::uint64_t failed_readings = 0;
  std::uint64_t failed_messages = 0;
  std::uint64_t retries = 0;  ///< re-publish attempts after a failed or missing ack
};

struct JsPublisherOptions {
  std::int64_t max_pending = 4096;
  int max_attempts = 10;
  std::chrono::milliseconds ack_wait{10000};  ///< per-message ack timeout before a retry
};

class JsPublisher {
 public:
  JsPublisher(natsConnection* nc, JsPublisherOptions opts);
  ~JsPublisher();
  JsPublisher(const JsPublisher&) = delete;
  JsPublisher& operator=(const JsPublisher&) = delete;

  /// Publishes one message carrying `readings` readings. Blocks while max_pending are in flight.
  /// A message cnats refuses outright (connection closed) is counted as failed at once.
  void publish(const std::string& subject, std::string_view payload, std::uint32_t readings,
               const std::string& msg_id);
  /// Re-publishes failed messages whose backoff has elapsed. Cheap when there are none.
  void resend_due();
  /// Waits up to `step` for outstanding acks and re-sends due retries. True when nothing is left
  /// in flight or waiting for a retry.
  bool settle(std::chrono::milliseconds step);
  /// Gives up on everything outstanding (second signal): counted as failed.
  void abandon();

  PublishCounters counters() const;
  /// Messages published and not yet acknowledged or given up on (including queued retries).
  std::size_t outstanding() const;

 private:
  struct Entry {
    std::uint32_t readings;
    int attempts;
  };
  struct Retry {
    natsMsg* msg;
    std::chrono::steady_clock::time_point due;
  };

  static void on_ack(jsCtx* js, natsMsg* msg, jsPubAck* pa, jsPubAckErr* pae, void* closure);
  void handle_ack(natsMsg* msg, jsPubAck* pa, jsPubAckErr* pae);
  /// Sends a message we own; on a refusal other than back-pressure, counts it failed.
  void send_owned(natsMsg* msg);
  void count_failed_locked(natsMsg* msg);

  JsPublisherOptions opts_;
  jsCtx* js_ = nullptr;
  jsPubOptions pub_opts_;

  mutable std::mutex mu_;
  std::unordered_map<natsMsg*, Entry> inflight_;  ///< every message we published, until final
  std::deque<Retry> retry_;
  PublishCounters counters_;
  std::atomic<std::size_t> retry_queued_{0};  ///< lock-free "anything to resend?" check
  std::uint64_t error_logs_ = 0;
};

}  // namespace ste::loadgen
