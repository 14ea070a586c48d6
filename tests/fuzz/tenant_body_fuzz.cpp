/// libFuzzer target for parse_tenant_body (POST /admin/tenants, docs/DESIGN.md §7). Aborts when an
/// accepted slug or name breaks its rule, when an error is malformed, when the accepted tenant
/// does not round-trip, or when a body without a name does not default the name to the slug.
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
#include "evaluator/rule.hpp"

namespace {

using namespace ste::api;

[[noreturn]] void fail(const char* what) {
  std::fprintf(stderr, "INVARIANT VIOLATED: %s\n", what);
  std::abort();
}
#define EXPECT(cond)          \
  do {                        \
    if (!(cond)) fail(#cond); \
  } while (0)

std::size_t code_points(std::string_view s) {
  std::size_t n = 0;
  for (const char c : s) n += (static_cast<unsigned char>(c) & 0xC0) != 0x80;
  return n;
}

/// A JSON string literal for text that simdjson handed back (so valid UTF-8).
std::string quote(std::string_view s) {
  std::string out = "\"";
  for (const char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (u < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", u);
      out += buf;
    } else {
      out += c;
    }
  }
  return out + "\"";
}

/// Errors are 400 malformed_json (broken document) or 422 invalid_field / unknown_field, each
/// with a message; an unknown field's message names it.
void check_error(const ApiError& e) {
  EXPECT(!e.message.empty());
  if (e.status == 400) {
    EXPECT(e.code == "malformed_json");
  } else {
    EXPECT(e.status == 422);
    EXPECT(e.code == "invalid_field" || e.code == "unknown_field");
    if (e.code == "unknown_field") EXPECT(e.message.rfind("unknown field '", 0) == 0);
  }
}

}  // namespace

namespace {

bool is_slug(std::string_view s) {
  if (s.empty() || s.size() > 63) return false;
  for (const char c : s) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-')) return false;
  }
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view body(reinterpret_cast<const char*>(data), size);
  const auto parsed = parse_tenant_body(body);
  if (const auto* e = std::get_if<ApiError>(&parsed)) {
    check_error(*e);
    return 0;
  }
  const TenantInput& t = std::get<TenantInput>(parsed);
  EXPECT(is_slug(t.slug));
  EXPECT(code_points(t.name) >= 1 && code_points(t.name) <= 200);

  const auto again =
      parse_tenant_body("{\"slug\":" + quote(t.slug) + ",\"name\":" + quote(t.name) + "}");
  const auto* a = std::get_if<TenantInput>(&again);
  EXPECT(a != nullptr && a->slug == t.slug && a->name == t.name);

  const auto slug_only = parse_tenant_body("{\"slug\":" + quote(t.slug) + "}");
  const auto* s = std::get_if<TenantInput>(&slug_only);
  EXPECT(s != nullptr && s->slug == t.slug && s->name == t.slug);
  return 0;
}
