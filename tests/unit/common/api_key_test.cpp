#include "common/api_key.hpp"

#include <catch2/catch.hpp>
#include <set>
#include <string>
#include <string_view>

using ste::constant_time_equal;
using ste::generate_api_key;
using ste::sha256_hex;

namespace {
bool is_lower_hex(std::string_view s) {
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}
}  // namespace

TEST_CASE("sha256_hex matches the FIPS 180-2 test vectors", "[api_key]") {
  CHECK(sha256_hex("") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  CHECK(sha256_hex("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  CHECK(sha256_hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq") ==
        "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
}

TEST_CASE("sha256_hex hashes embedded NUL bytes rather than stopping at them", "[api_key]") {
  const std::string with_nul("ab\0c", 4);
  CHECK(sha256_hex(with_nul) != sha256_hex("ab"));
  CHECK(sha256_hex(with_nul).size() == 64);
}

TEST_CASE("generated API keys are ste_ followed by 40 lowercase hex characters", "[api_key]") {
  const std::string key = generate_api_key();
  REQUIRE(key.size() == 44);
  CHECK(key.substr(0, 4) == "ste_");
  CHECK(is_lower_hex(key.substr(4)));
}

TEST_CASE("generated API keys differ from each other", "[api_key]") {
  std::set<std::string> keys;
  for (int i = 0; i < 100; ++i) keys.insert(generate_api_key());
  CHECK(keys.size() == 100);
}

TEST_CASE("an API key's stored hash is 64 lowercase hex characters and deterministic",
          "[api_key]") {
  const std::string key = generate_api_key();
  const std::string h = sha256_hex(key);
  CHECK(h.size() == 64);
  CHECK(is_lower_hex(h));
  CHECK(sha256_hex(key) == h);
}

TEST_CASE("constant_time_equal is true only for identical strings", "[api_key]") {
  CHECK(constant_time_equal("", ""));
  CHECK(constant_time_equal("secret", "secret"));
  CHECK_FALSE(constant_time_equal("secret", "secreT"));
  CHECK_FALSE(constant_time_equal("secret", "Secret"));
  CHECK_FALSE(constant_time_equal("secret", "secre"));
  CHECK_FALSE(constant_time_equal("secre", "secret"));
  CHECK_FALSE(constant_time_equal("", "x"));
  CHECK_FALSE(constant_time_equal(std::string_view("a\0b", 3), std::string_view("a\0c", 3)));
  CHECK(constant_time_equal(std::string_view("a\0b", 3), std::string_view("a\0b", 3)));
  const std::string h = sha256_hex("abc");
  CHECK(constant_time_equal(h, sha256_hex("abc")));
  CHECK_FALSE(constant_time_equal(h, sha256_hex("abd")));
}
