#include "common/api_keys.hpp"

#include <catch2/catch.hpp>

using ste::admin::key_role_name;
using ste::admin::KeyRole;
using ste::admin::parse_key_role;

TEST_CASE("a key role is named operator or viewer and read back from exactly that name",
          "[api_keys]") {
  CHECK(key_role_name(KeyRole::operator_) == "operator");
  CHECK(key_role_name(KeyRole::viewer) == "viewer");
  for (const KeyRole r : {KeyRole::operator_, KeyRole::viewer}) {
    CHECK(parse_key_role(key_role_name(r)) == r);
  }
}

TEST_CASE("any other role name is refused, whatever its case or spacing", "[api_keys]") {
  for (const char* bad : {"", "admin", "Operator", "VIEWER", " viewer", "viewer ", "operators",
                          "read_only", "owner"}) {
    INFO("'" << bad << "'");
    CHECK_FALSE(parse_key_role(bad));
  }
}
