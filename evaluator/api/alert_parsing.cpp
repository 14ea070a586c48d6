#include "evaluator/api/alert_parsing.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>

#include "evaluator/alerts/alert.hpp"
#include "evaluator/api/json_body.hpp"

namespace ste::api {

using namespace json_body;

namespace {

const std::array<FieldSpec, 1> kOptionalCommentFields = {{
    {"comment", false,
     fmt::format("comment must be null or a string of at most {} characters, none of them "
                 "control characters",
                 kMaxCommentChars)},
}};

const std::array<FieldSpec, 1> kCommentFields = {{
    {"text", true,
     fmt::format("text must be a string of 1-{} characters, none of them control characters",
                 kMaxCommentChars)},
}};

bool blank(std::string_view s) {
  return std::all_of(s.begin(), s.end(),
                     [](char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; });
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

/// Splits a comma list and maps each item with `one` (nullopt = not allowed); an empty item
/// ("a,,b", a trailing comma) is not allowed either. Duplicates are dropped.
template <class T, class One>
std::optional<std::vector<T>> comma_list(std::string_view list, One one) {
  std::vector<T> out;
  while (true) {
    const std::size_t comma = list.find(',');
    const auto item = one(list.substr(0, comma));
    if (!item) return std::nullopt;
    for (const T& v : *item) {
      if (std::find(out.begin(), out.end(), v) == out.end()) out.push_back(v);
    }
    if (comma == std::string_view::npos) return out;
    list.remove_prefix(comma + 1);
  }
}

}  // namespace

Parsed<std::optional<std::string>> parse_optional_comment_body(std::string_view body) {
  // Read into a plain string (null = empty): GCC 12 at -O2 warns falsely on the optional here.
  std::string text;
  if (blank(body)) return std::optional<std::string>{};
  auto err = read_object(body, kOptionalCommentFields, [&text](std::size_t, od::value& v) {
    std::optional<std::string> read;
    const Got got = read_nullable_string(v, read);
    text = read.value_or(std::string());
    return check(got, text.empty() || text_of(text, kMaxCommentChars));
  });
  if (err) return std::move(*err);
  if (text.empty()) return std::optional<std::string>{};
  return std::optional<std::string>{std::move(text)};
}

Parsed<std::string> parse_comment_body(std::string_view body) {
  std::string text;
  auto err = read_object(body, kCommentFields, [&text](std::size_t, od::value& v) {
    const Got got = read_string(v, text);
    return check(got, text_of(text, kMaxCommentChars));
  });
  if (err) return std::move(*err);
  return text;
}

Parsed<std::optional<int>> parse_if_match(const std::optional<std::string>& header) {
  if (!header) return std::optional<int>{};
  const ApiError error{422, "invalid_header",
                       "If-Match must be the alert's version as its ETag gives it, e.g. \"7\", "
                       "or *"};
  std::string_view v = trim(*header);
  if (v == "*") return std::optional<int>{};
  if (v.size() >= 2 && v.front() == '"' && v.back() == '"') v = v.substr(1, v.size() - 2);
  // Versions are positive int columns: nine digits cannot overflow.
  if (v.empty() || v.size() > 9) return error;
  int n = 0;
  for (const char c : v) {
    if (c < '0' || c > '9') return error;
    n = n * 10 + (c - '0');
  }
  return std::optional<int>{n};
}

std::string alert_etag(int version) { return fmt::format("\"{}\"", version); }

Parsed<std::vector<eval::EpisodeStatus>> parse_status_filter(const std::optional<std::string>& v) {
  using eval::EpisodeStatus;
  if (!v) return std::vector<EpisodeStatus>{};
  auto list = comma_list<EpisodeStatus>(
      *v, [](std::string_view item) -> std::optional<std::vector<EpisodeStatus>> {
        if (item == "open") return std::vector{EpisodeStatus::pending, EpisodeStatus::firing};
        if (auto s = eval::parse_episode_status(item)) return std::vector{*s};
        return std::nullopt;
      });
  if (!list) {
    return invalid_field(
        "status must be a comma-separated list of pending, firing, resolved, cancelled, open");
  }
  return std::move(*list);
}

Parsed<std::optional<bool>> parse_acked_filter(const std::optional<std::string>& v) {
  if (!v) return std::optional<bool>{};
  if (*v == "true") return std::optional<bool>{true};
  if (*v == "false") return std::optional<bool>{false};
  return invalid_field("acked must be true or false");
}

Parsed<std::vector<eval::Severity>> parse_severity_filter(const std::optional<std::string>& v) {
  if (!v) return std::vector<eval::Severity>{};
  auto list = comma_list<eval::Severity>(
      *v, [](std::string_view item) -> std::optional<std::vector<eval::Severity>> {
        if (auto s = eval::parse_severity(item)) return std::vector{*s};
        return std::nullopt;
      });
  if (!list)
    return invalid_field("severity must be a comma-separated list of info, warning, critical");
  return std::move(*list);
}

Parsed<AlertSort> parse_alert_sort(const std::optional<std::string>& v) {
  if (!v || *v == "created") return AlertSort::created;
  if (*v == "severity") return AlertSort::severity;
  return invalid_field("sort must be created or severity");
}

int severity_rank(eval::Severity s) {
  switch (s) {
    case eval::Severity::critical:
      return 0;
    case eval::Severity::warning:
      return 1;
    case eval::Severity::info:
      return 2;
  }
  return 1;
}

}  // namespace ste::api
