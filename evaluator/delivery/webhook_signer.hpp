#pragma once
/// HMAC-SHA256 signatures for Workflow Engine deliveries, computed with OpenSSL over the exact
/// body bytes sent. Pure.
#include <string>
#include <string_view>

namespace ste::eval {

/// Lowercase hex HMAC-SHA256(key, data).
std::string hmac_sha256_hex(std::string_view key, std::string_view data);

/// The `X-Hub-Signature-256` header value: "sha256=<lowercase hex>".
std::string signature_header_value(std::string_view secret, std::string_view body);

}  // namespace ste::eval
