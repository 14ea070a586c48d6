#include "evaluator/evaluation/summary_parser.hpp"

#include <catch2/catch.hpp>
#include <chrono>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "common/json_writer.hpp"
#include "common/time_format.hpp"

using ste::TimePoint;
using ste::eval::Summary;
using ste::eval::SummaryError;
using ste::eval::SummaryParser;
using namespace std::chrono_literals;

namespace {

TimePoint ts(std::string_view s) {
  const auto t = ste::parse_rfc3339(s);
  REQUIRE(t.has_value());
  return *t;
}

/// A summary exactly as ingester/batch_summary.cpp's summary_to_json writes it (flushed_at in
/// milliseconds, tuple timestamps in microseconds, shortest-form numbers).
constexpr std::string_view kIngesterSummary =
    R"({"batch_id":"5f0c1d3e-8b7a-4c2e-9f10-0a1b2c3d4e5f","flushed_at":"2026-11-28T11:00:05.123Z",)"
    R"("readings":812,"tuples":[)"
    R"({"tenant_id":1,"device_id":42,"tenant":"acme","device":"boiler-7","metric":"temperature",)"
    R"("last":21.5,"last_ts":"2026-11-28T11:00:04.000001Z","min":-20.9,)"
    R"("min_ts":"2026-11-28T10:59:58.123456Z","max":23,"max_ts":"2026-11-28T11:00:01.999999Z",)"
    R"("count":7},)"
    R"({"tenant_id":2,"device_id":7,"tenant":"","device":"","metric":"pressure",)"
    R"("last":1e-7,"last_ts":"2026-11-28T11:00:00.000000Z","min":1e-7,)"
    R"("min_ts":"2026-11-28T11:00:00.000000Z","max":1e-7,"max_ts":"2026-11-28T11:00:00.000000Z",)"
    R"("count":1}]})";

using Fields = std::vector<std::pair<std::string, std::string>>;  // key, raw JSON value

Fields tuple_fields() {
  return {{"tenant_id", "1"},
          {"device_id", "42"},
          {"tenant", R"("acme")"},
          {"device", R"("boiler-7")"},
          {"metric", R"("temperature")"},
          {"last", "21.5"},
          {"last_ts", R"("2026-11-28T11:00:04.000001Z")"},
          {"min", "20.9"},
          {"min_ts", R"("2026-11-28T10:59:58.123456Z")"},
          {"max", "23"},
          {"max_ts", R"("2026-11-28T11:00:01.999999Z")"},
          {"count", "7"}};
}

Fields summary_fields(const std::string& tuples_json) {
  return {{"batch_id", R"("b-1")"},
          {"flushed_at", R"("2026-11-28T11:00:05.123Z")"},
          {"readings", "21"},
          {"tuples", tuples_json}};
}

std::string object(const Fields& fields) {
  ste::JsonWriter w;
  w.begin_object();
  for (const auto& [k, v] : fields) w.key(k).raw(v);
  w.end_object();
  return w.take();
}

Fields without(Fields f, std::string_view key) {
  std::erase_if(f, [key](const auto& kv) { return kv.first == key; });
  return f;
}

Fields with(Fields f, std::string_view key, std::string value) {
  for (auto& kv : f) {
    if (kv.first == key) kv.second = std::move(value);
  }
  return f;
}

/// Three good tuples with `bad` at index 1 (so the index in the message is checked too).
std::string summary_with_tuple(const Fields& bad) {
  const std::string good = object(tuple_fields());
  return object(summary_fields("[" + good + "," + object(bad) + "," + good + "]"));
}

Summary parse_ok(SummaryParser& p, std::string_view json) {
  auto r = p.parse(json);
  if (auto* e = std::get_if<SummaryError>(&r)) FAIL("unexpected error: " << e->message);
  return std::get<Summary>(std::move(r));
}

std::string parse_error(SummaryParser& p, std::string_view json) {
  auto r = p.parse(json);
  REQUIRE(std::holds_alternative<SummaryError>(r));
  return std::get<SummaryError>(r).message;
}

}  // namespace

TEST_CASE("a summary as the ingester writes it parses into every field", "[summary_parser]") {
  SummaryParser p;
  const Summary s = parse_ok(p, kIngesterSummary);
  CHECK(s.batch_id == "5f0c1d3e-8b7a-4c2e-9f10-0a1b2c3d4e5f");
  CHECK(s.flushed_at == ts("2026-11-28T11:00:05.123Z"));
  CHECK(s.readings == 812);
  REQUIRE(s.tuples.size() == 2);

  const auto& t = s.tuples[0];
  CHECK(t.tenant_id == 1);
  CHECK(t.device_id == 42);
  CHECK(t.tenant == "acme");
  CHECK(t.device == "boiler-7");
  CHECK(t.metric == "temperature");
  CHECK(t.last == 21.5);
  CHECK(t.last_ts == ts("2026-11-28T11:00:04Z") + 1us);
  CHECK(t.min == -20.9);
  CHECK(t.min_ts == ts("2026-11-28T10:59:58Z") + 123456us);
  CHECK(t.max == 23);
  CHECK(t.max_ts == ts("2026-11-28T11:00:01Z") + 999999us);
  CHECK(t.count == 7);

  const auto& u = s.tuples[1];
  CHECK(u.tenant_id == 2);
  CHECK(u.device_id == 7);
  CHECK(u.metric == "pressure");
  CHECK(u.min == 1e-7);
  CHECK(u.max_ts == ts("2026-11-28T11:00:00Z"));
  CHECK(u.count == 1);
}

TEST_CASE("a tuple whose tenant and device names are unknown has empty names", "[summary_parser]") {
  SummaryParser p;
  const Summary s = parse_ok(p, kIngesterSummary);
  REQUIRE(s.tuples.size() == 2);
  CHECK(s.tuples[1].tenant.empty());
  CHECK(s.tuples[1].device.empty());
}

TEST_CASE("a summary with no tuples is accepted", "[summary_parser]") {
  SummaryParser p;
  const Summary s = parse_ok(p, object(summary_fields("[]")));
  CHECK(s.batch_id == "b-1");
  CHECK(s.readings == 21);
  CHECK(s.tuples.empty());
}

TEST_CASE("fields may come in any order and unknown fields are ignored", "[summary_parser]") {
  Fields tuple = tuple_fields();
  std::reverse(tuple.begin(), tuple.end());
  tuple.insert(tuple.begin() + 3, {"unit", R"({"nested":[1,{"a":null}]})"});
  Fields top = summary_fields("[" + object(tuple) + "]");
  std::reverse(top.begin(), top.end());
  top.push_back({"version", "2"});
  SummaryParser p;
  const Summary s = parse_ok(p, object(top));
  CHECK(s.batch_id == "b-1");
  REQUIRE(s.tuples.size() == 1);
  CHECK(s.tuples[0].tenant_id == 1);
  CHECK(s.tuples[0].metric == "temperature");
  CHECK(s.tuples[0].count == 7);
}

TEST_CASE("escaped strings are unescaped", "[summary_parser]") {
  SummaryParser p;
  const Summary s =
      parse_ok(p, summary_with_tuple(with(tuple_fields(), "device", R"("boiler \"7\" \u00e9\\")")));
  REQUIRE(s.tuples.size() == 3);
  CHECK(s.tuples[1].device == "boiler \"7\" \xc3\xa9\\");
  CHECK(s.tuples[0].device == "boiler-7");
}

TEST_CASE("a missing tuple field is named with the tuple's index", "[summary_parser]") {
  const std::string field = GENERATE("tenant_id", "device_id", "tenant", "device", "metric", "last",
                                     "last_ts", "min", "min_ts", "max", "max_ts", "count");
  SummaryParser p;
  CHECK(parse_error(p, summary_with_tuple(without(tuple_fields(), field))) ==
        "tuples[1]." + field + ": missing");
}

TEST_CASE("a missing summary field is named", "[summary_parser]") {
  const std::string field = GENERATE("batch_id", "flushed_at", "readings", "tuples");
  SummaryParser p;
  CHECK(parse_error(p, object(without(summary_fields("[]"), field))) == field + ": missing");
}

TEST_CASE("a mistyped tuple field is named with what was wrong", "[summary_parser]") {
  const auto [field, value, problem] = GENERATE(table<std::string, std::string, std::string>({
      {"tenant_id", R"("1")", "not an integer"},
      {"tenant_id", "1.5", "not an integer"},
      {"device_id", "null", "not an integer"},
      {"device_id", "99999999999999999999", "not an integer"},
      {"tenant", "5", "not a string"},
      {"device", "null", "not a string"},
      {"metric", "[]", "not a string"},
      {"last", R"("21.5")", "not a number"},
      {"min", "null", "not a number"},
      {"max", "true", "not a number"},
      {"max", "1e400", "not a number"},
      {"count", "7.0", "not an integer"},
      {"last_ts", "1700000000000", "not an RFC 3339 timestamp"},
      {"min_ts", R"("2026-11-28 11:00:00Z")", "not an RFC 3339 timestamp"},
      {"max_ts", R"("2026-13-28T11:00:00Z")", "not an RFC 3339 timestamp"},
      {"max_ts", R"("")", "not an RFC 3339 timestamp"},
  }));
  SummaryParser p;
  CHECK(parse_error(p, summary_with_tuple(with(tuple_fields(), field, value))) ==
        "tuples[1]." + field + ": " + problem);
}

TEST_CASE("a mistyped summary field is named with what was wrong", "[summary_parser]") {
  const std::string tuples = "[" + object(tuple_fields()) + "]";
  const auto [field, value, problem] = GENERATE(table<std::string, std::string, std::string>({
      {"batch_id", "12", "not a string"},
      {"flushed_at", R"("yesterday")", "not an RFC 3339 timestamp"},
      {"readings", R"("812")", "not an integer"},
      {"tuples", "{}", "not an array"},
      {"tuples", "null", "not an array"},
  }));
  SummaryParser p;
  CHECK(parse_error(p, object(with(summary_fields(tuples), field, value))) ==
        field + ": " + problem);
}

TEST_CASE("a tuple that is not an object is named by its index", "[summary_parser]") {
  const std::string good = object(tuple_fields());
  SummaryParser p;
  CHECK(parse_error(p, object(summary_fields("[" + good + ",[]]"))) == "tuples[1]: not an object");
  CHECK(parse_error(p, object(summary_fields("[7]"))) == "tuples[0]: not an object");
}

TEST_CASE("text that is not one JSON object is rejected", "[summary_parser]") {
  SummaryParser p;
  const std::string full = object(summary_fields("[" + object(tuple_fields()) + "]"));
  CHECK(parse_error(p, "") == "summary is not valid JSON");
  CHECK(parse_error(p, full.substr(0, full.size() - 1)) == "summary is not valid JSON");
  CHECK(parse_error(p, full.substr(0, full.size() / 2)) == "summary is not valid JSON");
  CHECK(parse_error(p, full + "{}") == "summary is not valid JSON");
  CHECK(parse_error(p, "[]") == "summary: not a JSON object");
  CHECK(parse_error(p, "\"batch\"") == "summary: not a JSON object");
  // Whitespace around the object is fine.
  CHECK(parse_ok(p, "\n " + full + " \n").tuples.size() == 1);
}

TEST_CASE("one parser reads a short summary after a longer one and after an error",
          "[summary_parser]") {
  SummaryParser p;
  const Summary first = parse_ok(p, kIngesterSummary);
  REQUIRE(first.tuples.size() == 2);
  // A prefix of the previous message: stale bytes after it must not be read.
  const std::string empty = object(summary_fields("[]"));
  CHECK(parse_ok(p, empty).tuples.empty());
  CHECK(parse_error(p, empty.substr(0, empty.size() - 1)) == "summary is not valid JSON");
  CHECK(parse_ok(p, kIngesterSummary).tuples.size() == 2);
}

TEST_CASE("a summary longer than any before it is parsed whole", "[summary_parser]") {
  SummaryParser p;
  CHECK(parse_ok(p, object(summary_fields("[]"))).tuples.empty());
  std::string tuples = "[";
  for (int i = 0; i < 2000; ++i) {
    if (i > 0) tuples += ",";
    tuples += object(with(tuple_fields(), "device_id", std::to_string(i)));
  }
  tuples += "]";
  const Summary s = parse_ok(p, object(summary_fields(tuples)));
  REQUIRE(s.tuples.size() == 2000);
  CHECK(s.tuples.front().device_id == 0);
  CHECK(s.tuples.back().device_id == 1999);
  CHECK(s.tuples.back().max_ts == ts("2026-11-28T11:00:01.999999Z"));
}

TEST_CASE("a summary without part fields is one whole part", "[summary_parser]") {
  SummaryParser p;
  const Summary s = parse_ok(p, object(summary_fields("[]")));
  CHECK(s.part == 1);
  CHECK(s.parts == 1);
}

TEST_CASE("a part of a split summary carries its part number and the number of parts",
          "[summary_parser]") {
  Fields f = summary_fields("[" + object(tuple_fields()) + "]");
  f.emplace_back("part", "2");
  f.emplace_back("parts", "3");
  SummaryParser p;
  const Summary s = parse_ok(p, object(f));
  CHECK(s.part == 2);
  CHECK(s.parts == 3);
  CHECK(s.tuples.size() == 1);
}

TEST_CASE("part fields come together, as integers, with 1 <= part <= parts", "[summary_parser]") {
  const auto [part, parts, error] = GENERATE(table<std::string, std::string, std::string>({
      {"1", "", "parts: missing"},
      {"", "2", "part: missing"},
      {"0", "2", "part: must be in 1..parts"},
      {"3", "2", "part: must be in 1..parts"},
      {"-1", "2", "part: must be in 1..parts"},
      {"1", "0", "parts: must be at least 1"},
      {R"("1")", "2", "part: not an integer"},
      {"1", "2.5", "parts: not an integer"},
  }));
  Fields f = summary_fields("[]");
  if (!part.empty()) f.emplace_back("part", part);
  if (!parts.empty()) f.emplace_back("parts", parts);
  SummaryParser p;
  CHECK(parse_error(p, object(f)) == error);
}
