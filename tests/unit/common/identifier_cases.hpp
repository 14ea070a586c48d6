#pragma once
// The edge cases of the identifier rules (common/identifiers.hpp), each with the verdict the
// contract gives it. Shared by tests/unit/common/identifiers_test.cpp (the C++ validators) and
// tests/integration/identifier_schema_test.cpp (the schema's CHECK constraints), so both are held
// to one table. PostgreSQL text cannot hold a NUL byte: cases with one are C++-only.
#include <string>
#include <vector>

#include "common/identifiers.hpp"

namespace ste::test {

enum class IdentifierKind { tenant_slug, device_key, metric_name, api_key_name };

struct IdentifierCase {
  IdentifierKind kind;
  std::string text;
  bool valid;
  const char* why;
};

inline bool has_nul(const std::string& s) { return s.find('\0') != std::string::npos; }

inline std::vector<IdentifierCase> identifier_cases() {
  using K = IdentifierKind;
  const std::string slug_max(ident::kMaxTenantSlugLength, 'a');
  const std::string key_max(ident::kMaxDeviceKeyLength, 'k');
  const std::string metric_max(ident::kMaxMetricNameLength, 'm');
  const std::string key_name_max(ident::kMaxApiKeyNameLength, 'n');
  std::vector<IdentifierCase> cases = {
      // Tenant slugs: [a-z0-9-]{1,63}
      {K::tenant_slug, "a", true, "one character"},
      {K::tenant_slug, "acme-01", true, "letters, digits and a dash"},
      {K::tenant_slug, "0123456789-abcdefghijklmnopqrstuvwxyz", true, "every allowed class"},
      {K::tenant_slug, slug_max, true, "the length limit"},
      {K::tenant_slug, slug_max + "a", false, "the length limit + 1"},
      {K::tenant_slug, "", false, "empty"},
      {K::tenant_slug, "-acme", true, "a leading dash (no rule against it)"},
      {K::tenant_slug, "acme-", true, "a trailing dash (no rule against it)"},
      {K::tenant_slug, "Acme", false, "an upper-case letter"},
      {K::tenant_slug, "acmE", false, "an upper-case letter at the end"},
      {K::tenant_slug, "ac_me", false, "an underscore"},
      {K::tenant_slug, "ac.me", false, "a dot"},
      {K::tenant_slug, "ac:me", false, "a colon"},
      {K::tenant_slug, "ac me", false, "a space"},
      {K::tenant_slug, " acme", false, "a leading space"},
      {K::tenant_slug, "acme ", false, "a trailing space"},
      {K::tenant_slug, "acme\n", false, "a trailing newline"},
      {K::tenant_slug, "\nacme", false, "a leading newline"},
      {K::tenant_slug, "ac\tme", false, "a tab"},
      {K::tenant_slug, "acme\x7f", false, "DEL"},
      {K::tenant_slug, std::string("ac\0me", 5), false, "a NUL byte"},
      {K::tenant_slug, "acm\xc3\xa9", false, "a non-ASCII letter (e acute)"},
      {K::tenant_slug, "ac*me", false, "a NATS wildcard"},
      {K::tenant_slug, "ac>me", false, "a NATS wildcard"},
      {K::tenant_slug, "ac/me", false, "a slash"},
      // Device keys: [A-Za-z0-9_-]{1,128}
      {K::device_key, "D", true, "one character"},
      {K::device_key, "Boiler_7-a", true, "every allowed class"},
      {K::device_key, key_max, true, "the length limit"},
      {K::device_key, key_max + "k", false, "the length limit + 1"},
      {K::device_key, "", false, "empty"},
      {K::device_key, "-dev", true, "a leading dash"},
      {K::device_key, "_dev_", true, "leading and trailing underscores"},
      {K::device_key, "dev.1", false, "a dot (it would split the NATS subject)"},
      {K::device_key, "dev:1", false, "a colon"},
      {K::device_key, "dev 1", false, "a space"},
      {K::device_key, "dev1 ", false, "a trailing space"},
      {K::device_key, "dev1\n", false, "a trailing newline"},
      {K::device_key, "dev*", false, "a NATS wildcard"},
      {K::device_key, "dev>", false, "a NATS wildcard"},
      {K::device_key, "dev/1", false, "a slash"},
      {K::device_key, "dev\x01", false, "a control character"},
      {K::device_key, std::string("dev\0", 4), false, "a NUL byte"},
      {K::device_key, "d\xc3\xa9v", false, "a non-ASCII letter"},
      // Metric names: [A-Za-z0-9_.:-]{1,128}
      {K::metric_name, "t", true, "one character"},
      {K::metric_name, "Temp_1.inner:max-x", true, "every allowed class"},
      {K::metric_name, ".temp:", true, "a leading dot and a trailing colon"},
      {K::metric_name, metric_max, true, "the length limit"},
      {K::metric_name, metric_max + "m", false, "the length limit + 1"},
      {K::metric_name, "", false, "empty"},
      {K::metric_name, "temp c", false, "a space"},
      {K::metric_name, "temp\n", false, "a trailing newline"},
      {K::metric_name, "temp/c", false, "a slash"},
      {K::metric_name, "temp*", false, "a star"},
      {K::metric_name, "temp,c", false, "a comma"},
      {K::metric_name, "temp\x7f", false, "DEL"},
      {K::metric_name, std::string("te\0mp", 5), false, "a NUL byte"},
      {K::metric_name, "temp\xc2\xb0", false, "a non-ASCII sign (degree)"},
      // API key names: [A-Za-z0-9_.@-]{1,64}
      {K::api_key_name, "a", true, "one character"},
      {K::api_key_name, "alice@acme.example", true, "an e-mail address"},
      {K::api_key_name, "ci-deploy_2.0", true, "every allowed class but @"},
      {K::api_key_name, key_name_max, true, "the length limit"},
      {K::api_key_name, key_name_max + "n", false, "the length limit + 1"},
      {K::api_key_name, "", false, "empty"},
      {K::api_key_name, "alice smith", false, "a space"},
      {K::api_key_name, "alice\n", false, "a trailing newline"},
      {K::api_key_name, "ali'ce", false, "a quote"},
      {K::api_key_name, "alice:ops", false, "a colon"},
      {K::api_key_name, "alice/ops", false, "a slash"},
      {K::api_key_name, "alice+ops", false, "a plus"},
      {K::api_key_name, std::string("ali\0ce", 6), false, "a NUL byte"},
      {K::api_key_name,
       "al\xc3\xaf"
       "ce",
       false, "a non-ASCII letter"},
  };
  return cases;
}

inline bool identifier_valid(IdentifierKind kind, const std::string& text) {
  switch (kind) {
    case IdentifierKind::tenant_slug:
      return ident::is_tenant_slug(text);
    case IdentifierKind::device_key:
      return ident::is_device_key(text);
    case IdentifierKind::metric_name:
      return ident::is_metric_name(text);
    case IdentifierKind::api_key_name:
      return ident::is_api_key_name(text);
  }
  return false;
}

}  // namespace ste::test
