// The alert endpoints' parsing: action bodies, If-Match, list filters, and the sort=severity
// cursor.
#include "evaluator/api/alert_parsing.hpp"

#include <catch2/catch.hpp>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "evaluator/api/query_parsing.hpp"
#include "tests/unit/support/parsed.hpp"

using ste::api::ApiError;
using ste::api::Parsed;
using ste::eval::EpisodeStatus;
using ste::eval::Severity;
using ste::testing::error;
using ste::testing::ok;
namespace api = ste::api;

namespace {

bool mentions(const ApiError& e, const std::string& part) {
  return e.message.find(part) != std::string::npos;
}

}  // namespace

TEST_CASE("An ack or resolve body may carry a comment, or nothing at all", "[alert_parsing]") {
  CHECK(ok(api::parse_optional_comment_body(R"({"comment":"on it"})")) == "on it");
  CHECK(!ok(api::parse_optional_comment_body("")).has_value());
  CHECK(!ok(api::parse_optional_comment_body(" \n")).has_value());
  CHECK(!ok(api::parse_optional_comment_body("{}")).has_value());
  CHECK(!ok(api::parse_optional_comment_body(R"({"comment":null})")).has_value());
  CHECK(!ok(api::parse_optional_comment_body(R"({"comment":""})")).has_value());
  CHECK(ok(api::parse_optional_comment_body(R"({"comment":")" + std::string(1000, 'x') + "\"}"))
            ->size() == 1000);
}

TEST_CASE("A comment over 1000 characters, with control characters or of another type is refused",
          "[alert_parsing]") {
  const auto too_long =
      error(api::parse_optional_comment_body(R"({"comment":")" + std::string(1001, 'x') + "\"}"));
  CHECK(too_long.status == 422);
  CHECK(mentions(too_long, "comment"));
  CHECK(mentions(error(api::parse_optional_comment_body(R"({"comment":"a\u0000b"})")), "comment"));
  CHECK(mentions(error(api::parse_optional_comment_body(R"({"comment":7})")), "comment"));
  CHECK(error(api::parse_optional_comment_body(R"({"note":"x"})")).code == "unknown_field");
  CHECK(error(api::parse_optional_comment_body(R"({"comment":)")).status == 400);
  CHECK(error(api::parse_optional_comment_body("[]")).status == 400);
}

TEST_CASE("A timeline comment needs 1 to 1000 characters of text", "[alert_parsing]") {
  CHECK(ok(api::parse_comment_body(R"({"text":"checked the valve"})")) == "checked the valve");
  CHECK(mentions(error(api::parse_comment_body("{}")), "text is required"));
  CHECK(mentions(error(api::parse_comment_body(R"({"text":""})")), "text"));
  CHECK(mentions(error(api::parse_comment_body(R"({"text":"a\rb"})")), "text"));
  CHECK(mentions(error(api::parse_comment_body(R"({"text":")" + std::string(1001, 'y') + "\"}")),
                 "text"));
  CHECK(error(api::parse_comment_body("")).status == 400);
}

TEST_CASE("If-Match takes the version bare or quoted as its ETag, or *", "[alert_parsing]") {
  CHECK(!ok(api::parse_if_match(std::nullopt)).has_value());
  CHECK(!ok(api::parse_if_match("*")).has_value());
  CHECK(ok(api::parse_if_match("7")) == 7);
  CHECK(ok(api::parse_if_match("\"7\"")) == 7);
  CHECK(ok(api::parse_if_match(" \"12\" ")) == 12);
  CHECK(ok(api::parse_if_match(api::alert_etag(42))) == 42);
  CHECK(api::alert_etag(3) == "\"3\"");
  for (const char* bad :
       {"", "seven", "\"7", "-1", "+1", "1.0", "W/\"7\"", "\"7\", \"8\"", "1234567890", "\"\""}) {
    INFO(bad);
    const auto e = error(api::parse_if_match(std::string(bad)));
    CHECK(e.status == 422);
    CHECK(e.code == "invalid_header");
    CHECK(mentions(e, "If-Match"));
  }
}

TEST_CASE("The status filter takes comma lists, with open meaning pending and firing",
          "[alert_parsing]") {
  using V = std::vector<EpisodeStatus>;
  CHECK(ok(api::parse_status_filter(std::nullopt)).empty());
  CHECK(ok(api::parse_status_filter("firing")) == V{EpisodeStatus::firing});
  CHECK(ok(api::parse_status_filter("open")) == V{EpisodeStatus::pending, EpisodeStatus::firing});
  CHECK(ok(api::parse_status_filter("open,firing,resolved")) ==
        V{EpisodeStatus::pending, EpisodeStatus::firing, EpisodeStatus::resolved});
  CHECK(ok(api::parse_status_filter("cancelled,resolved")) ==
        V{EpisodeStatus::cancelled, EpisodeStatus::resolved});
  for (const char* bad :
       {"", "closed", "open,", ",open", "open,,firing", "Firing", "open firing"}) {
    INFO(bad);
    CHECK(mentions(error(api::parse_status_filter(std::string(bad))), "status"));
  }
}

TEST_CASE("The acked, severity and sort parameters take only their documented values",
          "[alert_parsing]") {
  CHECK(!ok(api::parse_acked_filter(std::nullopt)).has_value());
  CHECK(ok(api::parse_acked_filter("true")) == true);
  CHECK(ok(api::parse_acked_filter("false")) == false);
  CHECK(mentions(error(api::parse_acked_filter("1")), "acked"));
  CHECK(mentions(error(api::parse_acked_filter("")), "acked"));

  CHECK(ok(api::parse_severity_filter("critical,info")) ==
        std::vector<Severity>{Severity::critical, Severity::info});
  CHECK(ok(api::parse_severity_filter(std::nullopt)).empty());
  CHECK(mentions(error(api::parse_severity_filter("high")), "severity"));
  CHECK(mentions(error(api::parse_severity_filter("info,")), "severity"));

  CHECK(ok(api::parse_alert_sort(std::nullopt)) == api::AlertSort::created);
  CHECK(ok(api::parse_alert_sort("created")) == api::AlertSort::created);
  CHECK(ok(api::parse_alert_sort("severity")) == api::AlertSort::severity);
  CHECK(mentions(error(api::parse_alert_sort("newest")), "sort"));

  CHECK(api::severity_rank(Severity::critical) < api::severity_rank(Severity::warning));
  CHECK(api::severity_rank(Severity::warning) < api::severity_rank(Severity::info));
}

TEST_CASE("A severity cursor round-trips and is refused where a created cursor is expected",
          "[alert_parsing]") {
  const api::SeverityCursor c{1,
                              true,
                              {ste::TimePoint{std::chrono::microseconds{1700000000123456}},
                               "3f1c2d4e-0000-4000-8000-000000000000"}};
  const std::string text = api::encode_severity_cursor(c);
  const auto back = ok(api::decode_severity_cursor(text));
  CHECK(back.rank == 1);
  CHECK(back.acked);
  CHECK(back.at.created_at == c.at.created_at);
  CHECK(back.at.id == c.at.id);
  CHECK(error(api::decode_cursor(text)).message == "cursor is invalid");
  CHECK(error(api::decode_severity_cursor(api::encode_cursor(c.at))).message ==
        "cursor is invalid");
  CHECK(error(api::decode_severity_cursor("garbage")).status == 422);
  CHECK(error(api::decode_severity_cursor("")).status == 422);
}
