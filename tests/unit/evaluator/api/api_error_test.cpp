#include "evaluator/api/api_error.hpp"

#include <simdjson.h>

#include <catch2/catch.hpp>
#include <string>
#include <string_view>

using ste::api::ApiError;
using ste::api::error_json;

namespace {

/// The error object's code and message, read back with simdjson.
std::pair<std::string, std::string> read_back(const std::string& json) {
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  REQUIRE(parser.parse(json).get(doc) == simdjson::SUCCESS);
  simdjson::dom::object outer;
  REQUIRE(doc.get_object().get(outer) == simdjson::SUCCESS);
  REQUIRE(outer.size() == 1);
  simdjson::dom::object error;
  REQUIRE(outer["error"].get_object().get(error) == simdjson::SUCCESS);
  REQUIRE(error.size() == 2);
  std::string_view code, message;
  REQUIRE(error["code"].get_string().get(code) == simdjson::SUCCESS);
  REQUIRE(error["message"].get_string().get(message) == simdjson::SUCCESS);
  return {std::string(code), std::string(message)};
}

}  // namespace

TEST_CASE("an error renders as an error object with its code and message") {
  const std::string json =
      error_json(ste::api::invalid_field("window_minutes must be an integer 1..1440"));
  CHECK(
      json ==
      R"({"error":{"code":"invalid_field","message":"window_minutes must be an integer 1..1440"}})");
  const auto [code, message] = read_back(json);
  CHECK(code == "invalid_field");
  CHECK(message == "window_minutes must be an integer 1..1440");
}

TEST_CASE("an error message with quotes, backslashes and control characters stays valid JSON") {
  const std::string text = "unknown field 'a\"b\\c\n\td\x01'";
  const auto [code, message] = read_back(error_json({422, "unknown_field", text}));
  CHECK(code == "unknown_field");
  CHECK(message == text);
}

TEST_CASE("an error message with invalid UTF-8 still renders as valid JSON") {
  const auto [code, message] = read_back(error_json(ste::api::malformed_json("bad \xff byte")));
  CHECK(code == "malformed_json");
  CHECK(message == "bad \xEF\xBF\xBD byte");
}

TEST_CASE("each error helper carries its HTTP status and code") {
  const ApiError malformed = ste::api::malformed_json("m");
  CHECK(malformed.status == 400);
  CHECK(malformed.code == "malformed_json");
  const ApiError invalid = ste::api::invalid_field("i");
  CHECK(invalid.status == 422);
  CHECK(invalid.code == "invalid_field");
  const ApiError missing = ste::api::not_found("n");
  CHECK(missing.status == 404);
  CHECK(missing.code == "not_found");
  const ApiError denied = ste::api::unauthorized("u");
  CHECK(denied.status == 401);
  CHECK(denied.code == "unauthorized");
  CHECK(denied.message == "u");
}
