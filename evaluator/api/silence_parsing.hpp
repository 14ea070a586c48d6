#pragma once
/// Parsing and validation of silence bodies (docs/ALERTING.md §3), pure: values in, a typed
/// result or an ApiError out, like request_parsing.hpp (unknown fields 422, each field checked
/// with a message naming it, malformed JSON 400). Whether a regex compiles is PostgreSQL's to
/// say (it matches them): the API asks it before storing.
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/clock.hpp"
#include "evaluator/api/api_error.hpp"

namespace ste::api {

inline constexpr std::size_t kMaxMatchers = 16;
inline constexpr std::size_t kMaxMatcherValue = 256;  ///< characters, regexes included
inline constexpr std::size_t kMaxSilenceComment = 1000;

/// One matcher: `field` device | metric | rule_id | severity, `op` = | != | =~ | !~ (regexes
/// are anchored at both ends), `value` 1..kMaxMatcherValue characters without control
/// characters.
struct Matcher {
  std::string field;
  std::string op;
  std::string value;
  bool is_regex() const { return op == "=~" || op == "!~"; }
  bool operator==(const Matcher&) const = default;
};

/// POST /api/silences: matchers (1..kMaxMatchers, required), starts_at (RFC 3339, default now),
/// ends_at (RFC 3339, required, after starts_at and after now), comment (1..1000 characters,
/// required; line breaks and tabs allowed, other control characters not).
struct SilenceInput {
  std::vector<Matcher> matchers;
  TimePoint starts_at{};
  TimePoint ends_at{};
  std::string comment;
};
Parsed<SilenceInput> parse_silence_body(std::string_view body, TimePoint now);

/// POST /api/silences/preview: `{"matchers": [...]}` as for a silence.
Parsed<std::vector<Matcher>> parse_preview_body(std::string_view body);

}  // namespace ste::api
