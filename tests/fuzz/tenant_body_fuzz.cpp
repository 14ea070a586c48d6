/// libFuzzer target for parse_tenant_body (POST /admin/tenants, docs/DESIGN.md §7). Aborts when an
/// accepted slug or name breaks its rule (a name: 1-200 code points, no control character), when an
/// error is malformed, when the accepted tenant does not round-trip, or when a body without a name
/// does not default the name to the slug.
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

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view body(reinterpret_cast<const char*>(data), size);
  const auto parsed = parse_tenant_body(body);
  if (const auto* e = std::get_if<ApiError>(&parsed)) {
    check_api_error(*e);
    return 0;
  }
  const TenantInput& t = std::get<TenantInput>(parsed);
  EXPECT(is_slug(t.slug));
  EXPECT(is_plain_text(t.name, 200));

  const auto again =
      parse_tenant_body("{\"slug\":" + quote(t.slug) + ",\"name\":" + quote(t.name) + "}");
  const auto* a = std::get_if<TenantInput>(&again);
  EXPECT(a != nullptr && a->slug == t.slug && a->name == t.name);

  const auto slug_only = parse_tenant_body("{\"slug\":" + quote(t.slug) + "}");
  const auto* s = std::get_if<TenantInput>(&slug_only);
  EXPECT(s != nullptr && s->slug == t.slug && s->name == t.slug);
  return 0;
}
