#include "evaluator/api/json_body.hpp"

#include <cmath>
#include <utility>

#include "common/json_grammar.hpp"

namespace ste::api::json_body {

namespace {

/// Ondemand only checks what it is asked to read, and raw_json_token() runs up to the next
/// structural character, so scalar tokens are trimmed and checked here.
std::string_view trimmed_token(od::value& v) {
  std::string_view t = v.raw_json_token();
  while (!t.empty() &&
         (t.back() == ' ' || t.back() == '\t' || t.back() == '\n' || t.back() == '\r')) {
    t.remove_suffix(1);
  }
  return t;
}

}  // namespace

/// Reads and thereby validates a whole value of any type, so a field rejected without being
/// read (unknown, duplicate, wrong type, after an earlier error) cannot hide malformed JSON.
/// Recursion is bounded by the parser's maximum depth.
Got skip_value(od::value& v) {
  od::json_type type;
  if (v.type().get(type) != SUCCESS) return Got::broken;
  switch (type) {
    case od::json_type::object: {
      od::object obj;
      if (v.get_object().get(obj) != SUCCESS) return Got::broken;
      for (auto f : obj) {
        od::field field;
        std::string_view key;
        if (std::move(f).get(field) != SUCCESS || field.unescaped_key().get(key) != SUCCESS) {
          return Got::broken;
        }
        od::value member = field.value();
        if (skip_value(member) == Got::broken) return Got::broken;
      }
      return Got::ok;
    }
    case od::json_type::array: {
      od::array arr;
      if (v.get_array().get(arr) != SUCCESS) return Got::broken;
      for (auto e : arr) {
        od::value elem;
        if (std::move(e).get(elem) != SUCCESS || skip_value(elem) == Got::broken) {
          return Got::broken;
        }
      }
      return Got::ok;
    }
    case od::json_type::string: {
      std::string_view s;
      return v.get_string().get(s) == SUCCESS ? Got::ok : Got::broken;  // bad escapes
    }
    case od::json_type::number:
      return is_json_number(trimmed_token(v)) ? Got::ok : Got::broken;
    case od::json_type::boolean: {
      const std::string_view t = trimmed_token(v);
      return t == "true" || t == "false" ? Got::ok : Got::broken;
    }
    case od::json_type::null:
      return trimmed_token(v) == "null" ? Got::ok : Got::broken;
  }
  return Got::broken;
}

/// A value of the wrong type: invalid for the field, unless it is not even valid JSON.
Got wrong_type(od::value& v) { return skip_value(v) == Got::broken ? Got::broken : Got::invalid; }

Got read_string(od::value& v, std::string& out) {
  od::json_type type;
  if (v.type().get(type) != SUCCESS) return Got::broken;
  if (type != od::json_type::string) return wrong_type(v);
  std::string_view s;
  if (v.get_string().get(s) != SUCCESS) return Got::broken;
  out.assign(s);
  return Got::ok;
}

namespace {
/// null (out = nullopt), or whatever `read` reads into out.emplace().
template <class T, class Read>
Got read_nullable(od::value& v, std::optional<T>& out, Read read) {
  od::json_type type;
  if (v.type().get(type) != SUCCESS) return Got::broken;
  if (type == od::json_type::null) {
    if (skip_value(v) == Got::broken) return Got::broken;
    out.reset();
    return Got::ok;
  }
  return read(v, out.emplace());
}
}  // namespace

/// A string, or null (out = nullopt).
Got read_nullable_string(od::value& v, std::optional<std::string>& out) {
  return read_nullable(v, out, [](od::value& x, std::string& o) { return read_string(x, o); });
}

Got read_double(od::value& v, double& out) {
  od::json_type type;
  if (v.type().get(type) != SUCCESS) return Got::broken;
  if (type != od::json_type::number) return wrong_type(v);
  if (!is_json_number(trimmed_token(v))) return Got::broken;
  // Valid JSON may still be beyond a double (1e400): the field's fault, not the document's.
  if (v.get_double().get(out) != SUCCESS || !std::isfinite(out)) return Got::invalid;
  return Got::ok;
}

Got read_nullable_double(od::value& v, std::optional<double>& out) {
  return read_nullable(v, out, [](od::value& x, double& o) { return read_double(x, o); });
}

/// An integer written as one (5.0 and 5e0 are not) that fits in [lo, hi].
Got read_int(od::value& v, int lo, int hi, int& out) {
  od::json_type type;
  if (v.type().get(type) != SUCCESS) return Got::broken;
  if (type != od::json_type::number) return wrong_type(v);
  const std::string_view token = trimmed_token(v);
  if (!is_json_number(token)) return Got::broken;
  if (token.find_first_of(".eE") != std::string_view::npos) return Got::invalid;
  std::int64_t i = 0;
  if (v.get_int64().get(i) != SUCCESS || i < lo || i > hi) return Got::invalid;  // or > 2^63
  out = static_cast<int>(i);
  return Got::ok;
}

Got read_bool(od::value& v, bool& out) {
  od::json_type type;
  if (v.type().get(type) != SUCCESS) return Got::broken;
  if (type != od::json_type::boolean) return wrong_type(v);
  const std::string_view t = trimmed_token(v);
  if (t != "true" && t != "false") return Got::broken;
  out = t == "true";
  return Got::ok;
}

namespace {
/// Unicode code points of valid UTF-8 (simdjson validated it): bytes that do not continue one.
std::size_t code_points(std::string_view s) {
  std::size_t n = 0;
  for (const char c : s) n += (static_cast<unsigned char>(c) & 0xC0) != 0x80;
  return n;
}
}  // namespace

/// 1..max_chars code points and no control character: a NUL would be cut off silently by
/// PostgreSQL's text parameters, and CR/LF would forge lines wherever the text is shown.
bool text_of(std::string_view s, std::size_t max_chars) {
  for (const char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (u < ' ' || u == 0x7F) return false;
  }
  const std::size_t n = code_points(s);
  return n >= 1 && n <= max_chars;
}

}  // namespace ste::api::json_body
