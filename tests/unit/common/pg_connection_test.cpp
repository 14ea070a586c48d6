#include "common/pg_connection.hpp"

#include <catch2/catch.hpp>

using ste::server_message_is_warning;

TEST_CASE("server messages of WARNING severity and worse are logged as warnings", "[pg]") {
  for (const char* s : {"WARNING", "ERROR", "FATAL", "PANIC"}) {
    INFO(s);
    CHECK(server_message_is_warning(s));
  }
}

TEST_CASE("notices and informational server messages are debug lines", "[pg]") {
  for (const char* s : {"NOTICE", "INFO", "LOG", "DEBUG", ""}) {
    INFO(s);
    CHECK_FALSE(server_message_is_warning(s));
  }
}

TEST_CASE("the client deadline is the statement timeout plus a margin, none without one", "[pg]") {
  ste::PgTimeouts t;
  CHECK(ste::client_deadline(t) == std::chrono::milliseconds{35000});
  t.statement = std::chrono::milliseconds{1000};
  CHECK(ste::client_deadline(t) == std::chrono::milliseconds{6000});
  t.statement = std::chrono::milliseconds{0};
  CHECK(ste::client_deadline(t) == std::chrono::milliseconds{0});
}

TEST_CASE("connection problems, timeouts and resource limits are the environment's", "[pg]") {
  using ste::pg_error_is_environmental;
  CHECK(pg_error_is_environmental("", true));       // lost connection, whatever the state
  CHECK(pg_error_is_environmental("23505", true));  // lost mid-statement
  for (const char* s :
       {"08001", "08006", "40001", "40P01", "42P01", "53300", "55P03", "57014", "57P01", "58030"}) {
    INFO(s);
    CHECK(pg_error_is_environmental(s, false));
  }
}

TEST_CASE("data errors, constraint violations and raised exceptions may be the data's", "[pg]") {
  using ste::pg_error_is_environmental;
  for (const char* s : {"22003", "22P02", "23503", "23505", "P0001", "XX000", "", "0800"}) {
    INFO(s);
    CHECK_FALSE(pg_error_is_environmental(s, false));
  }
}
