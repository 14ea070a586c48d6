#pragma once
/// HttpTransport: the port through which the DeliveryWorker sends webhook requests. The worker
/// starts a request (a WebhookRequest with its limits) under an id of its choosing and later
/// collects the finished transfers by id; the transport enforces the timeouts it is given, so
/// every request started is eventually reported finished, and never follows redirects.
/// CurlTransport (curl_transport.hpp) is the real adapter (libcurl multi); unit tests use
/// tests/unit/support/fake_http_transport.hpp. Not thread-safe: one thread (the worker's) drives
/// it; none of its calls throws.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "evaluator/delivery/webhook_request.hpp"

namespace ste::eval {

/// What one finished transfer records: the HTTP status, or, when there is none, the error.
struct TransferOutcome {
  std::optional<int> http_status;
  std::string error;  ///< empty when http_status is set
};

/// One request to send.
struct TransferRequest {
  WebhookRequest request;  ///< POSTed as is: exactly these headers, this body
  std::chrono::milliseconds connect_timeout{2000};
  std::chrono::milliseconds total_timeout{5000};  ///< the whole transfer, response included
  /// A tenant's own target: only public addresses may be reached (webhook_address_guard.hpp).
  bool guard_address = false;
};

/// One transfer that has ended, whatever way.
struct FinishedTransfer {
  std::uint64_t id = 0;  ///< as given to start()
  TransferOutcome outcome;
  std::string retry_after;      ///< the response's Retry-After value, as sent (empty: none)
  std::string refused_address;  ///< why the address guard refused to connect (empty: it did not)
  std::size_t body_bytes = 0;   ///< response body bytes read (and dropped)
  /// The body's own failure (a timeout or reset after a complete head) when it did not change the
  /// outcome: logged for an operator, not recorded.
  std::string body_error;
};

class HttpTransport {
 public:
  virtual ~HttpTransport() = default;
  /// Starts sending; false when it cannot even start (nothing will be reported for `id`).
  virtual bool start(std::uint64_t id, const TransferRequest& request) = 0;
  /// Moves the transfers on without blocking and returns those that have ended since the last
  /// call.
  virtual std::vector<FinishedTransfer> collect() = 0;
  /// Blocks until a transfer has something to do, or at most `max`.
  virtual void wait(std::chrono::milliseconds max) = 0;
};

}  // namespace ste::eval
