#include "ingester/reading_parser.hpp"

#include <catch2/catch.hpp>
#include <chrono>
#include <string>
#include <string_view>

#include "common/time_format.hpp"

using namespace std::chrono_literals;
using ste::TimePoint;
using ste::ingest::MessageContext;
using ste::ingest::ParsedMessage;
using ste::ingest::ReadingParser;
using ste::ingest::Rejection;
using ste::ingest::RejectReason;

namespace {

TimePoint at(std::string_view rfc3339) {
  const auto t = ste::parse_rfc3339(rfc3339);
  REQUIRE(t);
  return *t;
}

// A fixed clock: the parser never reads a real one.
MessageContext context() {
  MessageContext ctx;
  ctx.device = "dev-1";
  ctx.now = at("2026-11-28T12:00:00Z");
  ctx.default_ts = at("2026-11-28T11:59:58Z");
  return ctx;
}

ParsedMessage parse(std::string_view payload) {
  ReadingParser parser;
  return parser.parse(payload, context());
}

/// The message's single rejection, checking that nothing was accepted.
Rejection only_rejection(const ParsedMessage& m) {
  REQUIRE(m.readings.empty());
  REQUIRE(m.rejections.size() == 1);
  CHECK_FALSE(m.rejections[0].detail.empty());
  CHECK(m.rejections[0].detail.size() < 200);
  return m.rejections[0];
}

RejectReason reason_for(std::string_view payload) { return only_rejection(parse(payload)).reason; }

/// `{"metric":"m","value":1,<extra>}`
std::string reading_with(std::string_view extra) {
  return std::string(R"({"metric":"m","value":1,)") + std::string(extra) + "}";
}

std::string array_of(std::size_t n) {
  std::string s = "[";
  for (std::size_t i = 0; i < n; ++i) {
    if (i) s += ',';
    s += R"({"metric":"m","value":)" + std::to_string(i) + "}";
  }
  return s + "]";
}

std::string repeat(std::string_view unit, std::size_t n) {
  std::string s;
  for (std::size_t i = 0; i < n; ++i) s += unit;
  return s;
}

}  // namespace

// --- accepted forms ---

TEST_CASE("a single reading object is accepted with all its fields", "[reading_parser]") {
  const auto m =
      parse(R"({"metric": "temperature", "value": 21.5, "ts": "2026-11-28T11:00:00.123Z",)"
            R"( "unit": "C"})");
  REQUIRE(m.rejections.empty());
  REQUIRE(m.readings.size() == 1);
  const auto& r = m.readings[0];
  CHECK(r.metric == "temperature");
  CHECK(r.value == 21.5);
  CHECK(r.ts == at("2026-11-28T11:00:00.123Z"));
  REQUIRE(r.unit);
  CHECK(*r.unit == "C");
}

TEST_CASE("an array of reading objects is accepted in message order", "[reading_parser]") {
  const auto m = parse(R"([{"metric":"a","value":1},{"metric":"b","value":-2.5},)"
                       R"({"metric":"c","value":0}])");
  REQUIRE(m.rejections.empty());
  REQUIRE(m.readings.size() == 3);
  CHECK(m.readings[0].metric == "a");
  CHECK(m.readings[1].metric == "b");
  CHECK(m.readings[1].value == -2.5);
  CHECK(m.readings[2].metric == "c");
}

TEST_CASE("an empty array is valid and yields nothing", "[reading_parser]") {
  const auto m = parse(" [ ] ");
  CHECK(m.readings.empty());
  CHECK(m.rejections.empty());
}

TEST_CASE("ts as RFC 3339 with Z is that instant", "[reading_parser]") {
  const auto m = parse(reading_with(R"("ts":"2026-11-28T11:30:00Z")"));
  REQUIRE(m.readings.size() == 1);
  CHECK(m.readings[0].ts == at("2026-11-28T11:30:00Z"));
}

TEST_CASE("ts with a +02:00 offset is converted to the exact UTC instant", "[reading_parser]") {
  const auto m = parse(reading_with(R"("ts":"2026-11-28T13:30:00.250+02:00")"));
  REQUIRE(m.readings.size() == 1);
  CHECK(ste::to_epoch_ms(m.readings[0].ts) == ste::to_epoch_ms(at("2026-11-28T11:30:00.250Z")));
  CHECK(m.readings[0].ts == at("2026-11-28T11:30:00.250Z"));
}

TEST_CASE("ts as an integer is epoch milliseconds", "[reading_parser]") {
  const auto m = parse(reading_with(R"("ts":1795863600123)"));
  REQUIRE(m.readings.size() == 1);
  CHECK(m.readings[0].ts == at("2026-11-28T11:00:00.123Z"));
}

TEST_CASE("an absent or null ts takes the message's default ts", "[reading_parser]") {
  const auto absent = parse(R"({"metric":"m","value":1})");
  REQUIRE(absent.readings.size() == 1);
  CHECK(absent.readings[0].ts == context().default_ts);
  const auto null_ts = parse(reading_with(R"("ts":null)"));
  REQUIRE(null_ts.readings.size() == 1);
  CHECK(null_ts.readings[0].ts == context().default_ts);
}

TEST_CASE("unit is optional: absent or null means no unit, a string is kept", "[reading_parser]") {
  const auto absent = parse(R"({"metric":"m","value":1})");
  REQUIRE(absent.readings.size() == 1);
  CHECK_FALSE(absent.readings[0].unit);
  const auto null_unit = parse(reading_with(R"("unit":null)"));
  REQUIRE(null_unit.readings.size() == 1);
  CHECK_FALSE(null_unit.readings[0].unit);
  const auto present = parse(reading_with(R"("unit":"kWh")"));
  REQUIRE(present.readings.size() == 1);
  CHECK(present.readings[0].unit == std::optional<std::string>("kWh"));
  const auto empty = parse(reading_with(R"("unit":"")"));
  REQUIRE(empty.readings.size() == 1);
  CHECK(empty.readings[0].unit == std::optional<std::string>(""));
}

TEST_CASE("a device field equal to the subject's device key is accepted", "[reading_parser]") {
  const auto m = parse(reading_with(R"("device":"dev-1")"));
  CHECK(m.readings.size() == 1);
  CHECK(m.rejections.empty());
}

TEST_CASE("unknown fields are ignored, whatever their type", "[reading_parser]") {
  const auto m = parse(reading_with(
      R"("firmware":"1.2","tags":{"room":[1,2,{"a":null}],"x":true},"seq":12345678901234567890123,)"
      R"("v2":1e400,"f":false)"));
  REQUIRE(m.rejections.empty());
  REQUIRE(m.readings.size() == 1);
  CHECK(m.readings[0].value == 1);
}

TEST_CASE("a duplicate key keeps its first occurrence", "[reading_parser]") {
  const auto m = parse(R"({"metric":"first","value":1,"metric":"second","value":2})");
  REQUIRE(m.readings.size() == 1);
  CHECK(m.readings[0].metric == "first");
  CHECK(m.readings[0].value == 1);
  // The first occurrence wins even when it is the invalid one.
  CHECK(reason_for(R"({"metric":"m","value":"x","value":2})") == RejectReason::invalid_value);
}

TEST_CASE("escaped keys and strings are read by their unescaped text", "[reading_parser]") {
  const auto m = parse(R"({"m\u0065tric":"temp\u0065rature","value":1,"unit":"\u00b0C"})");
  REQUIRE(m.readings.size() == 1);
  CHECK(m.readings[0].metric == "temperature");
  CHECK(m.readings[0].unit == std::optional<std::string>("\xc2\xb0"
                                                         "C"));
}

TEST_CASE("value as an integer, including beyond int64, becomes a double", "[reading_parser]") {
  auto value_of = [](std::string_view v) {
    const auto m = parse(R"({"metric":"m","value":)" + std::string(v) + "}");
    REQUIRE(m.readings.size() == 1);
    return m.readings[0].value;
  };
  CHECK(value_of("42") == 42.0);
  CHECK(value_of("-9223372036854775808") == -9223372036854775808.0);
  CHECK(value_of("18446744073709551615") == 18446744073709551615.0);
  CHECK(value_of("123456789012345678901234567890") == 1.2345678901234568e29);
  CHECK(value_of("-0") == 0.0);
  CHECK(value_of("1.5e-3") == 0.0015);
  CHECK(value_of("1e-400") == 0.0);
}

// --- whole-message rejections ---

TEST_CASE("a payload that is not JSON is rejected whole as invalid_json", "[reading_parser]") {
  for (const std::string_view bad : {"",
                                     "   ",
                                     "not json",
                                     "{",
                                     "[",
                                     "{\"metric\":\"m\",\"value\":1",
                                     "[{\"metric\":\"m\"",
                                     "{\"metric\":\"m\",\"value\":1,}",
                                     "{\"metric\" \"m\"}",
                                     "{\"metric\":\"m\" \"value\":1}",
                                     "{\"metric\":\"m\",\"value\":01}",
                                     "{\"metric\":\"m\",\"value\":1.}",
                                     "{\"metric\":\"m\",\"value\":-}",
                                     "{\"metric\":\"m\",\"value\":1x}",
                                     "{\"metric\":\"m\",\"value\":tru}",
                                     "{\"metric\":\"m\",\"value\":nul}",
                                     "{\"metric\":\"m\",\"value\":1]",
                                     "{\"metric\":\"m\\q\",\"value\":1}",
                                     "{\"metric\":\"m\",\"value\":1,\"x\":\"\xff\"}",
                                     "{\"metric\":\"m\nx\",\"value\":1}",
                                     "{'metric':'m','value':1}",
                                     "{\"metric\":\"m\",\"value\":1,\"x\":\"a\tb\"}",
                                     "{\"metric\":\"m\",\"value\":1,\"k\x01\":1}",
                                     "{\"metric\":\"m\",\"v\\u12\":1}",
                                     "{\"metric\":\"m\",\"value\":1,\"x\":\"\\ud800\"}"}) {
    INFO("payload: " << bad);
    const auto r = only_rejection(parse(bad));
    CHECK(r.reason == RejectReason::invalid_json);
    CHECK_FALSE(r.index);
    CHECK(r.payload == bad);
  }
}

TEST_CASE("a top-level value that is neither object nor array is invalid_json",
          "[reading_parser]") {
  for (const std::string_view bad : {"42", "\"text\"", "true", "null", "-1.5"}) {
    INFO("payload: " << bad);
    CHECK(reason_for(bad) == RejectReason::invalid_json);
  }
}

TEST_CASE("trailing content after the top-level value is invalid_json", "[reading_parser]") {
  for (const std::string_view bad :
       {R"({"metric":"m","value":1} x)", R"({"metric":"m","value":1}})",
        R"({"metric":"m","value":1}{"metric":"m","value":2})", R"({"metric":"m","value":1},)",
        R"([{"metric":"m","value":1}] [)", R"([{"metric":"m","value":1}]])", R"([] 1)"}) {
    INFO("payload: " << bad);
    CHECK(reason_for(bad) == RejectReason::invalid_json);
  }
  // Trailing whitespace is fine.
  CHECK(parse("{\"metric\":\"m\",\"value\":1} \n\t").readings.size() == 1);
}

TEST_CASE("a syntax error after the fields that were read is still invalid_json",
          "[reading_parser]") {
  CHECK(reason_for(reading_with(R"("extra":tru)")) == RejectReason::invalid_json);
  CHECK(reason_for(reading_with(R"("extra":[1,2,})")) == RejectReason::invalid_json);
  CHECK(reason_for(reading_with(R"("extra":{"a" 1})")) == RejectReason::invalid_json);
  CHECK(reason_for(reading_with(R"("extra":[1 2])")) == RejectReason::invalid_json);
  CHECK(reason_for(reading_with(R"("extra":"bad \x escape")")) == RejectReason::invalid_json);
  CHECK(reason_for(reading_with(R"("extra":01)")) == RejectReason::invalid_json);
  // ...and in a field the reading does use, after the first (winning) occurrence.
  CHECK(reason_for(reading_with(R"("value":[})")) == RejectReason::invalid_json);
}

TEST_CASE("an array malformed part-way rejects the whole message and keeps no reading",
          "[reading_parser]") {
  const std::string payload =
      R"([{"metric":"a","value":1},{"metric":"bad","value":2},{"metric":"b","value":})";
  const auto r = only_rejection(parse(payload));
  CHECK(r.reason == RejectReason::invalid_json);
  CHECK_FALSE(r.index);
  CHECK(r.payload == payload);

  CHECK(reason_for(R"([{"metric":"a","value":1},{"metric":"b","value":2,"x":[1,}])") ==
        RejectReason::invalid_json);
  CHECK(reason_for(R"([{"metric":"a","value":1} {"metric":"b","value":2}])") ==
        RejectReason::invalid_json);
  CHECK(reason_for(R"([{"metric":"a","value":1},])") == RejectReason::invalid_json);
  CHECK(reason_for(R"([{"metric":"a","value":1},{"metric":"b","value":2})") ==
        RejectReason::invalid_json);
  CHECK(reason_for(R"([{"metric":"a","value":1},{"metric":"b","value":2}})") ==
        RejectReason::invalid_json);
}

TEST_CASE("a payload over 64 KiB is rejected whole as too_large with its first 4096 bytes",
          "[reading_parser]") {
  const std::string head = R"({"metric":"m","value":1,"pad":")";
  const std::string tail = "\"}";
  std::string exact = head + std::string(64 * 1024 - head.size() - tail.size(), 'x') + tail;
  REQUIRE(exact.size() == 64 * 1024);
  const auto ok = parse(exact);
  CHECK(ok.rejections.empty());
  CHECK(ok.readings.size() == 1);

  const std::string over =
      head + std::string(64 * 1024 + 1 - head.size() - tail.size(), 'x') + tail;
  REQUIRE(over.size() == 64 * 1024 + 1);
  const auto r = only_rejection(parse(over));
  CHECK(r.reason == RejectReason::too_large);
  CHECK_FALSE(r.index);
  CHECK(r.payload == over.substr(0, 4096));
}

TEST_CASE("an array of more than 1000 readings is rejected whole as too_many_readings",
          "[reading_parser]") {
  const auto ok = parse(array_of(1000));
  CHECK(ok.rejections.empty());
  CHECK(ok.readings.size() == 1000);

  const std::string over = array_of(1001);
  const auto r = only_rejection(parse(over));
  CHECK(r.reason == RejectReason::too_many_readings);
  CHECK_FALSE(r.index);
  CHECK(r.payload == over.substr(0, 4096));
}

TEST_CASE("nesting within simdjson's depth limit is valid, deeper is invalid_json",
          "[reading_parser]") {
  const auto nested = [](std::size_t depth) {
    return reading_with("\"deep\":" + std::string(depth, '[') + std::string(depth, ']'));
  };
  CHECK(parse(nested(1000)).readings.size() == 1);
  for (std::size_t depth = 1018; depth <= 1030; ++depth) {
    INFO("depth " << depth);
    const auto m = parse(nested(depth));
    CHECK(m.readings.size() + m.rejections.size() == 1);
  }
  CHECK(reason_for(nested(20000)) == RejectReason::invalid_json);
  CHECK(reason_for("[" + nested(1030) + "]") == RejectReason::invalid_json);
}

// --- per-reading rejections (a single object: index empty, payload = the message) ---

TEST_CASE("a device field different from the subject's device is device_mismatch",
          "[reading_parser]") {
  const std::string payload = reading_with(R"("device":"dev-2")");
  const auto r = only_rejection(parse(payload));
  CHECK(r.reason == RejectReason::device_mismatch);
  CHECK_FALSE(r.index);
  CHECK(r.payload == payload);
  CHECK(reason_for(reading_with(R"("device":7)")) == RejectReason::device_mismatch);
  CHECK(reason_for(reading_with(R"("device":null)")) == RejectReason::device_mismatch);
  CHECK(reason_for(reading_with(R"("device":"DEV-1")")) == RejectReason::device_mismatch);
}

TEST_CASE("a reading without metric is missing_metric", "[reading_parser]") {
  const auto r = only_rejection(parse(R"({"value":1})"));
  CHECK(r.reason == RejectReason::missing_metric);
  CHECK(r.detail.find("metric") != std::string::npos);
  CHECK(reason_for("{}") == RejectReason::missing_metric);
}

TEST_CASE("a metric that is not 1-128 characters of [A-Za-z0-9_.:-] is invalid_metric",
          "[reading_parser]") {
  for (const std::string_view bad :
       {R"("")", R"("temp erature")", R"("temp/room")", R"("temp\u00e9")", R"(12)", R"(null)",
        R"(["a"])", R"({"name":"a"})", R"(true)"}) {
    INFO("metric: " << bad);
    const auto r = only_rejection(parse(R"({"value":1,"metric":)" + std::string(bad) + "}"));
    CHECK(r.reason == RejectReason::invalid_metric);
    CHECK(r.detail == "metric must be a string of 1-128 characters of [A-Za-z0-9_.:-]");
  }
  const auto ok = parse(R"({"metric":"Aa0_.:-","value":1})");
  CHECK(ok.readings.size() == 1);
}

TEST_CASE("a metric of 128 characters is accepted and of 129 is invalid_metric",
          "[reading_parser]") {
  const auto ok = parse(R"({"value":1,"metric":")" + std::string(128, 'm') + "\"}");
  REQUIRE(ok.readings.size() == 1);
  CHECK(ok.readings[0].metric.size() == 128);
  CHECK(reason_for(R"({"value":1,"metric":")" + std::string(129, 'm') + "\"}") ==
        RejectReason::invalid_metric);
}

TEST_CASE("a reading without value is missing_value", "[reading_parser]") {
  CHECK(reason_for(R"({"metric":"m"})") == RejectReason::missing_value);
}

TEST_CASE("a value that is not a finite number is invalid_value", "[reading_parser]") {
  for (const std::string_view bad :
       {R"("21.5")", "null", "true", "false", "[1]", R"({"v":1})", "1e400", "-1e400"}) {
    INFO("value: " << bad);
    const auto r = only_rejection(parse(R"({"metric":"m","value":)" + std::string(bad) + "}"));
    CHECK(r.reason == RejectReason::invalid_value);
    CHECK(r.detail == "value must be a finite number");
  }
}

TEST_CASE("a ts that is neither RFC 3339 nor integer epoch milliseconds is invalid_ts",
          "[reading_parser]") {
  for (const std::string_view bad :
       {R"("yesterday")", R"("2026-11-28T11:00:00")", R"("2026-11-28 11:00:00Z")",
        R"("2026-11-28")", R"("2026-02-30T11:00:00Z")", R"("")", "1795863600000.0", "1.7958636e12",
        "true", "{}", "[1795863600000]", "99999999999999999999"}) {
    INFO("ts: " << bad);
    CHECK(reason_for(reading_with("\"ts\":" + std::string(bad))) == RejectReason::invalid_ts);
  }
}

TEST_CASE("a ts up to 5 minutes in the future is accepted, later is future_ts",
          "[reading_parser]") {
  const auto ok = parse(reading_with(R"("ts":"2026-11-28T12:05:00Z")"));
  REQUIRE(ok.readings.size() == 1);
  CHECK(ok.readings[0].ts == context().now + 5min);

  const auto r = only_rejection(parse(reading_with(R"("ts":"2026-11-28T12:05:00.001Z")")));
  CHECK(r.reason == RejectReason::future_ts);
  CHECK(r.detail == "ts is 300.001 s in the future (at most 300 s allowed)");

  const auto far = only_rejection(parse(reading_with(R"("ts":"2026-11-28T12:06:52Z")")));
  CHECK(far.detail == "ts is 412 s in the future (at most 300 s allowed)");
}

TEST_CASE("a ts beyond the representable clock range is future_ts or too_old, not a crash",
          "[reading_parser]") {
  CHECK(reason_for(reading_with(R"("ts":"2300-01-01T00:00:00Z")")) == RejectReason::future_ts);
  CHECK(reason_for(reading_with(R"("ts":"9999-12-31T23:59:59+01:00")")) == RejectReason::future_ts);
  CHECK(reason_for(reading_with(R"("ts":"0001-01-01T00:00:00Z")")) == RejectReason::too_old);
  CHECK(reason_for(reading_with(R"("ts":9223372036854775807)")) == RejectReason::future_ts);
  CHECK(reason_for(reading_with(R"("ts":-9223372036854775808)")) == RejectReason::too_old);
  // The stand-in year keeps the leap-year rule: 2300 is not a leap year.
  CHECK(reason_for(reading_with(R"("ts":"2300-02-29T00:00:00Z")")) == RejectReason::invalid_ts);
  CHECK(reason_for(reading_with(R"("ts":"2400-02-29T00:00:00Z")")) == RejectReason::future_ts);
}

TEST_CASE("a ts older than the retention period is too_old", "[reading_parser]") {
  const auto ctx = context();
  const auto oldest_ms = ste::to_epoch_ms(ctx.now - ctx.retention);
  ReadingParser parser;
  const auto ok = parser.parse(reading_with("\"ts\":" + std::to_string(oldest_ms)), ctx);
  REQUIRE(ok.readings.size() == 1);
  CHECK(ok.readings[0].ts == ctx.now - ctx.retention);

  const auto r =
      only_rejection(parser.parse(reading_with("\"ts\":" + std::to_string(oldest_ms - 1)), ctx));
  CHECK(r.reason == RejectReason::too_old);
  CHECK(reason_for(reading_with(R"("ts":0)")) == RejectReason::too_old);
  CHECK(reason_for(reading_with(R"("ts":-5)")) == RejectReason::too_old);
}

TEST_CASE("a default ts outside the accepted window is rejected like an explicit one",
          "[reading_parser]") {
  auto ctx = context();
  ctx.default_ts = ctx.now - ctx.retention - 1s;
  ReadingParser parser;
  CHECK(only_rejection(parser.parse(R"({"metric":"m","value":1})", ctx)).reason ==
        RejectReason::too_old);
}

TEST_CASE("a unit that is not a string of at most 32 characters is invalid_unit",
          "[reading_parser]") {
  const auto ok = parse(reading_with("\"unit\":\"" + std::string(32, 'u') + "\""));
  REQUIRE(ok.readings.size() == 1);
  CHECK(ok.readings[0].unit->size() == 32);

  const auto r = only_rejection(parse(reading_with("\"unit\":\"" + std::string(33, 'u') + "\"")));
  CHECK(r.reason == RejectReason::invalid_unit);
  CHECK(r.detail == "unit must be a string of at most 32 characters");
  CHECK(reason_for(reading_with(R"("unit":5)")) == RejectReason::invalid_unit);
  CHECK(reason_for(reading_with(R"("unit":["C"])")) == RejectReason::invalid_unit);
}

TEST_CASE("unit length counts characters, not bytes", "[reading_parser]") {
  const std::string degree = "\xc2\xb0";         // U+00B0, 2 bytes
  const std::string euro = "\xe2\x82\xac";       // U+20AC, 3 bytes
  const std::string emoji = "\xf0\x9f\x8c\xa1";  // U+1F321, 4 bytes
  const std::string unit32 = repeat(degree, 10) + repeat(euro, 10) + repeat(emoji, 12);
  const auto ok = parse(reading_with("\"unit\":\"" + unit32 + "\""));
  REQUIRE(ok.readings.size() == 1);
  CHECK(*ok.readings[0].unit == unit32);
  CHECK(reason_for(reading_with("\"unit\":\"" + unit32 + degree + "\"")) ==
        RejectReason::invalid_unit);
  // Escaped code points count once too: 32 x \u00b0.
  CHECK(parse(reading_with("\"unit\":\"" + repeat("\\u00b0", 32) + "\"")).readings.size() == 1);
  CHECK(reason_for(reading_with("\"unit\":\"" + repeat("\\u00b0", 33) + "\"")) ==
        RejectReason::invalid_unit);
}

TEST_CASE("the first failing check in contract order is the reading's one rejection",
          "[reading_parser]") {
  CHECK(reason_for(R"({"device":"x","metric":"bad metric","value":"x","ts":"no","unit":5})") ==
        RejectReason::device_mismatch);
  CHECK(reason_for(R"({"unit":5,"ts":"no","value":"x","metric":"bad metric"})") ==
        RejectReason::invalid_metric);
  CHECK(reason_for(R"({"unit":5,"ts":"no","value":"x"})") == RejectReason::missing_metric);
  CHECK(reason_for(R"({"unit":5,"ts":"no","metric":"m"})") == RejectReason::missing_value);
  CHECK(reason_for(R"({"unit":5,"ts":"no","value":1e400,"metric":"m"})") ==
        RejectReason::invalid_value);
  CHECK(reason_for(R"({"unit":5,"ts":"no","value":1,"metric":"m"})") == RejectReason::invalid_ts);
  CHECK(reason_for(R"({"unit":5,"ts":"2030-01-01T00:00:00Z","value":1,"metric":"m"})") ==
        RejectReason::future_ts);
  CHECK(reason_for(R"({"unit":5,"ts":"2020-01-01T00:00:00Z","value":1,"metric":"m"})") ==
        RejectReason::too_old);
}

// --- arrays: per-element rejections ---

TEST_CASE(
    "in a mixed array valid readings are kept and each invalid one is rejected with its "
    "index and its own JSON text",
    "[reading_parser]") {
  const auto m = parse(R"([ {"metric":"a","value":1},
    {"metric":"b", "value":"high"} ,
    {"metric":"c","value":3},
    {"value":4, "tags":{"x":[1,2]}}
  ])");
  REQUIRE(m.readings.size() == 2);
  CHECK(m.readings[0].metric == "a");
  CHECK(m.readings[1].metric == "c");
  REQUIRE(m.rejections.size() == 2);
  CHECK(m.rejections[0].reason == RejectReason::invalid_value);
  CHECK(m.rejections[0].index == std::optional<std::size_t>(1));
  CHECK(m.rejections[0].payload == R"({"metric":"b", "value":"high"})");
  CHECK(m.rejections[1].reason == RejectReason::missing_metric);
  CHECK(m.rejections[1].index == std::optional<std::size_t>(3));
  CHECK(m.rejections[1].payload == R"({"value":4, "tags":{"x":[1,2]}})");
}

TEST_CASE("an array element that is not an object is invalid_json at its index",
          "[reading_parser]") {
  const auto m =
      parse(R"([{"metric":"a","value":1}, 42, "str" , [1, {"b":2}], null, true, -1e400])");
  REQUIRE(m.readings.size() == 1);
  REQUIRE(m.rejections.size() == 6);
  const std::string_view texts[] = {"42", R"("str")", R"([1, {"b":2}])", "null", "true", "-1e400"};
  for (std::size_t i = 0; i < 6; ++i) {
    INFO("element " << i + 1);
    CHECK(m.rejections[i].reason == RejectReason::invalid_json);
    CHECK(m.rejections[i].index == std::optional<std::size_t>(i + 1));
    CHECK(m.rejections[i].payload == texts[i]);
    CHECK(m.rejections[i].detail == "array element must be a JSON object");
  }
}

TEST_CASE("an element's rejection payload is cut to 4096 bytes", "[reading_parser]") {
  const std::string element =
      R"({"metric":"m","value":"x","pad":")" + std::string(5000, 'p') + "\"}";
  const auto m = parse("[" + element + "]");
  REQUIRE(m.rejections.size() == 1);
  CHECK(m.rejections[0].index == std::optional<std::size_t>(0));
  CHECK(m.rejections[0].payload == element.substr(0, 4096));
}

TEST_CASE("a single object's rejection payload is the message's first 4096 bytes",
          "[reading_parser]") {
  const std::string payload = R"({"value":1,"pad":")" + std::string(5000, 'p') + "\"}";
  const auto r = only_rejection(parse(payload));
  CHECK(r.reason == RejectReason::missing_metric);
  CHECK(r.payload == payload.substr(0, 4096));
}

TEST_CASE("a reused parser is not influenced by an earlier, longer message", "[reading_parser]") {
  ReadingParser parser;
  const auto ctx = context();
  const std::string longer = R"({"metric":"m","value":1,"note":"some longer text"})";
  REQUIRE(parser.parse(longer, ctx).readings.size() == 1);
  // The bytes after this prefix in the reused buffer would complete it if they were read.
  const std::string_view prefix = std::string_view(longer).substr(0, 24);
  CHECK(only_rejection(parser.parse(prefix, ctx)).reason == RejectReason::invalid_json);
  const auto again = parser.parse(R"({"metric":"n","value":2})", ctx);
  REQUIRE(again.readings.size() == 1);
  CHECK(again.readings[0].metric == "n");
}
