#include "evaluator/api/silence_parsing.hpp"

#include <fmt/format.h>

#include <array>

#include "common/time_format.hpp"
#include "evaluator/api/json_body.hpp"

namespace ste::api {

using namespace json_body;

namespace {

const std::string kMatchersRule = fmt::format(
    "matchers must be an array of 1-{} objects {{\"field\": \"device|metric|rule_id|severity\", "
    "\"op\": \"=|!=|=~|!~\", \"value\": \"...\"}}",
    kMaxMatchers);

const std::array<FieldSpec, 4> kSilenceFields = {{
    {"matchers", true, kMatchersRule},
    {"starts_at", false, "starts_at must be an RFC 3339 time"},
    {"ends_at", true, "ends_at must be an RFC 3339 time"},
    {"comment", true,
     fmt::format("comment must be a string of 1-{} characters, without control characters other "
                 "than line breaks and tabs",
                 kMaxSilenceComment)},
}};

const std::array<FieldSpec, 1> kPreviewFields = {{{"matchers", true, kMatchersRule}}};

bool one_of(std::string_view s, std::initializer_list<std::string_view> options) {
  for (auto o : options) {
    if (s == o) return true;
  }
  return false;
}

/// 1..max code points; line breaks and tabs are fine in a comment, other control characters not.
bool comment_text(std::string_view s) {
  std::string flat(s);
  for (char& c : flat) {
    if (c == '\n' || c == '\r' || c == '\t') c = ' ';
  }
  return text_of(flat, kMaxSilenceComment);
}

/// Reads one matcher object; on a broken rule sets `error` (naming matchers[index].<field>).
Got read_matcher(od::value& v, std::size_t index, Matcher& m, std::optional<ApiError>& error) {
  od::json_type type;
  if (v.type().get(type) != SUCCESS) return Got::broken;
  if (type != od::json_type::object) {
    error = invalid_field(fmt::format("matchers[{}] must be an object: {}", index, kMatchersRule));
    return skip_value(v) == Got::broken ? Got::broken : Got::ok;
  }
  od::object obj;
  if (v.get_object().get(obj) != SUCCESS) return Got::broken;
  bool has_field = false, has_op = false, has_value = false;
  for (auto f : obj) {
    od::field field;
    std::string_view key;
    if (std::move(f).get(field) != SUCCESS || field.unescaped_key().get(key) != SUCCESS) {
      return Got::broken;
    }
    od::value value = field.value();
    std::string text;
    const Got got = read_string(value, text);
    if (got == Got::broken) return Got::broken;
    if (error) continue;
    const std::string where = fmt::format("matchers[{}].{}", index, key);
    if (key == "field") {
      has_field = true;
      m.field = text;
      if (got != Got::ok || !one_of(text, {"device", "metric", "rule_id", "severity"})) {
        error = invalid_field(where + " must be one of device, metric, rule_id, severity");
      }
    } else if (key == "op") {
      has_op = true;
      m.op = text;
      if (got != Got::ok || !one_of(text, {"=", "!=", "=~", "!~"})) {
        error = invalid_field(where + " must be one of =, !=, =~, !~");
      }
    } else if (key == "value") {
      has_value = true;
      m.value = text;
      if (got != Got::ok || !text_of(text, kMaxMatcherValue)) {
        error = invalid_field(
            fmt::format("{} must be a string of 1-{} characters, none of them control characters",
                        where, kMaxMatcherValue));
      }
    } else {
      error = invalid_field(fmt::format("unknown field '{}' in matchers[{}]", key, index));
    }
  }
  if (!error && !(has_field && has_op && has_value)) {
    error = invalid_field(fmt::format("matchers[{}] needs field, op and value", index));
  }
  return Got::ok;
}

/// The matchers array: 1..kMaxMatchers valid matchers (`error` names the first bad one).
Got read_matchers(od::value& v, std::vector<Matcher>& out, std::optional<ApiError>& error) {
  od::json_type type;
  if (v.type().get(type) != SUCCESS) return Got::broken;
  if (type != od::json_type::array) return wrong_type(v);
  od::array arr;
  if (v.get_array().get(arr) != SUCCESS) return Got::broken;
  std::size_t index = 0;
  for (auto e : arr) {
    od::value elem;
    if (std::move(e).get(elem) != SUCCESS) return Got::broken;
    Matcher m;
    if (read_matcher(elem, index, m, error) == Got::broken) return Got::broken;
    if (!error) out.push_back(std::move(m));
    ++index;
  }
  if (index == 0 || index > kMaxMatchers) return Got::invalid;
  return Got::ok;
}

Got read_time(od::value& v, TimePoint& out) {
  std::string s;
  const Got got = read_string(v, s);
  if (got != Got::ok) return got;
  const auto t = parse_rfc3339(s);
  if (!t) return Got::invalid;
  out = *t;
  return Got::ok;
}

}  // namespace

Parsed<SilenceInput> parse_silence_body(std::string_view body, TimePoint now) {
  SilenceInput in;
  in.starts_at = now;
  std::optional<ApiError> matcher_error;
  auto err = read_object(body, kSilenceFields, [&](std::size_t i, od::value& v) {
    switch (i) {
      case 0:
        return read_matchers(v, in.matchers, matcher_error);
      case 1:
        return read_time(v, in.starts_at);
      case 2:
        return read_time(v, in.ends_at);
      case 3: {
        const Got got = read_string(v, in.comment);
        return check(got, comment_text(in.comment));
      }
      default:
        return Got::broken;  // unreachable: read_object passes indexes of kSilenceFields
    }
  });
  if (err && err->status == 400) return std::move(*err);
  if (matcher_error) return std::move(*matcher_error);
  if (err) return std::move(*err);
  if (in.ends_at <= in.starts_at) {
    return invalid_field(fmt::format("ends_at ({}) must be after starts_at ({})",
                                     format_rfc3339_ms(in.ends_at),
                                     format_rfc3339_ms(in.starts_at)));
  }
  if (in.ends_at <= now) {
    return invalid_field(
        fmt::format("ends_at ({}) must be in the future: a silence that has "
                    "already ended would mute nothing",
                    format_rfc3339_ms(in.ends_at)));
  }
  return in;
}

Parsed<std::vector<Matcher>> parse_preview_body(std::string_view body) {
  std::vector<Matcher> matchers;
  std::optional<ApiError> matcher_error;
  auto err = read_object(body, kPreviewFields, [&](std::size_t, od::value& v) {
    return read_matchers(v, matchers, matcher_error);
  });
  if (err && err->status == 400) return std::move(*err);
  if (matcher_error) return std::move(*matcher_error);
  if (err) return std::move(*err);
  return matchers;
}

}  // namespace ste::api
