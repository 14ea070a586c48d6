#include "common/settings.hpp"

#include <catch2/catch.hpp>
#include <cstdlib>

using namespace std::chrono_literals;

namespace {
/// Puts the process-wide defaults back after a test changed them.
struct RestoreTimeouts {
  ste::PgTimeouts saved = ste::default_pg_timeouts();
  ~RestoreTimeouts() { ste::set_default_pg_timeouts(saved); }
};
}  // namespace

TEST_CASE("database timeouts default to 5 s, 30 s and 60 s", "[settings]") {
  RestoreTimeouts restore;
  CLI::App app;
  ste::CommonSettings s;
  ste::add_common_options(app, s);
  app.parse("", false);
  const auto t = ste::default_pg_timeouts();
  CHECK(t.connect == 5s);
  CHECK(t.statement == 30000ms);
  CHECK(t.idle_in_transaction == 60000ms);
}

TEST_CASE("database timeout flags become every new connection's defaults", "[settings]") {
  RestoreTimeouts restore;
  CLI::App app;
  ste::CommonSettings s;
  ste::add_common_options(app, s);
  app.parse(
      "--db-connect-timeout-s 7 --db-statement-timeout-ms 1234 "
      "--db-idle-in-transaction-timeout-ms 0",
      false);
  const auto t = ste::default_pg_timeouts();
  CHECK(t.connect == 7s);
  CHECK(t.statement == 1234ms);
  CHECK(t.idle_in_transaction == 0ms);
}

TEST_CASE("the environment sets the database timeouts too", "[settings]") {
  RestoreTimeouts restore;
  ::setenv("STE_DB_STATEMENT_TIMEOUT_MS", "4321", 1);
  CLI::App app;
  ste::CommonSettings s;
  ste::add_common_options(app, s);
  app.parse("", false);
  ::unsetenv("STE_DB_STATEMENT_TIMEOUT_MS");
  CHECK(ste::default_pg_timeouts().statement == 4321ms);
}

TEST_CASE("STE_MAX_DELIVERIES is a service setting, 5 by default, at least 1", "[settings]") {
  CLI::App app;
  ste::RedeliveryPolicy p;
  ste::add_redelivery_option(app, p);
  app.parse("", false);
  CHECK(p.max_deliveries == 5);
  app.parse("--max-deliveries 2", false);
  CHECK(p.max_deliveries == 2);
  CHECK_THROWS(app.parse("--max-deliveries 0", false));
}
