#pragma once
/// CurlTransport: the HttpTransport on libcurl's multi interface. Each request is a POST with
/// exactly the given headers (no "Expect: 100-continue"), the given connect and total timeouts,
/// no redirects followed, http/https only. Response bodies are read up to kMaxResponseBodyBytes
/// and dropped, then the transfer is cut: a huge or endless body costs neither memory nor the
/// timeout. A guarded request (a tenant's own URL) checks the address libcurl is about to connect
/// to, after name resolution, and refuses a non-public one (webhook_address_guard.hpp).
/// Not thread-safe: one thread drives it (it may be built on another).
#include <cstddef>
#include <map>
#include <memory>
#include <string_view>

#include "evaluator/delivery/http_transport.hpp"

namespace ste::eval {

/// Bytes of a response body read (and dropped) before the transfer is cut. Enough for any
/// ordinary answer, so its connection stays reusable; a larger body is not worth reading.
inline constexpr std::size_t kMaxResponseBodyBytes = 64 * 1024;

/// Pure. `transfer_ok`: libcurl finished without error; `head_complete`: the last response head
/// arrived up to its blank line; `response_code`: libcurl's (0 = none); `error`: libcurl's
/// message. A complete final (>= 200) head decides the attempt by its status even when the body
/// then failed (cut at kMaxResponseBodyBytes, timed out, connection reset): the receiver has
/// answered, and retrying a 2xx would send an accepted alert again.
TransferOutcome transfer_outcome(bool transfer_ok, bool head_complete, long response_code,
                                 std::string_view error);

class CurlTransport final : public HttpTransport {
 public:
  CurlTransport();
  ~CurlTransport() override;
  CurlTransport(const CurlTransport&) = delete;
  CurlTransport& operator=(const CurlTransport&) = delete;

  bool start(std::uint64_t id, const TransferRequest& request) override;
  std::vector<FinishedTransfer> collect() override;
  void wait(std::chrono::milliseconds max) override;

  struct Transfer;  ///< one request on the wire (curl_transport.cpp)

 private:
  void* multi_;                                           ///< CURLM*
  std::map<void*, std::unique_ptr<Transfer>> transfers_;  ///< by CURL*
};

}  // namespace ste::eval
