#include "evaluator/delivery/webhook_signer.hpp"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <climits>
#include <stdexcept>

namespace ste::eval {

std::string hmac_sha256_hex(std::string_view key, std::string_view data) {
  // HMAC() takes the key length as an int; a longer key would be silently truncated.
  if (key.size() > static_cast<std::size_t>(INT_MAX)) {
    throw std::length_error("hmac_sha256_hex: key too long");
  }
  // An empty string_view may carry a null data() pointer, which OpenSSL 3 treats as "no key"
  // and rejects; any valid pointer with length 0 means the empty key HMAC defines.
  static const unsigned char kNoBytes = 0;
  const void* key_ptr = key.empty() ? &kNoBytes : static_cast<const void*>(key.data());
  const auto* data_ptr =
      data.empty() ? &kNoBytes : reinterpret_cast<const unsigned char*>(data.data());

  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int md_len = 0;
  if (HMAC(EVP_sha256(), key_ptr, static_cast<int>(key.size()), data_ptr, data.size(), md,
           &md_len) == nullptr) {
    // Only an OpenSSL allocation or provider failure gets here; there is no unsigned fallback.
    throw std::runtime_error("hmac_sha256_hex: OpenSSL HMAC failed");
  }

  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(md_len * 2);
  for (unsigned int i = 0; i < md_len; ++i) {
    out.push_back(kHex[md[i] >> 4]);
    out.push_back(kHex[md[i] & 0x0F]);
  }
  return out;
}

std::string signature_header_value(std::string_view secret, std::string_view body) {
  return "sha256=" + hmac_sha256_hex(secret, body);
}

}  // namespace ste::eval
