#include "evaluator/stream/stream_source.hpp"

#include <string_view>

#include "common/log.hpp"

namespace ste::stream {

namespace {
constexpr std::string_view kAlertsPrefix = "ste.alerts.";

void unsubscribe(natsSubscription*& sub) {
  if (sub == nullptr) return;
  // Drained, not just unsubscribed: the wait returns once the handler has finished with the last
  // message it was given, so the hub it calls may go away after this.
  if (natsSubscription_Drain(sub) == NATS_OK) {
    natsSubscription_WaitForDrainCompletion(sub, 2000);
  } else {
    natsSubscription_Unsubscribe(sub);
  }
  natsSubscription_Destroy(sub);
  sub = nullptr;
}
}  // namespace

StreamSource::StreamSource(NatsClient& nats, StreamHub& hub) : hub_(hub) {
  nats_check(natsConnection_Subscribe(&alerts_, nats.conn(), "ste.alerts.*", &on_alert, this),
             "subscribe ste.alerts.*");
  try {
    nats_check(
        natsConnection_Subscribe(&summaries_, nats.conn(), kBatchesSubject, &on_summary, this),
        std::string("subscribe ") + kBatchesSubject);
  } catch (...) {
    unsubscribe(alerts_);
    throw;
  }
}

StreamSource::~StreamSource() {
  unsubscribe(alerts_);
  unsubscribe(summaries_);
}

void StreamSource::on_alert(natsConnection*, natsSubscription*, natsMsg* msg, void* self) {
  auto* s = static_cast<StreamSource*>(self);
  const std::string_view subject = natsMsg_GetSubject(msg);
  if (subject.size() > kAlertsPrefix.size()) {
    s->hub_.on_alert(
        std::string(subject.substr(kAlertsPrefix.size())),
        std::string(natsMsg_GetData(msg), static_cast<std::size_t>(natsMsg_GetDataLength(msg))));
  }
  natsMsg_Destroy(msg);
}

void StreamSource::on_summary(natsConnection*, natsSubscription*, natsMsg* msg, void* self) {
  auto* s = static_cast<StreamSource*>(self);
  if (s->hub_.has_subscribers()) {
    const std::string_view data(natsMsg_GetData(msg),
                                static_cast<std::size_t>(natsMsg_GetDataLength(msg)));
    auto parsed = s->parser_.parse(data);
    if (auto* summary = std::get_if<eval::Summary>(&parsed)) {
      for (const auto& t : summary->tuples) {
        if (t.tenant.empty() || t.device.empty()) continue;  // no labels: nothing to show
        s->hub_.on_reading(t.tenant, t.device, t.metric, {t.last, t.last_ts});
      }
    }
    // An undecodable summary is the summary consumer's business (it dead-letters it); the live
    // view just skips it.
  }
  natsMsg_Destroy(msg);
}

}  // namespace ste::stream
