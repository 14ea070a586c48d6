/// libFuzzer target for parse_integrations_body (PUT /api/integrations, docs/DESIGN.md §7).
/// Aborts when an accepted value breaks its rule (URLs are http(s), printable ASCII, with a host,
/// at most 2048 chars; credentials 1-256 chars without control characters), when an absent field
/// carries a value, when an error is malformed, or when the accepted input does not round-trip.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include "evaluator/api/request_parsing.hpp"
#include "evaluator/evaluation/rule.hpp"
#include "tests/fuzz/api_error_check.hpp"

using namespace ste::fuzz;
using namespace ste::api;

namespace {

bool is_url(std::string_view s) {
  std::string_view rest;
  if (s.rfind("http://", 0) == 0) {
    rest = s.substr(7);
  } else if (s.rfind("https://", 0) == 0) {
    rest = s.substr(8);
  } else {
    return false;
  }
  if (s.size() > 2048 || rest.empty() || rest[0] == '/' || rest[0] == '?' || rest[0] == '#') {
    return false;
  }
  for (const char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u > 0x7e) return false;  // CR/LF/space would split a request line
  }
  return true;
}

bool is_credential(std::string_view s) { return is_plain_text(s, 256); }

void check_field(const Field& f, bool url) {
  if (!f.present) EXPECT(!f.value.has_value());
  if (f.value) EXPECT(url ? is_url(*f.value) : is_credential(*f.value));
}

std::string to_json(const IntegrationsInput& in) {
  std::string out = "{";
  const auto add = [&out](const char* name, const Field& f) {
    if (!f.present) return;
    if (out.size() > 1) out += ',';
    out += quote(name) + ":" + nullable(f.value);
  };
  add("notification_hub_url", in.notification_hub_url);
  add("notification_hub_api_key", in.notification_hub_api_key);
  add("workflow_engine_url", in.workflow_engine_url);
  add("workflow_engine_secret", in.workflow_engine_secret);
  return out + "}";
}

bool same(const Field& a, const Field& b) { return a.present == b.present && a.value == b.value; }

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view body(reinterpret_cast<const char*>(data), size);
  const auto parsed = parse_integrations_body(body);
  if (const auto* e = std::get_if<ApiError>(&parsed)) {
    check_api_error(*e);
    return 0;
  }
  const IntegrationsInput& in = std::get<IntegrationsInput>(parsed);
  check_field(in.notification_hub_url, true);
  check_field(in.notification_hub_api_key, false);
  check_field(in.workflow_engine_url, true);
  check_field(in.workflow_engine_secret, false);

  const std::string again_json = to_json(in);
  const auto again = parse_integrations_body(again_json);
  const auto* a = std::get_if<IntegrationsInput>(&again);
  EXPECT(a != nullptr);
  EXPECT(same(a->notification_hub_url, in.notification_hub_url) &&
         same(a->notification_hub_api_key, in.notification_hub_api_key) &&
         same(a->workflow_engine_url, in.workflow_engine_url) &&
         same(a->workflow_engine_secret, in.workflow_engine_secret));
  return 0;
}
