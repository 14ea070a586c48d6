#pragma once
/// Reading an API request body: one JSON object, parsed with simdjson ondemand, whose fields are
/// checked one by one (docs/DESIGN.md §7). Malformed JSON anywhere in the document answers 400
/// and outranks every field error; an unknown or duplicate field, or a value that breaks its
/// field's rule, answers 422 naming the field. The body parsers (request_parsing.cpp) are built
/// from read_object() and the typed readers here.
#include <fmt/format.h>
#include <simdjson.h>

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "evaluator/api/api_error.hpp"

namespace ste::api::json_body {

namespace od = simdjson::ondemand;
using simdjson::SUCCESS;

inline constexpr std::string_view kNotJson = "request body is not valid JSON";
inline constexpr std::string_view kNotObject = "request body must be a JSON object";

/// A value was read and obeys the field's rule; it is well-formed JSON but breaks the rule; or
/// the document itself is broken (which outranks every field error: the answer is then 400).
enum class Got { ok, invalid, broken };

/// Reads and thereby validates a whole value of any type, so a field rejected without being
/// read (unknown, duplicate, wrong type, after an earlier error) cannot hide malformed JSON.
Got skip_value(od::value& v);
/// A value of the wrong type: invalid for the field, unless it is not even valid JSON.
Got wrong_type(od::value& v);
Got read_string(od::value& v, std::string& out);
/// A string, or null (out = nullopt).
Got read_nullable_string(od::value& v, std::optional<std::string>& out);
/// A finite number.
Got read_double(od::value& v, double& out);
/// A finite number, or null (out = nullopt).
Got read_nullable_double(od::value& v, std::optional<double>& out);
/// An integer written as one (5.0 and 5e0 are not) that fits in [lo, hi].
Got read_int(od::value& v, int lo, int hi, int& out);
Got read_bool(od::value& v, bool& out);
/// `got` if the value could not be read, else ok or invalid by the field's rule.
inline Got check(Got got, bool valid) { return got == Got::ok && !valid ? Got::invalid : got; }
/// 1..max_chars code points and no control character: a NUL would be cut off silently by
/// PostgreSQL's text parameters, and CR/LF would forge lines wherever the text is shown.
bool text_of(std::string_view s, std::size_t max_chars);

inline ApiError unknown_field(std::string_view key) {
  return {422, "unknown_field", fmt::format("unknown field '{}'", key)};
}

/// One accepted body field: its name, whether it is required, and the message for a value
/// that breaks its rule.
struct FieldSpec {
  std::string_view name;
  bool required;
  std::string invalid;
};

/// Parses `body` as one JSON object whose keys are all in `specs`, each at most once, handing
/// every value to `read(index, value)`. The whole document is always validated, so a 400 for
/// malformed JSON outranks any field error; otherwise the first field error in document order,
/// then the first missing required field in `specs` order.
template <std::size_t N, class Read>
std::optional<ApiError> read_object(std::string_view body, const std::array<FieldSpec, N>& specs,
                                    Read read) {
  static_assert(N <= 32, "fields are tracked in a 32-bit mask");
  const simdjson::padded_string padded(body);
  if (padded.data() == nullptr) return ApiError{500, "internal_error", "out of memory"};
  od::parser parser;
  od::document doc;
  if (parser.iterate(padded).get(doc) != SUCCESS) return malformed_json(std::string(kNotJson));
  od::json_type type;
  if (doc.type().get(type) != SUCCESS) return malformed_json(std::string(kNotJson));
  if (type != od::json_type::object) return malformed_json(std::string(kNotObject));
  od::object obj;
  if (doc.get_object().get(obj) != SUCCESS) return malformed_json(std::string(kNotJson));

  std::optional<ApiError> first;
  std::uint32_t seen = 0;
  for (auto f : obj) {
    od::field field;
    std::string_view key;
    if (std::move(f).get(field) != SUCCESS || field.unescaped_key().get(key) != SUCCESS) {
      return malformed_json(std::string(kNotJson));
    }
    od::value value = field.value();
    std::size_t i = 0;
    while (i < N && specs[i].name != key) ++i;
    Got got = Got::ok;
    if (first) {
      got = skip_value(value);
    } else if (i == N) {
      first = unknown_field(key);
      got = skip_value(value);
    } else if (seen & (1u << i)) {
      first = invalid_field(fmt::format("duplicate field '{}'", key));
      got = skip_value(value);
    } else {
      seen |= 1u << i;
      got = read(i, value);
      if (got == Got::invalid) first = invalid_field(specs[i].invalid);
    }
    if (got == Got::broken) return malformed_json(std::string(kNotJson));
  }
  // Ondemand stops after the object: anything but whitespace after it is an error.
  if (doc.current_location().error() != simdjson::OUT_OF_BOUNDS) {
    return malformed_json(std::string(kNotJson));
  }
  if (first) return first;
  for (std::size_t i = 0; i < N; ++i) {
    if (specs[i].required && !(seen & (1u << i))) {
      return invalid_field(fmt::format("{} is required", specs[i].name));
    }
  }
  return std::nullopt;
}

}  // namespace ste::api::json_body
