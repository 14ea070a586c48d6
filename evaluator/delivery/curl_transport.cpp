#include "evaluator/delivery/curl_transport.hpp"

#include <curl/curl.h>
#include <sys/socket.h>

#include <cctype>
#include <string>

#include "evaluator/delivery/webhook_address_guard.hpp"

namespace ste::eval {

/// One request on the wire: what libcurl's callbacks write into, and what must outlive the easy
/// handle (the body and header list are not copied by libcurl).
struct CurlTransport::Transfer {
  std::uint64_t id = 0;
  TransferRequest request;
  curl_slist* headers = nullptr;
  std::string retry_after;
  bool head_complete = false;  ///< the last response head seen has ended (its blank line came)
  std::size_t body_bytes = 0;
  bool body_cut = false;
  std::string refused_address;  ///< why the guard refused to connect (empty: it did not)
  char error[CURL_ERROR_SIZE] = {0};
  ~Transfer() { curl_slist_free_all(headers); }
};

namespace {

using Transfer = CurlTransport::Transfer;

// Response bodies are not needed, the status decides. Drop what comes, and past the limit cut the
// transfer (returning short makes libcurl fail it with CURLE_WRITE_ERROR and close the
// connection), so a 10 MB or endless body costs no memory and does not hold the slot.
size_t discard_body(char*, size_t size, size_t n, void* user) {
  auto* f = static_cast<Transfer*>(user);
  f->body_bytes += size * n;
  if (f->body_bytes > kMaxResponseBodyBytes) {
    f->body_cut = true;
    return 0;
  }
  return size * n;
}

size_t capture_header(char* data, size_t size, size_t n, void* user) {
  auto* f = static_cast<Transfer*>(user);
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
  auto* f = static_cast<Transfer*>(user);
  if (f->request.guard_address) {
    if (auto why = non_public_address_reason(&a->addr)) {
      if (f->refused_address.empty()) f->refused_address = *why;
      return CURL_SOCKET_BAD;
    }
  }
  return ::socket(a->family, a->socktype | SOCK_CLOEXEC, a->protocol);
}

CURL* make_easy(Transfer& f) {
  CURL* easy = curl_easy_init();
  if (!easy) return nullptr;
  const WebhookRequest& req = f.request.request;
  for (const auto& [name, value] : req.headers) {
    f.headers = curl_slist_append(f.headers, (name + ": " + value).c_str());
  }
  // libcurl would add "Expect: 100-continue" for larger bodies; the contract's headers are exact.
  f.headers = curl_slist_append(f.headers, "Expect:");
  curl_easy_setopt(easy, CURLOPT_URL, req.url.c_str());
  curl_easy_setopt(easy, CURLOPT_POST, 1L);
  curl_easy_setopt(easy, CURLOPT_POSTFIELDS, req.body.data());
  curl_easy_setopt(easy, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(req.body.size()));
  curl_easy_setopt(easy, CURLOPT_HTTPHEADER, f.headers);
  curl_easy_setopt(easy, CURLOPT_CONNECTTIMEOUT_MS,
                   static_cast<long>(f.request.connect_timeout.count()));
  curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS, static_cast<long>(f.request.total_timeout.count()));
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

CurlTransport::CurlTransport() : multi_(curl_multi_init()) {}

CurlTransport::~CurlTransport() {
  auto* multi = static_cast<CURLM*>(multi_);
  for (auto& [easy, f] : transfers_) {
    if (multi) curl_multi_remove_handle(multi, static_cast<CURL*>(easy));
    curl_easy_cleanup(static_cast<CURL*>(easy));
  }
  transfers_.clear();
  if (multi) curl_multi_cleanup(multi);
}

bool CurlTransport::start(std::uint64_t id, const TransferRequest& request) {
  auto* multi = static_cast<CURLM*>(multi_);
  if (!multi) return false;
  auto f = std::make_unique<Transfer>();
  f->id = id;
  f->request = request;
  CURL* easy = make_easy(*f);
  if (!easy) return false;
  if (curl_multi_add_handle(multi, easy) != CURLM_OK) {
    curl_easy_cleanup(easy);
    return false;
  }
  transfers_.emplace(easy, std::move(f));
  return true;
}

std::vector<FinishedTransfer> CurlTransport::collect() {
  std::vector<FinishedTransfer> out;
  auto* multi = static_cast<CURLM*>(multi_);
  if (!multi) return out;
  int running = 0;
  curl_multi_perform(multi, &running);
  int queued = 0;
  while (CURLMsg* m = curl_multi_info_read(multi, &queued)) {
    if (m->msg != CURLMSG_DONE) continue;
    CURL* easy = m->easy_handle;
    auto it = transfers_.find(easy);
    if (it == transfers_.end()) continue;
    Transfer& f = *it->second;
    long code = 0;
    curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &code);
    const bool transfer_ok = m->data.result == CURLE_OK;
    const std::string transfer_error = transfer_ok  ? std::string()
                                       : f.error[0] ? f.error
                                                    : curl_easy_strerror(m->data.result);
    FinishedTransfer done;
    done.id = f.id;
    done.outcome = transfer_outcome(transfer_ok, f.head_complete, code, transfer_error);
    done.retry_after = std::move(f.retry_after);
    done.refused_address = std::move(f.refused_address);
    done.body_bytes = f.body_bytes;
    // The body's own failure (a timeout or reset after the head) does not change the outcome,
    // but an operator may want to see it.
    if (done.outcome.http_status && !f.body_cut) done.body_error = transfer_error;
    out.push_back(std::move(done));
    curl_multi_remove_handle(multi, easy);
    curl_easy_cleanup(easy);
    transfers_.erase(it);
  }
  return out;
}

void CurlTransport::wait(std::chrono::milliseconds max) {
  auto* multi = static_cast<CURLM*>(multi_);
  if (!multi) return;
  curl_multi_poll(multi, nullptr, 0, static_cast<int>(max.count()), nullptr);
}

}  // namespace ste::eval
