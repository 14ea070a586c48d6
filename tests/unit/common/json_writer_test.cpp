#include "common/json_writer.hpp"

#include <simdjson.h>

#include <catch2/catch.hpp>
#include <cmath>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>

using ste::append_json_string;
using ste::JsonWriter;

namespace {

std::string escape(std::string_view s) {
  std::string out;
  append_json_string(out, s);
  return out;
}

/// Parses `json` (which must be valid JSON and valid UTF-8) as a single string value.
std::string parse_string(const std::string& json) {
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  REQUIRE(parser.parse(json).get(doc) == simdjson::SUCCESS);
  std::string_view s;
  REQUIRE(doc.get_string().get(s) == simdjson::SUCCESS);
  return std::string(s);
}

/// Writes `d` and reads it back with simdjson's ondemand API, as the services read numbers.
double round_trip_double(double d) {
  JsonWriter w;
  w.begin_array().value(d).end_array();
  simdjson::ondemand::parser parser;
  const simdjson::padded_string json(w.str());
  simdjson::ondemand::document doc;
  REQUIRE(parser.iterate(json).get(doc) == simdjson::SUCCESS);
  simdjson::ondemand::array arr;
  REQUIRE(doc.get_array().get(arr) == simdjson::SUCCESS);
  double out = 0;
  REQUIRE(arr.at(0).get_double().get(out) == simdjson::SUCCESS);
  return out;
}

}  // namespace

TEST_CASE("quotes and backslashes are escaped", "[json_writer]") {
  CHECK(escape(R"(say "hi")") == R"("say \"hi\"")");
  CHECK(escape(R"(C:\temp\)") == R"("C:\\temp\\")");
  CHECK(parse_string(escape(R"(a"b\c)")) == R"(a"b\c)");
}

TEST_CASE("control characters are escaped", "[json_writer]") {
  CHECK(escape("a\nb") == R"("a\nb")");
  CHECK(escape("a\tb") == R"("a\tb")");
  CHECK(escape("\r\b\f") == R"("\r\b\f")");
  CHECK(escape(std::string_view("\x01", 1)) == R"("\u0001")");
  CHECK(escape(std::string_view("\x1f", 1)) == R"("\u001f")");
  CHECK(escape(std::string_view("a\0b", 3)) == R"("a\u0000b")");

  const std::string all_controls = [] {
    std::string s;
    for (int c = 0; c < 0x20; ++c) s.push_back(static_cast<char>(c));
    return s;
  }();
  const std::string json = escape(all_controls);
  for (char c : json) CHECK(static_cast<unsigned char>(c) >= 0x20);  // none left raw
  CHECK(parse_string(json) == all_controls);
}

TEST_CASE("valid multi-byte UTF-8 is kept as is", "[json_writer]") {
  const std::string text = "température °C ✓ 日本 😀";
  CHECK(escape(text) == "\"" + text + "\"");
  CHECK(parse_string(escape(text)) == text);
}

TEST_CASE("invalid UTF-8 is replaced by U+FFFD and the output is valid JSON", "[json_writer]") {
  // "R" in `expected` stands for one U+FFFD (built by substitution: GCC 12 at -O3 reports a
  // false -Wrestrict on chains of std::string operator+).
  struct Case {
    std::string input;
    std::string expected;
  };
  const Case cases[] = {
      {"a\xFF"
       "b",
       "aRb"},                       // never valid byte
      {"\x80", "R"},                 // lone continuation
      {"ab\xC3", "abR"},             // truncated at the end
      {"\xC3(", "R("},               // bad continuation
      {"\xC0\xAF", "RR"},            // overlong '/'
      {"\xED\xA0\x80", "RRR"},       // UTF-16 surrogate
      {"\xF4\x90\x80\x80", "RRRR"},  // > U+10FFFF
  };
  const auto expand = [](const std::string& pattern) {
    std::string out;
    for (char ch : pattern) {
      if (ch == 'R') {
        out.append("\xEF\xBF\xBD");
      } else {
        out.push_back(ch);
      }
    }
    return out;
  };
  for (const auto& c : cases) {
    INFO("input bytes: " << c.input.size());
    const std::string json = escape(c.input);
    CHECK(parse_string(json) == expand(c.expected));
  }
}

TEST_CASE("non-finite doubles are written as null", "[json_writer]") {
  JsonWriter w;
  w.begin_array();
  w.value(std::numeric_limits<double>::quiet_NaN());
  w.value(std::numeric_limits<double>::infinity());
  w.value(-std::numeric_limits<double>::infinity());
  w.end_array();
  CHECK(w.str() == "[null,null,null]");
}

TEST_CASE("doubles round-trip exactly through their JSON text", "[json_writer]") {
  for (double d : {0.1, 1e300, -1e300, 21.5, 1.0 / 3.0, 123456789.123456789, 5e-324,
                   std::numeric_limits<double>::max(), 1e16, -2.5}) {
    INFO(d);
    CHECK(round_trip_double(d) == d);
  }
  JsonWriter w;
  w.value(0.1);
  CHECK(w.str() == "0.1");
}

TEST_CASE("negative zero keeps its sign", "[json_writer]") {
  JsonWriter w;
  w.value(-0.0);
  CHECK(w.str() == "-0");
  // "-0" is valid JSON for negative zero. simdjson's ondemand get_double keeps the sign (its DOM
  // API would classify "-0" as the integer 0, losing it).
  const double back = round_trip_double(-0.0);
  CHECK(back == 0.0);
  CHECK(std::signbit(back));
}

TEST_CASE("integers are written exactly, including the extremes", "[json_writer]") {
  JsonWriter w;
  w.begin_array();
  w.value(std::numeric_limits<std::int64_t>::min());
  w.value(std::numeric_limits<std::int64_t>::max());
  w.value(std::numeric_limits<std::uint64_t>::max());
  w.value(42);
  w.value(true);
  w.value(false);
  w.null();
  w.end_array();
  CHECK(w.str() ==
        "[-9223372036854775808,9223372036854775807,18446744073709551615,42,true,false,null]");
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  CHECK(parser.parse(w.str()).get(doc) == simdjson::SUCCESS);
}

TEST_CASE("commas separate members and elements at every nesting level", "[json_writer]") {
  JsonWriter w;
  w.begin_object();
  w.field("a", 1);
  w.key("b").begin_array();
  w.value(1).value("two");
  w.begin_object().end_object();
  w.begin_array().end_array();
  w.begin_object().field("x", true).field("y", "z").end_object();
  w.end_array();
  w.key("c").begin_object().key("d").begin_object().end_object().end_object();
  w.field("e", "f");
  w.end_object();
  CHECK(w.str() == R"({"a":1,"b":[1,"two",{},[],{"x":true,"y":"z"}],"c":{"d":{}},"e":"f"})");
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  CHECK(parser.parse(w.str()).get(doc) == simdjson::SUCCESS);
}

TEST_CASE("empty containers at the top level are valid", "[json_writer]") {
  JsonWriter obj;
  obj.begin_object().end_object();
  CHECK(obj.str() == "{}");
  JsonWriter arr;
  arr.begin_array().end_array();
  CHECK(arr.str() == "[]");
}

TEST_CASE("keys are escaped like values", "[json_writer]") {
  JsonWriter w;
  w.begin_object().field("we\"ird\nkey", 1).end_object();
  CHECK(w.str() == R"({"we\"ird\nkey":1})");
}

TEST_CASE("optional values are written as the value or null", "[json_writer]") {
  JsonWriter w;
  w.begin_object();
  w.field("some_num", std::optional<double>{2.5});
  w.field("no_num", std::optional<double>{});
  w.field("some_str", std::optional<std::string>{"x"});
  w.field("no_str", std::optional<std::string>{});
  w.field("some_int", std::optional<std::int64_t>{7});
  w.end_object();
  CHECK(w.str() == R"({"some_num":2.5,"no_num":null,"some_str":"x","no_str":null,"some_int":7})");
}

TEST_CASE("raw inserts already-valid JSON as one value with commas around it", "[json_writer]") {
  JsonWriter w;
  w.begin_array().value(1).raw(R"({"k":[1,2]})").value(2).end_array();
  CHECK(w.str() == R"([1,{"k":[1,2]},2])");
}

TEST_CASE("take hands over the text", "[json_writer]") {
  JsonWriter w;
  w.begin_array().value("a").end_array();
  const std::string text = w.take();
  CHECK(text == R"(["a"])");
}

TEST_CASE("append_json_string appends to existing text", "[json_writer]") {
  std::string out = "prefix:";
  append_json_string(out, "v");
  CHECK(out == R"(prefix:"v")");
  append_json_string(out, "");
  CHECK(out == R"(prefix:"v""")");
}
