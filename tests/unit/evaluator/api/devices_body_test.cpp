// POST /api/devices bodies: parse_devices_body.
#include <fmt/format.h>

#include <catch2/catch.hpp>
#include <string>
#include <variant>
#include <vector>

#include "evaluator/api/request_parsing.hpp"

using ste::api::ApiError;
using ste::api::DevicesInput;
using ste::api::parse_devices_body;

namespace {
std::vector<std::string> keys(std::string_view body) {
  auto p = parse_devices_body(body);
  if (const auto* e = std::get_if<ApiError>(&p)) FAIL(e->code << ": " << e->message);
  return std::get<DevicesInput>(p).devices;
}

ApiError error(std::string_view body) {
  auto p = parse_devices_body(body);
  REQUIRE(std::holds_alternative<ApiError>(p));
  return std::get<ApiError>(p);
}

std::string array_of(int n) {
  std::string out = R"({"devices":[)";
  for (int i = 0; i < n; ++i) out += fmt::format("{}\"k{}\"", i ? "," : "", i);
  return out + "]}";
}
}  // namespace

TEST_CASE("devices body: the keys in order, duplicates kept for the statement to fold",
          "[api][devices_body]") {
  CHECK(keys(R"({"devices": ["boiler-1", "B_2", "boiler-1"]})") ==
        std::vector<std::string>{"boiler-1", "B_2", "boiler-1"});
  CHECK(keys(array_of(10000)).size() == 10000);
}

TEST_CASE("devices body: the first invalid key is named with its index", "[api][devices_body]") {
  ApiError e = error(R"({"devices": ["ok", "bad key", "also.bad"]})");
  CHECK(e.status == 422);
  CHECK(e.code == "invalid_field");
  CHECK(e.message ==
        "devices[1] ('bad key') must be a device key: 1-128 characters of [A-Za-z0-9_-]");
  e = error(R"({"devices": ["ok", 7]})");
  CHECK(e.message.find("devices[1] ('not a string')") == 0);
  e = error(fmt::format(R"({{"devices": ["{}"]}})", std::string(129, 'x')));
  CHECK(e.message.find("devices[0] ('" + std::string(64, 'x') + "...')") == 0);
  e = error(R"({"devices": ["", "ok"]})");
  CHECK(e.message.find("devices[0] ('')") == 0);
  e = error(R"({"devices": ["caf\u00e9"]})");
  CHECK(e.message.find("devices[0] ('(not printable)')") == 0);
}

TEST_CASE("devices body: 1 to 10,000 keys in an array under `devices`, nothing else",
          "[api][devices_body]") {
  CHECK(error(array_of(10001)).message == "devices: at most 10000 device keys per request");
  CHECK(error(R"({"devices": []})").message == "devices must be an array of 1-10000 device keys");
  CHECK(error(R"({"devices": "k1"})").message == "devices must be an array of 1-10000 device keys");
  CHECK(error(R"({})").message == "devices is required");
  CHECK(error(R"({"devices": ["a"], "more": 1})").code == "unknown_field");
}

TEST_CASE("devices body: malformed JSON is 400 even after an invalid key", "[api][devices_body]") {
  CHECK(error(R"({"devices": ["bad key", ])").status == 400);
  CHECK(error(R"({"devices": ["bad key", "x"] )").status == 400);
  CHECK(error(R"(["k1"])").status == 400);
}
