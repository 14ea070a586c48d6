#include "common/json_grammar.hpp"

#include <catch2/catch.hpp>

using ste::is_json_number;

TEST_CASE("JSON numbers as RFC 8259 writes them are numbers", "[json_grammar]") {
  for (const char* s : {"0", "-0", "7", "-12", "80.5", "0.001", "1e400", "1E-7", "-2.5e+3",
                        "12345678901234567890123"}) {
    INFO(s);
    CHECK(is_json_number(s));
  }
}

TEST_CASE("what JSON does not allow as a number is refused", "[json_grammar]") {
  for (const char* s : {"", "-", "01", "+1", ".5", "5.", "1e", "1e+", "0x10", "NaN", "Infinity",
                        "1 ", " 1", "1.2.3", "--1", "1e5e5"}) {
    INFO('"' << s << '"');
    CHECK_FALSE(is_json_number(s));
  }
}
