// The schema's CHECK constraints against a real PostgreSQL: they accept and refuse exactly what
// common/identifiers.hpp accepts, case by case (tests/unit/common/identifier_cases.hpp), on
// every column that has one: tenants.slug, devices.device_key, alert_rules.metric and
// alert_rules.device_key. SQL cannot call the C++ rules, so this is what keeps the two in step.
#include <catch2/catch.hpp>

#include "common/identifiers.hpp"
#include "common/pg_connection.hpp"
#include "common/schema_migrator.hpp"
#include "tests/support/test_servers.hpp"
#include "tests/unit/common/identifier_cases.hpp"

using namespace ste;
using ste::test::IdentifierKind;

namespace {

/// A migrated database with one tenant to hang devices and rules on.
struct Db {
  std::string url = test::fresh_database_url();
  PgConnection conn{url};
  std::string tenant;
  Db() {
    apply_migrations(conn, STE_SCHEMA_DIR);
    tenant = std::to_string(
        conn.exec("INSERT INTO tenants (slug, name) VALUES ('t', 't') RETURNING id").int64(0, 0));
  }

  /// Whether inserting `text` into the column succeeds. The statement runs in a transaction
  /// that is always rolled back, so cases cannot collide on unique keys; only a CHECK violation
  /// (SQLSTATE 23514) counts as a refusal, any other error fails the test.
  bool accepts(const std::string& sql, const std::vector<PgParam>& params) {
    conn.exec("BEGIN");
    bool ok = true;
    try {
      conn.exec(sql, params);
    } catch (const PgError& e) {
      INFO(e.what());
      CHECK(e.sqlstate() == "23514");
      ok = false;
    }
    conn.exec("ROLLBACK");
    return ok;
  }

  bool slug_accepted(const std::string& s) {
    return accepts("INSERT INTO tenants (slug, name) VALUES ($1, 'n')", {s});
  }
  bool key_name_accepted(const std::string& s) {
    return accepts(
        "INSERT INTO api_keys (tenant_id, name, role, key_hash) VALUES ($1, $2, 'viewer', "
        "sha256(convert_to($2, 'UTF8')))",
        {tenant, s});
  }
  bool device_key_accepted(const std::string& s) {
    return accepts("INSERT INTO devices (tenant_id, device_key) VALUES ($1, $2)", {tenant, s});
  }
  bool rule(const std::string& metric, const std::string& device) {
    return accepts(
        "INSERT INTO alert_rules (tenant_id, name, metric, device_key, condition, threshold) "
        "VALUES ($1, 'r', $2, $3, 'above_threshold', 1)",
        {tenant, metric, device});
  }
};

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

TEST_CASE("The schema's CHECKs accept exactly the identifiers common/identifiers accepts",
          "[identifiers][pg]") {
  Db db;
  int checked = 0;
  for (const auto& c : test::identifier_cases()) {
    if (test::has_nul(c.text)) continue;  // PostgreSQL text cannot hold a NUL at all
    INFO(kind_name(c.kind) << " '" << c.text << "': " << c.why);
    // The table's verdict is the C++ one; the schema must agree with both.
    REQUIRE(test::identifier_valid(c.kind, c.text) == c.valid);
    switch (c.kind) {
      case IdentifierKind::tenant_slug:
        CHECK(db.slug_accepted(c.text) == c.valid);
        break;
      case IdentifierKind::device_key:
        CHECK(db.device_key_accepted(c.text) == c.valid);
        CHECK(db.rule("m", c.text) == c.valid);  // alert_rules.device_key
        break;
      case IdentifierKind::metric_name:
        CHECK(db.rule(c.text, "d") == c.valid);  // alert_rules.metric
        break;
      case IdentifierKind::api_key_name:
        CHECK(db.key_name_accepted(c.text) == c.valid);  // api_keys.name
        break;
    }
    ++checked;
  }
  CHECK(checked > 40);
}

TEST_CASE("A rule for every device (a NULL device key) passes the schema's check",
          "[identifiers][pg]") {
  Db db;
  CHECK(
      db.accepts("INSERT INTO alert_rules (tenant_id, name, metric, device_key, condition, "
                 "threshold) VALUES ($1, 'r', 'm', NULL, 'above_threshold', 1)",
                 {db.tenant}));
}

TEST_CASE("The schema and common/identifiers agree on every ASCII character and some beyond",
          "[identifiers][pg]") {
  Db db;
  std::vector<std::string> chars;
  for (int b = 1; b < 128; ++b) chars.emplace_back(1, static_cast<char>(b));
  // Letters a collation might sort between a and z, and look-alikes of allowed characters.
  for (const char* u : {"\xc3\xa9", "\xc3\x89", "\xc3\x9f", "\xc4\xb1", "\xc4\xb0", "\xef\xbc\x8d",
                        "\xe2\x80\x90", "\xd9\xa1", "\xc2\xa0"}) {
    chars.emplace_back(u);
  }
  for (const auto& c : chars) {
    const std::string inner = "a" + c + "b";
    INFO("character '" << c << "' (first byte " << int(static_cast<unsigned char>(c[0])) << ")");
    CHECK(db.slug_accepted(inner) == ident::is_tenant_slug(inner));
    CHECK(db.device_key_accepted(inner) == ident::is_device_key(inner));
    CHECK(db.rule(inner, "d") == ident::is_metric_name(inner));
    CHECK(db.key_name_accepted(inner) == ident::is_api_key_name(inner));
  }
}
