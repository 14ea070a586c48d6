#include "ingester/reading_check.hpp"

#include <catch2/catch.hpp>

using ste::TimePoint;
using ste::ingest::check_reading;
using ste::ingest::MessageContext;
using ste::ingest::ParseLimits;
using ste::ingest::RawFields;
using ste::ingest::Reading;
using ste::ingest::RejectReason;
using ste::ingest::Slot;
using ste::ingest::TsRange;
using namespace std::chrono_literals;

namespace {

const TimePoint kNow{std::chrono::seconds{1'800'000'000}};

MessageContext context() {
  MessageContext c;
  c.device = "boiler-7";
  c.now = kNow;
  c.default_ts = kNow - 2s;
  return c;
}

RawFields valid() {
  RawFields r;
  r.metric = Slot::ok;
  r.metric_text = "temperature";
  r.value = Slot::ok;
  r.value_num = 93.2;
  return r;
}

}  // namespace

TEST_CASE("a valid reading without ts takes the message's default time", "[reading_check]") {
  Reading out;
  CHECK_FALSE(check_reading(valid(), context(), ParseLimits{}, out).has_value());
  CHECK(out.metric == "temperature");
  CHECK(out.value == 93.2);
  CHECK(out.ts == kNow - 2s);
  CHECK_FALSE(out.unit.has_value());
}

TEST_CASE("the first broken rule in the contract's order is the reading's one rejection",
          "[reading_check]") {
  Reading out;
  RawFields r = valid();
  r.device = Slot::bad;
  r.metric = Slot::absent;
  r.value = Slot::bad;
  CHECK(check_reading(r, context(), ParseLimits{}, out)->reason == RejectReason::device_mismatch);
  r.device = Slot::ok;
  CHECK(check_reading(r, context(), ParseLimits{}, out)->reason == RejectReason::missing_metric);
  r.metric = Slot::ok;
  r.metric_text = "bad metric";
  CHECK(check_reading(r, context(), ParseLimits{}, out)->reason == RejectReason::invalid_metric);
  r.metric_text = "temperature";
  CHECK(check_reading(r, context(), ParseLimits{}, out)->reason == RejectReason::invalid_value);
}

TEST_CASE("timestamps beyond the future limit or the retention are refused with the limit",
          "[reading_check]") {
  Reading out;
  RawFields r = valid();
  r.ts = Slot::ok;
  r.ts_point = kNow + 6min;
  const auto future = check_reading(r, context(), ParseLimits{}, out);
  REQUIRE(future);
  CHECK(future->reason == RejectReason::future_ts);
  CHECK(future->detail == "ts is 360 s in the future (at most 300 s allowed)");
  r.ts_point = kNow - 31 * 24h;
  CHECK(check_reading(r, context(), ParseLimits{}, out)->reason == RejectReason::too_old);
  r.ts_range = TsRange::far_future;  // a year no clock can hold: classified before conversion
  CHECK(check_reading(r, context(), ParseLimits{}, out)->reason == RejectReason::future_ts);
}

TEST_CASE("a unit is counted in characters, not bytes", "[reading_check]") {
  Reading out;
  RawFields r = valid();
  r.unit = Slot::ok;
  r.unit_text =
      "\xc2\xb0"
      "C";  // "°C": two characters, three bytes
  ParseLimits limits;
  limits.max_unit_chars = 2;
  CHECK_FALSE(check_reading(r, context(), limits, out).has_value());
  CHECK(out.unit ==
        "\xc2\xb0"
        "C");
  limits.max_unit_chars = 1;
  CHECK(check_reading(r, context(), limits, out)->reason == RejectReason::invalid_unit);
}
