#include "evaluator/delivery_worker.hpp"

#include <curl/curl.h>

#include <algorithm>
#include <map>

#include "common/log.hpp"
#include "evaluator/webhook_address_guard.hpp"
#include "evaluator/webhook_request.hpp"

namespace ste::eval {

namespace {

/// One request on the wire, owned by the worker thread.
struct InFlight {
  ClaimedDelivery delivery;
  WebhookRequest request;
  curl_slist* headers = nullptr;
  TimePoint started{};
  std::chrono::steady_clock::time_point started_mono{};
  std::string retry_after;
  bool head_complete = false;  ///< the last response head seen has ended (its blank line came)
  std::size_t body_bytes = 0;
  bool body_cut = false;
  bool guard_address = false;   ///< a tenant's own target: only public addresses may be reached
  std::string refused_address;  ///< why the guard refused to connect (empty: it did not)
  char error[CURL_ERROR_SIZE] = {0};
  ~InFlight() { curl_slist_free_all(headers); }
};

// Response bodies are not needed, the status decides. Drop what comes, and past the limit cut the
// transfer (returning short makes libcurl fail it with CURLE_WRITE_ERROR and close the
// connection), so a 10 MB or endless body costs no memory and does not hold the slot.
size_t discard_body(char*, size_t size, size_t n, void* user) {
  auto* f = static_cast<InFlight*>(user);
  f->body_bytes += size * n;
  if (f->body_bytes > kMaxResponseBodyBytes) {
    f->body_cut = true;
    return 0;
  }
  return size * n;
}

size_t capture_header(char* data, size_t size, size_t n, void* user) {
  auto* f = static_cast<InFlight*>(user);
  std::string_view line(data, size * n);
  // A status line starts a head (a 1xx head is followed by another); the blank line ends it.
  if (line.rfind("HTTP/", 0) == 0) f->head_complete = false;
  if (line == "\r\n" || line == "\n") f->head_complete = true;
  constexpr std::string_view kName = "retry-after:";
  if (line.size() > kName.size()) {
    std::string lower(line.substr(0, kName.size()));
    for (auto& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (lower == kName) {
      auto v = line.substr(kName.size());
      while (!v.empty() && (v.front() == ' ' || v.front() == '\t')) v.remove_prefix(1);
      while (!v.empty() && (v.back() == '\r' || v.back() == '\n' || v.back() == ' '))
        v.remove_suffix(1);
      f->retry_after = std::string(v);
    }
  }
  return size * n;
}

// libcurl asks us for each socket it is about to connect, with the resolved address: the one
// place where a name that resolves to a private address is still caught.
curl_socket_t open_guarded_socket(void* user, curlsocktype, curl_sockaddr* a) {
  auto* f = static_cast<InFlight*>(user);
  if (f->guard_address) {
    if (auto why = non_public_address_reason(&a->addr)) {
      if (f->refused_address.empty()) f->refused_address = *why;
      return CURL_SOCKET_BAD;
    }
  }
  return ::socket(a->family, a->socktype | SOCK_CLOEXEC, a->protocol);
}

WebhookRequest build_request(const ClaimedDelivery& d) {
  if (d.target == "notification_hub")
    return notification_hub_request(d.url, d.credential, d.alert_id, d.alert_json);
  return workflow_engine_request(d.url, d.credential, d.id, d.alert_json);
}

CURL* make_easy(InFlight& f, const DeliveryConfig& cfg) {
  CURL* easy = curl_easy_init();
  if (!easy) return nullptr;
  for (const auto& [name, value] : f.request.headers) {
    f.headers = curl_slist_append(f.headers, (name + ": " + value).c_str());
  }
  // libcurl would add "Expect: 100-continue" for larger bodies; the contract's headers are exact.
  f.headers = curl_slist_append(f.headers, "Expect:");
  curl_easy_setopt(easy, CURLOPT_URL, f.request.url.c_str());
  curl_easy_setopt(easy, CURLOPT_POST, 1L);
  curl_easy_setopt(easy, CURLOPT_POSTFIELDS, f.request.body.data());
  curl_easy_setopt(easy, CURLOPT_POSTFIELDSIZE_LARGE,
                   static_cast<curl_off_t>(f.request.body.size()));
  curl_easy_setopt(easy, CURLOPT_HTTPHEADER, f.headers);
  curl_easy_setopt(easy, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(cfg.connect_timeout.count()));
  curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS, static_cast<long>(cfg.total_timeout.count()));
  curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(easy, CURLOPT_FOLLOWLOCATION, 0L);
  curl_easy_setopt(easy, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, discard_body);
  curl_easy_setopt(easy, CURLOPT_WRITEDATA, &f);
  curl_easy_setopt(easy, CURLOPT_HEADERFUNCTION, capture_header);
  curl_easy_setopt(easy, CURLOPT_HEADERDATA, &f);
  curl_easy_setopt(easy, CURLOPT_ERRORBUFFER, f.error);
  curl_easy_setopt(easy, CURLOPT_PRIVATE, &f);
  curl_easy_setopt(easy, CURLOPT_OPENSOCKETFUNCTION, open_guarded_socket);
  curl_easy_setopt(easy, CURLOPT_OPENSOCKETDATA, &f);
  return easy;
}

}  // namespace

TransferOutcome transfer_outcome(bool transfer_ok, bool head_complete, long response_code,
                                 std::string_view error) {
  if (response_code > 0 && (transfer_ok || (head_complete && response_code >= 200))) {
    return {static_cast<int>(response_code), {}};
  }
  return {std::nullopt, error.empty() ? std::string("no response") : std::string(error)};
}

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

DeliveryWorker::DeliveryWorker(PgPool& pool, DeliveryConfig config, DeliveryMetrics& metrics)
    : pool_(pool), config_(std::move(config)), metrics_(metrics) {
  // A lease shorter than a send would let another instance claim the row mid-send.
  config_.lease = std::max(config_.lease, std::chrono::ceil<std::chrono::seconds>(
                                              config_.total_timeout + std::chrono::seconds{30}));
}

DeliveryWorker::~DeliveryWorker() { stop(); }

void DeliveryWorker::start() {
  thread_ = std::thread([this] { run(); });
}

void DeliveryWorker::stop() {
  stopping_ = true;
  if (thread_.joinable()) thread_.join();
}

void DeliveryWorker::run() {
  CURLM* multi = curl_multi_init();
  std::map<CURL*, std::unique_ptr<InFlight>> in_flight;
  // The URLs of the requests in flight (at most max_in_flight), for the per-URL cap.
  const auto urls_in_flight = [&in_flight] {
    std::vector<std::string> urls;
    urls.reserve(in_flight.size());
    for (const auto& [easy, f] : in_flight) urls.push_back(f->delivery.url);
    return urls;
  };
  std::mt19937_64 rng{std::random_device{}()};
  auto next_claim = std::chrono::steady_clock::now();
  auto next_backlog = std::chrono::steady_clock::now();
  TimePoint last_warning{};
  const auto warn_limited = [&](std::string_view msg, const std::exception& e) {
    const auto now = SysClock::now();
    if (now - last_warning < std::chrono::seconds{5}) return;
    last_warning = now;
    log::warn(msg, {{"error", e.what()}});
  };

  for (;;) {
    const auto mono = std::chrono::steady_clock::now();
    if (stopping_ && in_flight.empty()) break;
    const int room = config_.max_in_flight - static_cast<int>(in_flight.size());
    if (!stopping_ && room > 0 && mono >= next_claim) {
      try {
        auto db = pool_.acquire();
        // One claim takes at most a URL's cap, and skips URLs at their cap: a target that
        // hangs holds at most 2 x cap - 1 slots, whatever its backlog.
        auto claimed = claim_deliveries(
            *db, std::min(room, config_.max_in_flight_per_url), config_.lease, config_.defaults,
            saturated_urls(urls_in_flight(), config_.max_in_flight_per_url));
        if (claimed.empty()) next_claim = mono + config_.idle_poll;
        for (auto& d : claimed) {
          auto f = std::make_unique<InFlight>();
          f->delivery = std::move(d);
          f->request = build_request(f->delivery);
          f->started = SysClock::now();
          f->started_mono = std::chrono::steady_clock::now();
          f->guard_address = must_guard_address(f->delivery.url, config_.defaults.hub_url,
                                                config_.defaults.workflow_url,
                                                config_.allow_private_tenant_targets);
          CURL* easy = make_easy(*f, config_);
          if (!easy) continue;  // lease expires; retried later
          curl_multi_add_handle(multi, easy);
          in_flight.emplace(easy, std::move(f));
        }
      } catch (const std::exception& e) {
        warn_limited("cannot claim deliveries", e);
        next_claim = mono + std::chrono::seconds{1};
      }
    }
    if (mono >= next_backlog) {
      next_backlog = mono + std::chrono::seconds{2};
      try {
        auto db = pool_.acquire();
        const Backlog b = delivery_backlog(*db);
        metrics_.pending.Set(static_cast<double>(b.pending));
        metrics_.oldest_pending_seconds.Set(b.oldest_pending_seconds);
      } catch (const std::exception& e) {
        warn_limited("cannot read delivery backlog", e);
      }
    }

    int running = 0;
    curl_multi_perform(multi, &running);
    int queued = 0;
    while (CURLMsg* m = curl_multi_info_read(multi, &queued)) {
      if (m->msg != CURLMSG_DONE) continue;
      CURL* easy = m->easy_handle;
      auto it = in_flight.find(easy);
      if (it == in_flight.end()) continue;
      InFlight& f = *it->second;
      const double secs =
          std::chrono::duration<double>(std::chrono::steady_clock::now() - f.started_mono).count();
      AttemptRecord rec;
      rec.attempt = f.delivery.attempts + 1;
      rec.started = f.started;
      rec.duration_ms = secs * 1000;
      long code = 0;
      curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &code);
      const bool transfer_ok = m->data.result == CURLE_OK;
      const std::string transfer_error = transfer_ok  ? std::string()
                                         : f.error[0] ? f.error
                                                      : curl_easy_strerror(m->data.result);
      TransferOutcome got = transfer_outcome(transfer_ok, f.head_complete, code, transfer_error);
      rec.http_status = got.http_status;
      rec.error = std::move(got.error);
      rec.verdict = classify_attempt(rec.http_status, rec.attempt, config_.policy);
      if (!f.refused_address.empty()) {
        // Not a passing network failure: the URL itself is not allowed, so it is not retried.
        rec.error = "not sent: " + f.refused_address +
                    "; a tenant's webhook may only reach public addresses "
                    "(STE_ALLOW_PRIVATE_TENANT_WEBHOOKS)";
        rec.verdict = AttemptVerdict::failed;
      }
      if (rec.verdict == AttemptVerdict::retry) {
        rec.retry_in = next_delay(rec.attempt, parse_retry_after(f.retry_after, SysClock::now()),
                                  config_.policy, rng);
      }
      const std::string outcome = rec.verdict == AttemptVerdict::delivered ? "delivered"
                                  : rec.verdict == AttemptVerdict::retry   ? "retry"
                                                                           : "failed";
      metrics_.attempt(f.delivery.target, outcome, secs);
      try {
        auto db = pool_.acquire();
        record_attempt(*db, f.delivery, rec);
      } catch (const std::exception& e) {
        // Not recorded: the lease runs out and the delivery is attempted again.
        warn_limited("cannot record delivery attempt", e);
      }
      // The body's own failure (a timeout or reset after the head) does not change the outcome,
      // but an operator may want to see it.
      const std::string_view body_error =
          rec.http_status && !f.body_cut ? std::string_view(transfer_error) : std::string_view();
      log::info("delivery attempt", {{"delivery_id", f.delivery.id},
                                     {"target", f.delivery.target},
                                     {"attempt", rec.attempt},
                                     {"status", rec.http_status ? *rec.http_status : 0},
                                     {"error", rec.error},
                                     {"body_bytes", f.body_bytes},
                                     {"body_error", body_error},
                                     {"outcome", outcome}});
      curl_multi_remove_handle(multi, easy);
      curl_easy_cleanup(easy);
      in_flight.erase(it);
    }
    curl_multi_poll(multi, nullptr, 0, in_flight.empty() ? 100 : 50, nullptr);
  }
  curl_multi_cleanup(multi);
}

}  // namespace ste::eval
