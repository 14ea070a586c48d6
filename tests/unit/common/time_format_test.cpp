#include "common/time_format.hpp"

#include <catch2/catch.hpp>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

#include "common/clock.hpp"

using ste::days_from_civil;
using ste::format_rfc3339_ms;
using ste::format_rfc3339_us;
using ste::parse_rfc3339;
using ste::TimePoint;
using namespace std::chrono_literals;

namespace {

/// The instant of y-m-d hh:mm:ss UTC plus `us` microseconds, built independently of the parser.
TimePoint utc(int y, unsigned m, unsigned d, int hh = 0, int mm = 0, int ss = 0,
              std::int64_t us = 0) {
  const std::int64_t secs = days_from_civil(y, m, d) * 86400 + hh * 3600 + mm * 60 + ss;
  return TimePoint{std::chrono::seconds{secs}} + std::chrono::microseconds{us};
}

}  // namespace

TEST_CASE("days_from_civil counts days from the Unix epoch", "[time_format]") {
  CHECK(days_from_civil(1970, 1, 1) == 0);
  CHECK(days_from_civil(1970, 1, 2) == 1);
  CHECK(days_from_civil(1969, 12, 31) == -1);
  CHECK(days_from_civil(2000, 3, 1) == 11017);
  CHECK(days_from_civil(2027, 1, 15) == 1'800'000'000 / 86400);
}

TEST_CASE("timestamps format as UTC with milliseconds and Z", "[time_format]") {
  CHECK(format_rfc3339_ms(TimePoint{}) == "1970-01-01T00:00:00.000Z");
  CHECK(format_rfc3339_ms(utc(2026, 11, 28, 11, 0, 0, 123'000)) == "2026-11-28T11:00:00.123Z");
  CHECK(format_rfc3339_ms(TimePoint{std::chrono::seconds{1'800'000'000}}) ==
        "2027-01-15T08:00:00.000Z");
  // Sub-millisecond digits are truncated, not rounded.
  CHECK(format_rfc3339_ms(utc(2026, 11, 28, 11, 0, 0, 123'999)) == "2026-11-28T11:00:00.123Z");
  CHECK(format_rfc3339_ms(utc(2026, 12, 31, 23, 59, 59, 999'999)) == "2026-12-31T23:59:59.999Z");
}

TEST_CASE("timestamps format with microseconds for exact round-trips", "[time_format]") {
  CHECK(format_rfc3339_us(TimePoint{}) == "1970-01-01T00:00:00.000000Z");
  CHECK(format_rfc3339_us(utc(2026, 11, 28, 11, 0, 0, 123'456)) == "2026-11-28T11:00:00.123456Z");
  CHECK(format_rfc3339_us(utc(2026, 11, 28, 11, 0, 0, 1)) == "2026-11-28T11:00:00.000001Z");
  // Nanoseconds below a microsecond are truncated.
  CHECK(format_rfc3339_us(utc(2026, 11, 28) + 999ns) == "2026-11-28T00:00:00.000000Z");
}

TEST_CASE("a leap day formats and parses as February 29", "[time_format]") {
  const TimePoint leap = utc(2028, 2, 29, 12, 30, 15, 250'000);
  CHECK(format_rfc3339_ms(leap) == "2028-02-29T12:30:15.250Z");
  CHECK(format_rfc3339_us(leap + 24h) == "2028-03-01T12:30:15.250000Z");
  CHECK(format_rfc3339_ms(utc(2000, 2, 29)) == "2000-02-29T00:00:00.000Z");
  CHECK(parse_rfc3339("2028-02-29T12:30:15.25Z") == leap);
  CHECK(parse_rfc3339("2000-02-29T00:00:00Z") == utc(2000, 2, 29));
}

TEST_CASE("times before 1970 format as the correct earlier date", "[time_format]") {
  CHECK(format_rfc3339_ms(TimePoint{} - 1ms) == "1969-12-31T23:59:59.999Z");
  CHECK(format_rfc3339_us(TimePoint{} - 1us) == "1969-12-31T23:59:59.999999Z");
  CHECK(format_rfc3339_ms(TimePoint{} - 1s) == "1969-12-31T23:59:59.000Z");
  CHECK(format_rfc3339_ms(TimePoint{} - 24h) == "1969-12-31T00:00:00.000Z");
  CHECK(format_rfc3339_ms(TimePoint{} - 24h - 1ms) == "1969-12-30T23:59:59.999Z");
  CHECK(format_rfc3339_us(utc(1900, 1, 1, 6, 7, 8, 9)) == "1900-01-01T06:07:08.000009Z");
  CHECK(format_rfc3339_ms(utc(1960, 2, 29, 23, 59, 59, 500'000)) == "1960-02-29T23:59:59.500Z");
  CHECK(parse_rfc3339("1969-12-31T23:59:59.999999Z") == TimePoint{} - 1us);
  CHECK(parse_rfc3339("1900-01-01T06:07:08.000009Z") == utc(1900, 1, 1, 6, 7, 8, 9));
}

// Formatting truncates to the microsecond with duration_cast, which rounds toward zero; before
// 1970 that moves a time with a sub-microsecond part *forward* (for -1 ns, into 1970), unlike
// every time after 1970, which is floored. Only nanosecond-precision pre-1970 values are affected.
TEST_CASE("times before 1970 with sub-microsecond parts are floored like later ones",
          "[time_format]") {
  CHECK(format_rfc3339_ms(TimePoint{} - 1ns) == "1969-12-31T23:59:59.999Z");
  CHECK(format_rfc3339_us(TimePoint{} - 1ns) == "1969-12-31T23:59:59.999999Z");
}

TEST_CASE("formatted timestamps parse back to the same instant", "[time_format]") {
  for (const TimePoint t :
       {TimePoint{}, utc(2026, 11, 28, 11, 0, 0, 123'456), utc(1969, 7, 20, 20, 17, 40, 1),
        utc(2099, 12, 31, 23, 59, 59, 999'999), TimePoint{} - 1us}) {
    INFO(format_rfc3339_us(t));
    CHECK(parse_rfc3339(format_rfc3339_us(t)) == t);
  }
}

TEST_CASE("parse accepts Z and lowercase z", "[time_format]") {
  const TimePoint expected = utc(2026, 11, 28, 11, 0, 0, 123'000);
  CHECK(parse_rfc3339("2026-11-28T11:00:00.123Z") == expected);
  CHECK(parse_rfc3339("2026-11-28T11:00:00.123z") == expected);
  CHECK(parse_rfc3339("2026-11-28T11:00:00Z") == utc(2026, 11, 28, 11));
}

TEST_CASE("parse applies numeric offsets to give the exact UTC instant", "[time_format]") {
  const TimePoint expected = utc(2026, 11, 28, 11, 0, 0);
  CHECK(parse_rfc3339("2026-11-28T12:00:00+01:00") == expected);
  CHECK(parse_rfc3339("2026-11-28T06:30:00-04:30") == expected);
  CHECK(parse_rfc3339("2026-11-28T11:00:00+00:00") == expected);
  CHECK(parse_rfc3339("2026-11-28T11:00:00-00:00") == expected);
  // Offsets can move the instant across a day (and year) boundary.
  CHECK(parse_rfc3339("2027-01-01T05:45:00+05:45") == utc(2027, 1, 1, 0, 0, 0));
  CHECK(parse_rfc3339("2026-12-31T23:30:00-01:00") == utc(2027, 1, 1, 0, 30, 0));
  CHECK(parse_rfc3339("2026-11-28T12:00:00.5+01:00") == expected + 500ms);
}

TEST_CASE("parse accepts fractions of one to nine digits, truncated to microseconds",
          "[time_format]") {
  const TimePoint base = utc(2026, 11, 28, 11, 0, 0);
  CHECK(parse_rfc3339("2026-11-28T11:00:00.1Z") == base + 100ms);
  CHECK(parse_rfc3339("2026-11-28T11:00:00.12Z") == base + 120ms);
  CHECK(parse_rfc3339("2026-11-28T11:00:00.123Z") == base + 123ms);
  CHECK(parse_rfc3339("2026-11-28T11:00:00.1234Z") == base + 123'400us);
  CHECK(parse_rfc3339("2026-11-28T11:00:00.12345Z") == base + 123'450us);
  CHECK(parse_rfc3339("2026-11-28T11:00:00.123456Z") == base + 123'456us);
  CHECK(parse_rfc3339("2026-11-28T11:00:00.1234567Z") == base + 123'456us);
  CHECK(parse_rfc3339("2026-11-28T11:00:00.12345678Z") == base + 123'456us);
  CHECK(parse_rfc3339("2026-11-28T11:00:00.123456789Z") == base + 123'456us);
  CHECK(parse_rfc3339("2026-11-28T11:00:00.999999999Z") == base + 999'999us);
  CHECK(parse_rfc3339("2026-11-28T11:00:00.000000Z") == base);
}

TEST_CASE("parse accepts a lowercase t between date and time", "[time_format]") {
  CHECK(parse_rfc3339("2026-11-28t11:00:00Z") == utc(2026, 11, 28, 11));
}

TEST_CASE("parse rejects a timestamp without a zone", "[time_format]") {
  CHECK_FALSE(parse_rfc3339("2026-11-28T11:00:00"));
  CHECK_FALSE(parse_rfc3339("2026-11-28T11:00:00.123"));
  CHECK_FALSE(parse_rfc3339("2026-11-28T11:00:00.123456789"));
}

TEST_CASE("parse rejects impossible dates and times", "[time_format]") {
  CHECK_FALSE(parse_rfc3339("2026-00-10T11:00:00Z"));
  CHECK_FALSE(parse_rfc3339("2026-13-10T11:00:00Z"));
  CHECK_FALSE(parse_rfc3339("2026-11-00T11:00:00Z"));
  CHECK_FALSE(parse_rfc3339("2026-11-31T11:00:00Z"));
  CHECK_FALSE(parse_rfc3339("2026-02-30T11:00:00Z"));
  CHECK_FALSE(parse_rfc3339("2026-02-29T11:00:00Z"));  // 2026 is not a leap year
  CHECK_FALSE(parse_rfc3339("1900-02-29T11:00:00Z"));  // divisible by 100, not by 400
  CHECK_FALSE(parse_rfc3339("2026-11-28T24:00:00Z"));
  CHECK_FALSE(parse_rfc3339("2026-11-28T11:60:00Z"));
  CHECK_FALSE(parse_rfc3339("2026-11-28T11:00:61Z"));
  CHECK_FALSE(parse_rfc3339("2026-11-28T11:00:00+24:00"));
  CHECK_FALSE(parse_rfc3339("2026-11-28T11:00:00+01:60"));
}

TEST_CASE("parse rejects trailing junk, truncation and lenient forms", "[time_format]") {
  CHECK_FALSE(parse_rfc3339(""));
  CHECK_FALSE(parse_rfc3339("2026-11-28"));
  CHECK_FALSE(parse_rfc3339("2026-11-28T11:00Z"));
  CHECK_FALSE(parse_rfc3339("2026-11-28T11:00:00Zjunk"));
  CHECK_FALSE(parse_rfc3339("2026-11-28T11:00:00Z "));
  CHECK_FALSE(parse_rfc3339("2026-11-28T11:00:00+01:00x"));
  CHECK_FALSE(parse_rfc3339("2026-11-28T11:00:00+01"));
  CHECK_FALSE(parse_rfc3339("2026-11-28T11:00:00+0100"));
  CHECK_FALSE(parse_rfc3339("2026-11-28T11:00:00.Z"));
  CHECK_FALSE(parse_rfc3339("2026-11-28 11:00:00Z"));
  CHECK_FALSE(parse_rfc3339(" 2026-11-28T11:00:00Z"));
  CHECK_FALSE(parse_rfc3339("2026-11-28T1:00:00Z"));
  CHECK_FALSE(parse_rfc3339("26-11-28T11:00:00Z"));
  CHECK_FALSE(parse_rfc3339("2026/11/28T11:00:00Z"));
  CHECK_FALSE(parse_rfc3339("1764327600000"));
  CHECK_FALSE(parse_rfc3339("2026-11-28T11:00:00.123Z\n"));
}
