#include "common/log.hpp"

#include <simdjson.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <cstdint>
#include <limits>
#include <stdexcept>
#include <string>
#include <string_view>

#include "common/clock.hpp"
#include "common/time_format.hpp"

using ste::TimePoint;
using ste::log::format_log_line;
using ste::log::format_text_line;
using ste::log::Level;
using ste::log::level_name;
using ste::log::parse_level;
using namespace std::chrono_literals;

namespace {

// 2027-01-15T08:00:00.123456Z: the microseconds must be cut to milliseconds in `ts`.
const TimePoint kTs = TimePoint{std::chrono::seconds{1'800'000'000}} + 123'456us;

std::string get_string(simdjson::dom::element doc, std::string_view key) {
  std::string_view v;
  REQUIRE(doc[key].get_string().get(v) == simdjson::SUCCESS);
  return std::string(v);
}

}  // namespace

TEST_CASE("a log line is one JSON object with ts, level, component and msg", "[log]") {
  const std::string line = format_log_line(kTs, Level::warn, "ingester", "batch flushed", {});
  CHECK(line.find('\n') == std::string::npos);

  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  REQUIRE(parser.parse(line).get(doc) == simdjson::SUCCESS);
  CHECK(get_string(doc, "level") == "warn");
  CHECK(get_string(doc, "component") == "ingester");
  CHECK(get_string(doc, "msg") == "batch flushed");

  const std::string ts = get_string(doc, "ts");
  CHECK(ts == "2027-01-15T08:00:00.123Z");
  const auto parsed = ste::parse_rfc3339(ts);
  REQUIRE(parsed.has_value());
  CHECK(*parsed == kTs - 456us);
}

TEST_CASE("every level has its lowercase name in the log line", "[log]") {
  for (const auto& [level, name] :
       {std::pair{Level::debug, "debug"}, std::pair{Level::info, "info"},
        std::pair{Level::warn, "warn"}, std::pair{Level::error, "error"}}) {
    CHECK(level_name(level) == name);
    simdjson::dom::parser parser;
    simdjson::dom::element doc;
    REQUIRE(parser.parse(format_log_line(kTs, level, "c", "m", {})).get(doc) == simdjson::SUCCESS);
    CHECK(get_string(doc, "level") == name);
  }
}

TEST_CASE("event fields appear in the log line with their JSON types", "[log]") {
  const std::string device = "boiler-7";
  const std::string line = format_log_line(kTs, Level::info, "ingester", "flush",
                                           {{"device", device},
                                            {"tenant", "acme"},
                                            {"readings", 812},
                                            {"negative", -5L},
                                            {"big", std::numeric_limits<std::uint64_t>::max()},
                                            {"elapsed_ms", 12.5},
                                            {"nan", std::numeric_limits<double>::quiet_NaN()},
                                            {"retried", true},
                                            {"acked", false}});

  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  REQUIRE(parser.parse(line).get(doc) == simdjson::SUCCESS);
  CHECK(get_string(doc, "device") == "boiler-7");
  CHECK(get_string(doc, "tenant") == "acme");
  std::int64_t readings = 0, negative = 0;
  REQUIRE(doc["readings"].get_int64().get(readings) == simdjson::SUCCESS);
  CHECK(readings == 812);
  REQUIRE(doc["negative"].get_int64().get(negative) == simdjson::SUCCESS);
  CHECK(negative == -5);
  std::uint64_t big = 0;
  REQUIRE(doc["big"].get_uint64().get(big) == simdjson::SUCCESS);
  CHECK(big == std::numeric_limits<std::uint64_t>::max());
  double elapsed = 0;
  REQUIRE(doc["elapsed_ms"].get_double().get(elapsed) == simdjson::SUCCESS);
  CHECK(elapsed == 12.5);
  CHECK(doc["nan"].is_null());
  bool retried = false, acked = true;
  REQUIRE(doc["retried"].get_bool().get(retried) == simdjson::SUCCESS);
  REQUIRE(doc["acked"].get_bool().get(acked) == simdjson::SUCCESS);
  CHECK(retried);
  CHECK_FALSE(acked);
}

TEST_CASE(
    "messages and field values with quotes, newlines, control and non-ASCII characters "
    "stay one valid JSON line",
    "[log]") {
  const std::string msg = "bad \"payload\"\nsecond line\\ with\ttab \x01 température °C ✓";
  const std::string value = "C:\\path\r\n\"quoted\" \x1f end ✓ 日本";
  const std::string line =
      format_log_line(kTs, Level::error, "ingest\"er", msg, {{"payload", value}, {"k\ney", 1}});
  CHECK(line.find('\n') == std::string::npos);
  CHECK(line.find('\r') == std::string::npos);

  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  REQUIRE(parser.parse(line).get(doc) == simdjson::SUCCESS);
  CHECK(get_string(doc, "msg") == msg);
  CHECK(get_string(doc, "payload") == value);
  CHECK(get_string(doc, "component") == "ingest\"er");
  std::int64_t k = 0;
  REQUIRE(doc["k\ney"].get_int64().get(k) == simdjson::SUCCESS);
  CHECK(k == 1);
}

TEST_CASE("invalid UTF-8 in a message still gives a parseable line", "[log]") {
  const std::string line = format_log_line(kTs, Level::info, "c", "bad \xFF\xFE bytes", {});
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  REQUIRE(parser.parse(line).get(doc) == simdjson::SUCCESS);
  CHECK(get_string(doc, "msg") == "bad \xEF\xBF\xBD\xEF\xBF\xBD bytes");
}

TEST_CASE("event fields cannot override the fixed keys", "[log]") {
  const std::string line = format_log_line(kTs, Level::info, "ingester", "real message",
                                           {{"ts", "1999-01-01T00:00:00.000Z"},
                                            {"level", "error"},
                                            {"component", "evil"},
                                            {"msg", "forged"},
                                            {"extra", 1}});
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  REQUIRE(parser.parse(line).get(doc) == simdjson::SUCCESS);
  CHECK(get_string(doc, "ts") == "2027-01-15T08:00:00.123Z");
  CHECK(get_string(doc, "level") == "info");
  CHECK(get_string(doc, "component") == "ingester");
  CHECK(get_string(doc, "msg") == "real message");
  CHECK(doc["extra"].error() == simdjson::SUCCESS);

  // Each fixed key appears exactly once.
  simdjson::dom::object obj;
  REQUIRE(doc.get_object().get(obj) == simdjson::SUCCESS);
  CHECK(obj.size() == 5);
}

TEST_CASE("the text line contains the time, level, component, message and fields", "[log]") {
  const std::string line = format_text_line(kTs, Level::warn, "ingester", "batch insert failed",
                                            {{"attempt", 2}, {"error", "timeout"}});
  CHECK(line.find("2027-01-15T08:00:00.123Z") != std::string::npos);
  CHECK(line.find("warn") != std::string::npos);
  CHECK(line.find("ingester") != std::string::npos);
  CHECK(line.find("batch insert failed") != std::string::npos);
  CHECK(line.find("attempt=2") != std::string::npos);
  CHECK(line.find("error=\"timeout\"") != std::string::npos);
}

TEST_CASE("parse_level accepts the documented levels", "[log]") {
  CHECK(parse_level("debug") == Level::debug);
  CHECK(parse_level("info") == Level::info);
  CHECK(parse_level("warn") == Level::warn);
  CHECK(parse_level("error") == Level::error);
}

TEST_CASE("parse_level rejects unknown levels", "[log]") {
  CHECK_THROWS_AS(parse_level(""), std::invalid_argument);
  CHECK_THROWS_AS(parse_level("trace"), std::invalid_argument);
  CHECK_THROWS_AS(parse_level("fatal"), std::invalid_argument);
  CHECK_THROWS_AS(parse_level("verbose"), std::invalid_argument);
  CHECK_THROWS_AS(parse_level("info "), std::invalid_argument);
}

TEST_CASE("levels are ordered from debug to error for filtering", "[log]") {
  CHECK(Level::debug < Level::info);
  CHECK(Level::info < Level::warn);
  CHECK(Level::warn < Level::error);
}
