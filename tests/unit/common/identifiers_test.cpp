#include "common/identifiers.hpp"

#include <fmt/format.h>

#include <catch2/catch.hpp>
#include <string>

#include "tests/unit/common/identifier_cases.hpp"

using namespace ste;
using ste::test::IdentifierKind;

namespace {

const char* kind_name(IdentifierKind k) {
  switch (k) {
    case IdentifierKind::tenant_slug:
      return "tenant slug";
    case IdentifierKind::device_key:
      return "device key";
    case IdentifierKind::metric_name:
      return "metric name";
    case IdentifierKind::api_key_name:
      return "API key name";
  }
  return "?";
}

}  // namespace

TEST_CASE("Each identifier edge case gets the contract's verdict", "[identifiers]") {
  for (const auto& c : test::identifier_cases()) {
    INFO(kind_name(c.kind) << " '" << c.text << "': " << c.why);
    CHECK(test::identifier_valid(c.kind, c.text) == c.valid);
  }
}

TEST_CASE("Every character outside a rule's alphabet is refused, and every one inside accepted",
          "[identifiers]") {
  // All 256 byte values, one at a time, against the alphabets written out by hand.
  const std::string slug_chars = "abcdefghijklmnopqrstuvwxyz0123456789-";
  const std::string key_chars = slug_chars + "ABCDEFGHIJKLMNOPQRSTUVWXYZ_";
  const std::string metric_chars = key_chars + ".:";
  const std::string key_name_chars = key_chars + ".@";
  for (int b = 0; b < 256; ++b) {
    const char c = static_cast<char>(b);
    const std::string s(1, c);
    INFO("byte " << b);
    CHECK(ident::is_tenant_slug(s) == (slug_chars.find(c) != std::string::npos));
    CHECK(ident::is_device_key(s) == (key_chars.find(c) != std::string::npos));
    CHECK(ident::is_metric_name(s) == (metric_chars.find(c) != std::string::npos));
    CHECK(ident::is_api_key_name(s) == (key_name_chars.find(c) != std::string::npos));
    // Inside a longer identifier too, not only as the whole of it.
    CHECK(ident::is_metric_name("a" + s + "b") == (metric_chars.find(c) != std::string::npos));
  }
}

TEST_CASE("An invalid identifier comes with the reason in words", "[identifiers]") {
  CHECK_FALSE(ident::tenant_slug_problem("acme"));
  CHECK(ident::tenant_slug_problem("") == "is empty");
  CHECK(ident::tenant_slug_problem(std::string(64, 'a')) == "is longer than 63 characters");
  CHECK(ident::tenant_slug_problem("Acme") == "has a character outside [a-z0-9-]");

  CHECK_FALSE(ident::device_key_problem("boiler-7"));
  CHECK(ident::device_key_problem("") == "is empty");
  CHECK(ident::device_key_problem(std::string(129, 'k')) == "is longer than 128 characters");
  CHECK(ident::device_key_problem("dev.1") == "has a character outside [A-Za-z0-9_-]");

  CHECK_FALSE(ident::metric_name_problem("temp.c"));
  CHECK(ident::metric_name_problem("") == "is empty");
  CHECK(ident::metric_name_problem(std::string(129, 'm')) == "is longer than 128 characters");
  CHECK(ident::metric_name_problem("temp c") == "has a character outside [A-Za-z0-9_.:-]");

  CHECK_FALSE(ident::api_key_name_problem("alice@acme.example"));
  CHECK(ident::api_key_name_problem("") == "is empty");
  CHECK(ident::api_key_name_problem(std::string(65, 'n')) == "is longer than 64 characters");
  CHECK(ident::api_key_name_problem("alice smith") == "has a character outside [A-Za-z0-9_.@-]");
}

TEST_CASE("Too long is reported before a forbidden character", "[identifiers]") {
  CHECK(ident::tenant_slug_problem(std::string(64, 'A')) == "is longer than 63 characters");
}

TEST_CASE("The rules in words quote the same limits the validators apply", "[identifiers]") {
  CHECK(ident::kTenantSlugRule ==
        fmt::format("1-{} characters of [a-z0-9-]", ident::kMaxTenantSlugLength));
  CHECK(ident::kDeviceKeyRule ==
        fmt::format("1-{} characters of [A-Za-z0-9_-]", ident::kMaxDeviceKeyLength));
  CHECK(ident::kMetricNameRule ==
        fmt::format("1-{} characters of [A-Za-z0-9_.:-]", ident::kMaxMetricNameLength));
  CHECK(*ident::tenant_slug_problem(std::string(ident::kMaxTenantSlugLength + 1, 'a')) ==
        fmt::format("is longer than {} characters", ident::kMaxTenantSlugLength));
  CHECK(*ident::device_key_problem(std::string(ident::kMaxDeviceKeyLength + 1, 'a')) ==
        fmt::format("is longer than {} characters", ident::kMaxDeviceKeyLength));
  CHECK(*ident::metric_name_problem(std::string(ident::kMaxMetricNameLength + 1, 'a')) ==
        fmt::format("is longer than {} characters", ident::kMaxMetricNameLength));
  CHECK(ident::kApiKeyNameRule ==
        fmt::format("1-{} characters of [A-Za-z0-9_.@-]", ident::kMaxApiKeyNameLength));
  CHECK(*ident::api_key_name_problem(std::string(ident::kMaxApiKeyNameLength + 1, 'a')) ==
        fmt::format("is longer than {} characters", ident::kMaxApiKeyNameLength));
}
