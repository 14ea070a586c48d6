// role_forbids(): the one place that decides what a key's role lets it do (tenant_endpoint).
#include <catch2/catch.hpp>
#include <string>

#include "evaluator/api/api_handlers.hpp"

using ste::api::role_forbids;
using ste::api::Tenant;

namespace {
Tenant key(const std::string& name, bool read_only) {
  Tenant t;
  t.id = 7;
  t.slug = "acme";
  t.key_name = name;
  t.read_only = read_only;
  return t;
}
}  // namespace

TEST_CASE("an operator key may use every method") {
  for (const char* m : {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"}) {
    INFO(m);
    CHECK_FALSE(role_forbids(key("ops", false), m));
  }
}

TEST_CASE("a viewer key may read with GET and HEAD") {
  CHECK_FALSE(role_forbids(key("bob", true), "GET"));
  CHECK_FALSE(role_forbids(key("bob", true), "HEAD"));
}

TEST_CASE("a viewer key gets 403 forbidden naming it on every other method") {
  for (const char* m : {"POST", "PUT", "PATCH", "DELETE", "OPTIONS", "get", "TRACE", ""}) {
    INFO("'" << m << "'");
    const auto e = role_forbids(key("bob", true), m);
    REQUIRE(e);
    CHECK(e->status == 403);
    CHECK(e->code == "forbidden");
    CHECK(e->message == "API key 'bob' has role viewer: it can read but not change anything");
  }
}
