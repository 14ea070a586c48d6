#include "evaluator/delivery/delivery_worker.hpp"

#include <algorithm>
#include <utility>

#include "common/log.hpp"
#include "evaluator/delivery/webhook_address_guard.hpp"
#include "evaluator/delivery/webhook_request.hpp"

namespace ste::eval {

namespace {

WebhookRequest build_request(const ClaimedDelivery& d) {
  if (d.target == "notification_hub")
    return notification_hub_request(d.url, d.credential, d.alert_id, d.alert_json, d.transition);
  return workflow_engine_request(d.url, d.credential, d.id, d.alert_json, d.alert_id, d.transition);
}

}  // namespace

std::vector<std::string> saturated_urls(const std::vector<std::string>& in_flight_urls,
                                        int per_url_cap) {
  std::map<std::string, int> per_url;
  for (const auto& url : in_flight_urls) ++per_url[url];
  std::vector<std::string> out;
  for (const auto& [url, n] : per_url) {
    if (n >= per_url_cap) out.push_back(url);
  }
  return out;
}

std::chrono::seconds claim_lease(std::chrono::seconds lease,
                                 std::chrono::milliseconds total_timeout) {
  // A lease shorter than a send would let another instance claim the row mid-send.
  return std::max(
      lease, std::chrono::ceil<std::chrono::seconds>(total_timeout + std::chrono::seconds{30}));
}

DeliveryWorker::DeliveryWorker(Outbox& outbox, HttpTransport& transport, const Clock& clock,
                               DeliveryConfig config, DeliveryMetrics& metrics,
                               std::uint64_t jitter_seed)
    : outbox_(outbox),
      transport_(transport),
      clock_(clock),
      config_(std::move(config)),
      metrics_(metrics),
      rng_(jitter_seed) {
  config_.lease = claim_lease(config_.lease, config_.total_timeout);
  next_claim_ = clock_.mono();
  next_backlog_ = clock_.mono();
}

DeliveryWorker::~DeliveryWorker() { stop(); }

void DeliveryWorker::start() {
  thread_ = std::thread([this] { run(); });
}

void DeliveryWorker::request_stop() { stopping_ = true; }

void DeliveryWorker::stop() {
  request_stop();
  if (thread_.joinable()) thread_.join();
}

void DeliveryWorker::run() {
  while (pump()) transport_.wait(in_flight_.empty() ? Millis{100} : Millis{50});
}

bool DeliveryWorker::pump() {
  const MonoPoint now = clock_.mono();
  if (stopping_ && in_flight_.empty()) return false;
  if (!stopping_ && now >= next_claim_) claim(now);
  if (now >= next_backlog_) {
    next_backlog_ = now + std::chrono::seconds{2};
    try {
      const Backlog b = outbox_.backlog();
      metrics_.pending.Set(static_cast<double>(b.pending));
      metrics_.oldest_pending_seconds.Set(b.oldest_pending_seconds);
    } catch (const std::exception& e) {
      warn_limited("cannot read delivery backlog", e);
    }
  }
  for (auto& done : transport_.collect()) finish(std::move(done));
  return !(stopping_ && in_flight_.empty());
}

void DeliveryWorker::claim(MonoPoint now) {
  const int room = config_.max_in_flight - static_cast<int>(in_flight_.size());
  if (room <= 0) return;
  // The URLs of the requests in flight (at most max_in_flight), for the per-URL cap.
  std::vector<std::string> urls;
  urls.reserve(in_flight_.size());
  for (const auto& [id, f] : in_flight_) urls.push_back(f.delivery.url);
  std::vector<ClaimedDelivery> claimed;
  try {
    // One claim takes at most a URL's cap, and skips URLs at their cap: a target that hangs
    // holds at most 2 x cap - 1 slots, whatever its backlog.
    claimed = outbox_.claim(std::min(room, config_.max_in_flight_per_url), config_.lease,
                            saturated_urls(urls, config_.max_in_flight_per_url));
  } catch (const std::exception& e) {
    warn_limited("cannot claim deliveries", e);
    next_claim_ = now + std::chrono::seconds{1};
    return;
  }
  if (claimed.empty()) next_claim_ = now + config_.idle_poll;
  for (auto& d : claimed) {
    TransferRequest req;
    req.request = build_request(d);
    req.connect_timeout = config_.connect_timeout;
    req.total_timeout = config_.total_timeout;
    req.guard_address =
        must_guard_address(d.url, config_.defaults.hub_url, config_.defaults.workflow_url,
                           config_.allow_private_tenant_targets);
    const std::uint64_t id = next_id_++;
    InFlight f{std::move(d), clock_.now(), clock_.mono()};
    if (!transport_.start(id, req)) continue;  // the lease expires; retried later
    in_flight_.emplace(id, std::move(f));
  }
}

void DeliveryWorker::finish(FinishedTransfer done) {
  auto it = in_flight_.find(done.id);
  if (it == in_flight_.end()) return;
  const InFlight& f = it->second;
  const double secs = std::chrono::duration<double>(clock_.mono() - f.started_mono).count();
  AttemptRecord rec;
  rec.attempt = f.delivery.attempts + 1;
  rec.started = f.started;
  rec.duration_ms = secs * 1000;
  rec.http_status = done.outcome.http_status;
  rec.error = std::move(done.outcome.error);
  rec.verdict = classify_attempt(rec.http_status, rec.attempt, config_.policy);
  if (!done.refused_address.empty()) {
    // Not a passing network failure: the URL itself is not allowed, so it is not retried.
    rec.error = "not sent: " + done.refused_address +
                "; a tenant's webhook may only reach public addresses "
                "(STE_ALLOW_PRIVATE_TENANT_WEBHOOKS)";
    rec.verdict = AttemptVerdict::failed;
  }
  if (rec.verdict == AttemptVerdict::retry) {
    rec.retry_in = next_delay(rec.attempt, parse_retry_after(done.retry_after, clock_.now()),
                              config_.policy, rng_);
  }
  const std::string outcome(verdict_name(rec.verdict));
  metrics_.attempt(f.delivery.target, outcome, secs);
  try {
    outbox_.record(f.delivery, rec);
  } catch (const std::exception& e) {
    // Not recorded: the lease runs out and the delivery is attempted again.
    warn_limited("cannot record delivery attempt", e);
  }
  log::info("delivery attempt", {{"delivery_id", f.delivery.id},
                                 {"target", f.delivery.target},
                                 {"attempt", rec.attempt},
                                 {"status", rec.http_status ? *rec.http_status : 0},
                                 {"error", rec.error},
                                 {"body_bytes", done.body_bytes},
                                 {"body_error", done.body_error},
                                 {"outcome", outcome}});
  in_flight_.erase(it);
}

void DeliveryWorker::warn_limited(std::string_view msg, const std::exception& e) {
  if (auto refused = warnings_.admit(clock_.mono())) {
    log::warn(msg, {{"error", e.what()}, {"failures_not_logged", *refused}});
  }
}

}  // namespace ste::eval
