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
