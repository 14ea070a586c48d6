// A device's status (device_status), the ?status= filter, and PUT /api/settings bodies.
#include "evaluator/api/device_status.hpp"

#include <catch2/catch.hpp>
#include <string>
#include <variant>

#include "evaluator/api/request_parsing.hpp"

using namespace ste;
using namespace ste::api;
using namespace std::chrono_literals;

namespace {
const TimePoint kNow = TimePoint{std::chrono::seconds{1'800'000'000}};

DeviceStatusFilter filter(const std::string& param) {
  auto f = parse_device_status_filter(param);
  if (const auto* e = std::get_if<ApiError>(&f)) FAIL(e->code << ": " << e->message);
  return std::get<DeviceStatusFilter>(f);
}

ApiError settings_error(std::string_view body) {
  auto p = parse_settings_body(body);
  REQUIRE(std::holds_alternative<ApiError>(p));
  return std::get<ApiError>(p);
}
}  // namespace

TEST_CASE("A device with no received reading is never_seen whatever the time", "[device_status]") {
  CHECK(device_status(std::nullopt, kNow, 10min) == DeviceStatus::never_seen);
  CHECK(device_status(std::nullopt, kNow, 1min) == DeviceStatus::never_seen);
}

TEST_CASE("A device is online up to exactly its offline minutes of silence, then offline",
          "[device_status]") {
  CHECK(device_status(kNow, kNow, 10min) == DeviceStatus::online);
  CHECK(device_status(kNow - 9min, kNow, 10min) == DeviceStatus::online);
  CHECK(device_status(kNow - 10min, kNow, 10min) == DeviceStatus::online);
  CHECK(device_status(kNow - 10min - 1us, kNow, 10min) == DeviceStatus::offline);
  CHECK(device_status(kNow - 2min, kNow, 1min) == DeviceStatus::offline);
  CHECK(device_status(kNow - 2min, kNow, 10080min) == DeviceStatus::online);
}

TEST_CASE("A received time ahead of now (another clock) counts as online", "[device_status]") {
  CHECK(device_status(kNow + 5s, kNow, 1min) == DeviceStatus::online);
}

TEST_CASE("The cutoff form and the now form decide alike", "[device_status]") {
  const TimePoint cutoff = offline_cutoff(kNow, 10min);
  CHECK(cutoff == kNow - 10min);
  for (auto ago : {0min, 5min, 10min, 11min, 60min}) {
    CHECK(device_status(kNow - ago, cutoff) == device_status(kNow - ago, kNow, 10min));
  }
}

TEST_CASE("Status names are the API's words", "[device_status]") {
  CHECK(device_status_name(DeviceStatus::online) == "online");
  CHECK(device_status_name(DeviceStatus::offline) == "offline");
  CHECK(device_status_name(DeviceStatus::never_seen) == "never_seen");
}

TEST_CASE("Without a status filter every status is listed", "[device_status]") {
  auto f = parse_device_status_filter(std::nullopt);
  REQUIRE(std::holds_alternative<DeviceStatusFilter>(f));
  const auto& all = std::get<DeviceStatusFilter>(f);
  CHECK(all.accepts(DeviceStatus::online));
  CHECK(all.accepts(DeviceStatus::offline));
  CHECK(all.accepts(DeviceStatus::never_seen));
}

TEST_CASE("A status filter takes one status or a comma list of them", "[device_status]") {
  const auto online = filter("online");
  CHECK(online.accepts(DeviceStatus::online));
  CHECK_FALSE(online.accepts(DeviceStatus::offline));
  CHECK_FALSE(online.accepts(DeviceStatus::never_seen));
  const auto two = filter("never_seen,offline");
  CHECK_FALSE(two.accepts(DeviceStatus::online));
  CHECK(two.accepts(DeviceStatus::offline));
  CHECK(two.accepts(DeviceStatus::never_seen));
  CHECK(filter("offline,offline").accepts(DeviceStatus::offline));
}

TEST_CASE("An unknown or empty status in the filter is a 422 naming status", "[device_status]") {
  for (const std::string bad :
       {"", "Online", "asleep", "online,", ",online", "online,,offline", "online offline"}) {
    INFO(bad);
    auto f = parse_device_status_filter(bad);
    REQUIRE(std::holds_alternative<ApiError>(f));
    CHECK(std::get<ApiError>(f).status == 422);
    CHECK(std::get<ApiError>(f).code == "invalid_field");
    CHECK(std::get<ApiError>(f).message.find("status") != std::string::npos);
  }
}

TEST_CASE("Settings bodies set device_offline_minutes from 1 to 10080", "[settings]") {
  auto p = parse_settings_body(R"({"device_offline_minutes": 1})");
  REQUIRE(std::holds_alternative<SettingsInput>(p));
  CHECK(std::get<SettingsInput>(p).device_offline_minutes == 1);
  p = parse_settings_body(R"({"device_offline_minutes": 10080})");
  REQUIRE(std::holds_alternative<SettingsInput>(p));
  CHECK(std::get<SettingsInput>(p).device_offline_minutes == 10080);
  p = parse_settings_body("{}");
  REQUIRE(std::holds_alternative<SettingsInput>(p));
  CHECK_FALSE(std::get<SettingsInput>(p).device_offline_minutes.has_value());
}

TEST_CASE("Settings bodies reject out-of-range or non-integer minutes naming the field",
          "[settings]") {
  for (const std::string bad : {"0", "10081", "-1", "5.0", "1e1", "\"10\"", "null", "true"}) {
    INFO(bad);
    const auto e = settings_error(R"({"device_offline_minutes": )" + bad + "}");
    CHECK(e.status == 422);
    CHECK(e.message.find("device_offline_minutes") != std::string::npos);
  }
}

TEST_CASE("Settings bodies reject unknown fields and malformed JSON", "[settings]") {
  const auto unknown = settings_error(R"({"device_offline_minutes": 5, "colour": "red"})");
  CHECK(unknown.status == 422);
  CHECK(unknown.code == "unknown_field");
  CHECK(unknown.message.find("colour") != std::string::npos);
  CHECK(settings_error(R"({"device_offline_minutes": )").status == 400);
  CHECK(settings_error("[]").status == 400);
}
