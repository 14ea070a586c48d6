#include "evaluator/api/silence_parsing.hpp"

#include <catch2/catch.hpp>
#include <string>

#include "common/time_format.hpp"
#include "tests/unit/support/parsed.hpp"

using ste::TimePoint;
using ste::api::ApiError;
using ste::api::Matcher;
using ste::api::parse_preview_body;
using ste::api::parse_silence_body;
using ste::api::SilenceInput;
using ste::testing::error;
using ste::testing::ok;

namespace {

TimePoint ts(std::string_view s) {
  const auto t = ste::parse_rfc3339(s);
  REQUIRE(t.has_value());
  return *t;
}

const TimePoint kNow = *ste::parse_rfc3339("2026-12-06T12:00:00Z");

std::string silence(const std::string& matchers, const std::string& rest = "") {
  return R"({"matchers":)" + matchers +
         R"(,"ends_at":"2026-12-06T14:00:00Z","comment":"boiler maintenance")" + rest + "}";
}

void check_invalid(const ste::api::Parsed<SilenceInput>& p, const std::string& message) {
  const ApiError e = error(p);
  CHECK(e.status == 422);
  CHECK(e.message == message);
}

}  // namespace

TEST_CASE("a silence needs matchers, ends_at and a comment — starts_at defaults to now",
          "[silence]") {
  const auto& s =
      ok(parse_silence_body(silence(R"([{"field":"device","op":"=~","value":"boiler-.*"},)"
                                    R"({"field":"severity","op":"!=","value":"info"}])"),
                            kNow));
  CHECK(s.matchers ==
        std::vector<Matcher>{{"device", "=~", "boiler-.*"}, {"severity", "!=", "info"}});
  CHECK(s.matchers[0].is_regex());
  CHECK_FALSE(s.matchers[1].is_regex());
  CHECK(s.starts_at == kNow);
  CHECK(s.ends_at == ts("2026-12-06T14:00:00Z"));
  CHECK(s.comment == "boiler maintenance");
  check_invalid(parse_silence_body(R"({"ends_at":"2026-12-06T14:00:00Z","comment":"x"})", kNow),
                "matchers is required");
  check_invalid(
      parse_silence_body(R"({"matchers":[{"field":"device","op":"=","value":"a"}],"comment":"x"})",
                         kNow),
      "ends_at is required");
}

TEST_CASE("each matcher part is checked and named with its index", "[silence]") {
  check_invalid(parse_silence_body(silence(R"([{"field":"tenant","op":"=","value":"a"}])"), kNow),
                "matchers[0].field must be one of device, metric, rule_id, severity");
  check_invalid(parse_silence_body(silence(R"([{"field":"device","op":"=","value":"a"},)"
                                           R"({"field":"device","op":"~","value":"a"}])"),
                                   kNow),
                "matchers[1].op must be one of =, !=, =~, !~");
  check_invalid(parse_silence_body(silence(R"([{"field":"device","op":"=","value":""}])"), kNow),
                "matchers[0].value must be a string of 1-256 characters, none of them control "
                "characters");
  check_invalid(parse_silence_body(silence(R"([{"field":"device","op":"=~","value":")" +
                                           std::string(257, 'a') + R"("}])"),
                                   kNow),
                "matchers[0].value must be a string of 1-256 characters, none of them control "
                "characters");
  check_invalid(parse_silence_body(silence(R"([{"field":"device","op":"="}])"), kNow),
                "matchers[0] needs field, op and value");
  check_invalid(
      parse_silence_body(silence(R"([{"field":"device","op":"=","value":"a","x":1}])"), kNow),
      "unknown field 'x' in matchers[0]");
  check_invalid(parse_silence_body(silence(R"(["device=a"])"), kNow),
                "matchers[0] must be an object: matchers must be an array of 1-16 objects "
                "{\"field\": \"device|metric|rule_id|severity\", \"op\": \"=|!=|=~|!~\", "
                "\"value\": \"...\"}");
}

TEST_CASE("a silence has 1 to 16 matchers", "[silence]") {
  const std::string rule =
      "matchers must be an array of 1-16 objects {\"field\": \"device|metric|rule_id|severity\", "
      "\"op\": \"=|!=|=~|!~\", \"value\": \"...\"}";
  check_invalid(parse_silence_body(silence("[]"), kNow), rule);
  check_invalid(parse_silence_body(silence(R"({"field":"device"})"), kNow), rule);
  std::string many = "[";
  for (int i = 0; i < 17; ++i)
    many += std::string(i ? "," : "") + R"({"field":"device","op":"=","value":"d"})";
  check_invalid(parse_silence_body(silence(many + "]"), kNow), rule);
  many = "[";
  for (int i = 0; i < 16; ++i)
    many += std::string(i ? "," : "") + R"({"field":"device","op":"=","value":"d"})";
  CHECK(ok(parse_silence_body(silence(many + "]"), kNow)).matchers.size() == 16);
}

TEST_CASE("a silence must end after it starts, and in the future", "[silence]") {
  const std::string m = R"([{"field":"device","op":"=","value":"a"}])";
  check_invalid(parse_silence_body(silence(m, R"(,"starts_at":"2026-12-06T15:00:00Z")"), kNow),
                "ends_at (2026-12-06T14:00:00.000Z) must be after starts_at "
                "(2026-12-06T15:00:00.000Z)");
  check_invalid(
      parse_silence_body(
          R"({"matchers":)" + m +
              R"(,"ends_at":"2026-12-06T11:00:00Z","comment":"x","starts_at":"2026-12-06T10:00:00Z"})",
          kNow),
      "ends_at (2026-12-06T11:00:00.000Z) must be in the future: a silence that has already "
      "ended would mute nothing");
  // A future start: pending until then.
  const auto& later =
      ok(parse_silence_body(silence(m, R"(,"starts_at":"2026-12-06T13:00:00Z")"), kNow));
  CHECK(later.starts_at == ts("2026-12-06T13:00:00Z"));
  check_invalid(parse_silence_body(silence(m, R"(,"starts_at":"tomorrow")"), kNow),
                "starts_at must be an RFC 3339 time");
}

TEST_CASE("a silence's comment is required text of at most 1000 characters", "[silence]") {
  const std::string m = R"([{"field":"device","op":"=","value":"a"}])";
  const std::string msg =
      "comment must be a string of 1-1000 characters, without control characters other than "
      "line breaks and tabs";
  const auto body = [&](const std::string& comment) {
    return R"({"matchers":)" + m + R"(,"ends_at":"2026-12-06T14:00:00Z","comment":)" + comment +
           "}";
  };
  CHECK(ok(parse_silence_body(body(R"("line one\nline two\ttab")"), kNow)).comment ==
        "line one\nline two\ttab");
  CHECK(ok(parse_silence_body(body("\"" + std::string(1000, 'c') + "\""), kNow)).comment.size() ==
        1000);
  check_invalid(parse_silence_body(body("\"" + std::string(1001, 'c') + "\""), kNow), msg);
  check_invalid(parse_silence_body(body(R"("")"), kNow), msg);
  check_invalid(parse_silence_body(body(R"("bell\u0007")"), kNow), msg);
  check_invalid(parse_silence_body(body("null"), kNow), msg);
}

TEST_CASE("malformed JSON outranks a bad matcher — a preview takes matchers only", "[silence]") {
  CHECK(error(parse_silence_body(R"({"matchers":[{"field":"x"}],)", kNow)).status == 400);
  const auto& m =
      ok(parse_preview_body(R"({"matchers":[{"field":"metric","op":"=","value":"t"}]})"));
  CHECK(m == std::vector<Matcher>{{"metric", "=", "t"}});
  CHECK(error(parse_preview_body(R"({"x":1,"matchers":[]})")).message == "unknown field 'x'");
  CHECK(error(parse_preview_body(R"({"matchers":[{"field":"rule_id","op":"=~"}]})")).message ==
        "matchers[0] needs field, op and value");
}
