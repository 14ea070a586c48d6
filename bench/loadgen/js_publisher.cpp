#include "bench/loadgen/js_publisher.hpp"

#include <algorithm>
#include <thread>
#include <vector>

#include "common/log.hpp"
#include "common/nats_client.hpp"

namespace ste::loadgen {

namespace {

using SteadyClock = std::chrono::steady_clock;

constexpr const char* kMsgIdHeader = "Nats-Msg-Id";

// 100 ms doubling, capped at 2 s: long enough for a JetStream leader election or a reconnect,
// short enough that a benchmark run is not dominated by one bad moment.
std::chrono::milliseconds retry_backoff(int attempts) {
  const int shift = std::min(attempts - 1, 5);
  return std::min(std::chrono::milliseconds{100 << shift}, std::chrono::milliseconds{2000});
}

}  // namespace

JsPublisher::JsPublisher(natsConnection* nc, JsPublisherOptions opts) : opts_(opts) {
  jsOptions jo;
  jsOptions_Init(&jo);
  jo.PublishAsync.MaxPending = opts_.max_pending;
  // The AckHandler sees every outcome (ErrHandler only failures): that is what makes the
  // acknowledged count exact rather than "sent minus errors".
  jo.PublishAsync.AckHandler = &JsPublisher::on_ack;
  jo.PublishAsync.AckHandlerClosure = this;
  nats_check(natsConnection_JetStream(&js_, nc, &jo), "jetstream context for async publish");
  jsPubOptions_Init(&pub_opts_);
  pub_opts_.MaxWait = opts_.ack_wait.count();
}

JsPublisher::~JsPublisher() {
  if (outstanding() > 0) abandon();
  jsCtx_Destroy(js_);
}

void JsPublisher::on_ack(jsCtx*, natsMsg* msg, jsPubAck* pa, jsPubAckErr* pae, void* closure) {
  static_cast<JsPublisher*>(closure)->handle_ack(msg, pa, pae);
}

void JsPublisher::handle_ack(natsMsg* msg, jsPubAck* pa, jsPubAckErr* pae) {
  std::unique_lock lock(mu_);
  auto it = inflight_.find(msg);
  if (it == inflight_.end()) {  // abandoned meanwhile: already counted as failed
    lock.unlock();
    natsMsg_Destroy(msg);
    return;
  }
  if (pa != nullptr) {  // stored (a Duplicate ack means an earlier attempt was stored)
    counters_.acked_readings += it->second.readings;
    ++counters_.acked_messages;
    inflight_.erase(it);
    lock.unlock();
    natsMsg_Destroy(msg);
    return;
  }
  const int attempts = ++it->second.attempts;
  const bool give_up = attempts >= opts_.max_attempts;
  const std::uint64_t failures = ++error_logs_;
  const bool log_it = failures <= 10 || failures % 1000 == 0;  // a dead server means thousands
  const std::string err_text = pae && pae->ErrText ? pae->ErrText : "unknown";
  const natsStatus err = pae ? pae->Err : NATS_ERR;
  const int err_code = pae ? static_cast<int>(pae->ErrCode) : 0;
  const char* subj = natsMsg_GetSubject(msg);
  const std::string subject = subj ? subj : "";
  if (give_up) {
    count_failed_locked(msg);
  } else {
    // Kept, not destroyed: the publishing thread re-sends this very message (same Nats-Msg-Id).
    // Re-publishing from here could stall the thread that delivers the acks.
    retry_.push_back(Retry{msg, SteadyClock::now() + retry_backoff(attempts)});
    retry_queued_.store(retry_.size(), std::memory_order_release);
  }
  lock.unlock();
  if (give_up) natsMsg_Destroy(msg);
  if (log_it) {
    log::warn(give_up ? "publish failed, giving up" : "publish failed, will retry",
              {{"subject", subject},
               {"error", natsStatus_GetText(err)},
               {"detail", err_text},
               {"jetstream_error", err_code},
               {"attempts", attempts},
               {"failures_so_far", failures}});
  }
}

void JsPublisher::count_failed_locked(natsMsg* msg) {
  auto it = inflight_.find(msg);
  if (it == inflight_.end()) return;
  counters_.failed_readings += it->second.readings;
  ++counters_.failed_messages;
  inflight_.erase(it);
}

void JsPublisher::publish(const std::string& subject, std::string_view payload,
                          std::uint32_t readings, const std::string& msg_id) {
  natsMsg* msg = nullptr;
  nats_check(natsMsg_Create(&msg, subject.c_str(), nullptr, payload.data(),
                            static_cast<int>(payload.size())),
             "create message");
  const natsStatus hs = natsMsgHeader_Set(msg, kMsgIdHeader, msg_id.c_str());
  if (hs != NATS_OK) {
    natsMsg_Destroy(msg);
    nats_check(hs, "set Nats-Msg-Id");
  }
  {
    // Registered before sending: the ack may arrive before js_PublishMsgAsync returns.
    std::lock_guard lock(mu_);
    inflight_.emplace(msg, Entry{readings, 0});
  }
  send_owned(msg);
}

void JsPublisher::send_owned(natsMsg* msg) {
  for (;;) {
    natsMsg* m = msg;
    const natsStatus s = js_PublishMsgAsync(js_, &m, &pub_opts_);
    if (s == NATS_OK) return;  // cnats owns it now; on_ack reports the outcome
    // NATS_TIMEOUT: stalled at max_pending for StallWait; that is back-pressure, so keep trying.
    if (s == NATS_TIMEOUT) continue;
    {
      std::lock_guard lock(mu_);
      count_failed_locked(msg);
    }
    log::error("publish refused by the client library",
               {{"subject", natsMsg_GetSubject(msg)}, {"error", natsStatus_GetText(s)}});
    natsMsg_Destroy(msg);
    return;
  }
}

void JsPublisher::resend_due() {
  if (retry_queued_.load(std::memory_order_acquire) == 0) return;
  std::vector<natsMsg*> due;
  {
    std::lock_guard lock(mu_);
    const auto now = SteadyClock::now();
    // Roughly FIFO by due time (backoff grows with attempts, so not strictly): scan all.
    for (auto it = retry_.begin(); it != retry_.end();) {
      if (it->due <= now) {
        due.push_back(it->msg);
        it = retry_.erase(it);
      } else {
        ++it;
      }
    }
    counters_.retries += due.size();
    retry_queued_.store(retry_.size(), std::memory_order_release);
  }
  for (natsMsg* m : due) send_owned(m);
}

bool JsPublisher::settle(std::chrono::milliseconds step) {
  resend_due();
  if (outstanding() == 0) return true;
  jsPubOptions wait;
  jsPubOptions_Init(&wait);
  wait.MaxWait = step.count();
  const auto started = SteadyClock::now();
  const natsStatus s = js_PublishAsyncComplete(js_, &wait);
  // Nothing in flight but retries waiting out their backoff: do not spin.
  if (s == NATS_OK && retry_queued_.load() > 0) {
    const auto left = step - (SteadyClock::now() - started);
    if (left > std::chrono::milliseconds{0}) {
      std::this_thread::sleep_for(
          std::min<SteadyClock::duration>(left, std::chrono::milliseconds{10}));
    }
  }
  resend_due();
  return outstanding() == 0;
}

void JsPublisher::abandon() {
  natsMsgList pending{};
  const natsStatus s = js_PublishAsyncGetPendingList(&pending, js_);
  std::lock_guard lock(mu_);
  if (s == NATS_OK) {
    for (int i = 0; i < pending.Count; ++i) count_failed_locked(pending.Msgs[i]);
  }
  for (const Retry& r : retry_) {
    count_failed_locked(r.msg);
    natsMsg_Destroy(r.msg);
  }
  retry_.clear();
  retry_queued_.store(0);
  if (s == NATS_OK) natsMsgList_Destroy(&pending);  // destroys the reclaimed messages
}

PublishCounters JsPublisher::counters() const {
  std::lock_guard lock(mu_);
  return counters_;
}

std::size_t JsPublisher::outstanding() const {
  std::lock_guard lock(mu_);
  return inflight_.size();
}

}  // namespace ste::loadgen
