#include "evaluator/delivery/webhook_signer.hpp"

#include <catch2/catch.hpp>
#include <string>

using ste::eval::hmac_sha256_hex;
using ste::eval::signature_header_value;

namespace {
std::string bytes(std::size_t n, unsigned char b) { return std::string(n, static_cast<char>(b)); }
}  // namespace

// RFC 4231 §4.2–4.8, HMAC-SHA-256 rows.
TEST_CASE("hmac_sha256_hex matches RFC 4231 test case 1", "[webhook_signer]") {
  CHECK(hmac_sha256_hex(bytes(20, 0x0b), "Hi There") ==
        "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
}

TEST_CASE("hmac_sha256_hex matches RFC 4231 test case 2 with a key shorter than the hash",
          "[webhook_signer]") {
  CHECK(hmac_sha256_hex("Jefe", "what do ya want for nothing?") ==
        "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

TEST_CASE("hmac_sha256_hex matches RFC 4231 test case 3 with non-text key and data",
          "[webhook_signer]") {
  CHECK(hmac_sha256_hex(bytes(20, 0xaa), bytes(50, 0xdd)) ==
        "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe");
}

TEST_CASE("hmac_sha256_hex matches RFC 4231 test case 4 with a 25-byte counting key",
          "[webhook_signer]") {
  std::string key;
  for (int b = 0x01; b <= 0x19; ++b) key.push_back(static_cast<char>(b));
  CHECK(hmac_sha256_hex(key, bytes(50, 0xcd)) ==
        "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b");
}

TEST_CASE("hmac_sha256_hex matches RFC 4231 test case 5 in its truncated 128-bit prefix",
          "[webhook_signer]") {
  // The RFC only publishes the first 128 bits for this case.
  const std::string mac = hmac_sha256_hex(bytes(20, 0x0c), "Test With Truncation");
  REQUIRE(mac.size() == 64);
  CHECK(mac.substr(0, 32) == "a3b6167473100ee06e0c796c2955552b");
}

TEST_CASE("hmac_sha256_hex matches RFC 4231 test case 6 with a key longer than a block",
          "[webhook_signer]") {
  CHECK(
      hmac_sha256_hex(bytes(131, 0xaa), "Test Using Larger Than Block-Size Key - Hash Key First") ==
      "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
}

TEST_CASE("hmac_sha256_hex matches RFC 4231 test case 7 with key and data longer than a block",
          "[webhook_signer]") {
  CHECK(hmac_sha256_hex(bytes(131, 0xaa),
                        "This is a test using a larger than block-size key and a larger than "
                        "block-size data. The key needs to be hashed before being used by the "
                        "HMAC algorithm.") ==
        "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2");
}

TEST_CASE("hmac_sha256_hex is 64 lowercase hex digits", "[webhook_signer]") {
  const std::string mac = hmac_sha256_hex("k", "d");
  CHECK(mac.size() == 64);
  CHECK(mac.find_first_not_of("0123456789abcdef") == std::string::npos);
}

TEST_CASE("hmac_sha256_hex accepts an empty key and empty data", "[webhook_signer]") {
  // HMAC-SHA256("", ""), from `printf '' | openssl dgst -sha256 -hmac ''`.
  CHECK(hmac_sha256_hex("", "") ==
        "b613679a0814d9ec772f95d778c35fc5ff1697c493715653c6c712144292c5ad");
}

TEST_CASE("a workflow engine body signs to what the openssl command line computes",
          "[webhook_signer]") {
  // The exact body workflow_engine_request builds for this alert, including the UTF-8 "ü"
  // (0xC3 0xBC) in the device name, so the signature covers multi-byte characters as bytes.
  const std::string body =
      R"({"event":"alert.created","alert":{"id":"7d2f8a4e-3c1b-4f6a-9e2d-5b8c1a0f3e47",)"
      R"("rule_id":"c91e4b7a-2d3f-4e8b-a1c6-0f9d8e7b6a55","tenant":"acme",)"
      R"("device":"kessel-süd-7","metric":"temperature","condition":"above_threshold",)"
      R"("threshold":80,"value":93.2,"reading_ts":"2026-11-28T11:00:00.123Z","mean":null,)"
      R"("stddev":null,"severity":"critical","message":"temperature 93.2 above 80 on )"
      R"(kessel-süd-7","created_at":"2026-11-28T11:00:00.456Z"}})";
  REQUIRE(body.find("s\xC3\xBC"
                    "d") != std::string::npos);
  // Expected value produced independently with OpenSSL 3.0 on the command line:
  //   printf '%s' '<body above>' | openssl dgst -sha256 -hmac 'whsec_5f2b8c9d1e3a4f6b'
  const std::string expected = "75ca8ec0da49c5166a6792bf7557a9e444e1e78fe3bb8b1b0c8b1f10387855a1";
  CHECK(hmac_sha256_hex("whsec_5f2b8c9d1e3a4f6b", body) == expected);
  CHECK(signature_header_value("whsec_5f2b8c9d1e3a4f6b", body) == "sha256=" + expected);
}

TEST_CASE("any change to the body bytes changes the signature", "[webhook_signer]") {
  const std::string a = hmac_sha256_hex("secret", R"({"event":"alert.created"})");
  CHECK(hmac_sha256_hex("secret", R"({"event": "alert.created"})") != a);
  CHECK(hmac_sha256_hex("secret", R"({"event":"alert.created"})"
                                  "\n") != a);
  CHECK(hmac_sha256_hex("secret2", R"({"event":"alert.created"})") != a);
}
