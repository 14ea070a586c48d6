#include "ingester/reading_parser.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <new>
#include <string>
#include <utility>

#include "common/json_grammar.hpp"
#include "common/time_format.hpp"
#include "ingester/reading_check.hpp"

namespace ste::ingest {

namespace {

namespace od = simdjson::ondemand;
using simdjson::error_code;
using simdjson::SUCCESS;

// simdjson's ondemand front end does not enforce a nesting limit (only its DOM parser does; in
// debug builds ondemand asserts on it), and validating a skipped value recurses. Cap the depth
// just under simdjson's default so a 64 KiB `[[[[...` cannot exhaust the stack; deeper documents
// are invalid_json, as they are for simdjson's DOM parser.
constexpr int kMaxDepth = static_cast<int>(simdjson::DEFAULT_MAX_DEPTH) - 2;

// std::chrono::system_clock counts nanoseconds in an int64: about ±292 years around 1970. Epoch
// milliseconds and RFC 3339 years outside this range cannot be converted without overflow, and
// are far outside any accepted window anyway, so they are classified before conversion.
constexpr std::int64_t kMaxRepresentableMs = 9'000'000'000'000;  // ~2255-03-14
constexpr int kMinSafeYear = 1678;
constexpr int kMaxSafeYear = 2261;

bool is_json_ws(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

std::string_view trim_right(std::string_view s) {
  while (!s.empty() && is_json_ws(s.back())) s.remove_suffix(1);
  return s;
}

std::string clip_payload(std::string_view s) {
  return std::string(s.substr(0, kRejectedPayloadMax));
}

/// The text of a string without escapes (nearly all of them) as a view into the input: simdjson's
/// unescaping is an out-of-line call per string and was the largest cost of a reading. Returns
/// false when the string has a backslash and needs unescaping. `quoted` starts at the opening
/// quote; stage 1 has already checked that the string is closed and is valid UTF-8.
bool unescaped_in_place(const char* quoted, std::string_view& out) {
  const char* const begin = quoted + 1;
  const char* p = begin;
  while (*p != '"' && *p != '\\') ++p;
  if (*p == '\\') return false;
  out = std::string_view(begin, static_cast<std::size_t>(p - begin));
  return true;
}

/// A string value's text. A string read in place is left unconsumed; the enclosing iterator
/// skips the token by itself.
error_code get_string(od::value& v, std::string_view& out) {
  // The token runs from the opening quote to the next structural, so the closing quote is its
  // last non-whitespace byte and only the content needs a (vectorised) search for a backslash.
  const std::string_view token = trim_right(v.raw_json_token());
  if (token.size() >= 2) {
    const std::string_view content = token.substr(1, token.size() - 2);
    if (content.find('\\') == std::string_view::npos) {
      out = content;
      return SUCCESS;
    }
  }
  return v.get_string().get(out);
}

/// A field's key, unescaped only when it has escapes.
error_code get_key(od::field& field, std::string_view& out) {
  // raw() points just after the opening quote.
  if (unescaped_in_place(field.key().raw() - 1, out)) return SUCCESS;
  return field.unescaped_key().get(out);
}

/// Consumes `v` completely, checking that it is well-formed JSON; its content is not used.
/// Returns an error only for malformed JSON (or nesting beyond kMaxDepth).
error_code skip_validated(od::value v, int depth) {
  if (depth > kMaxDepth) return simdjson::DEPTH_ERROR;
  od::json_type type;
  if (auto e = v.type().get(type)) return e;
  switch (type) {
    case od::json_type::object: {
      od::object obj;
      if (auto e = v.get_object().get(obj)) return e;
      for (auto f : obj) {
        od::field field;
        if (auto e = std::move(f).get(field)) return e;
        std::string_view key;
        if (auto e = get_key(field, key)) return e;
        if (auto e = skip_validated(field.value(), depth + 1)) return e;
      }
      return SUCCESS;
    }
    case od::json_type::array: {
      od::array arr;
      if (auto e = v.get_array().get(arr)) return e;
      for (auto elem : arr) {
        od::value child;
        if (auto e = std::move(elem).get(child)) return e;
        if (auto e = skip_validated(child, depth + 1)) return e;
      }
      return SUCCESS;
    }
    case od::json_type::string: {
      std::string_view s;
      return get_string(v, s);
    }
    case od::json_type::number:
      // Left unconsumed: the enclosing iterator skips a scalar token by itself.
      return is_json_number(trim_right(v.raw_json_token())) ? SUCCESS : simdjson::NUMBER_ERROR;
    case od::json_type::boolean: {
      bool b;
      return v.get_bool().get(b);
    }
    case od::json_type::null: {
      bool is_null;
      if (auto e = v.is_null().get(is_null)) return e;
      return is_null ? SUCCESS : simdjson::N_ATOM_ERROR;
    }
  }
  return simdjson::TAPE_ERROR;
}

/// Reads a field's value as a string if it is one; anything else is consumed, validated and
/// reported as `Slot::bad` (or `Slot::null` when `null_allowed`).
error_code read_string(od::value v, int depth, bool null_allowed, Slot& slot,
                       std::string_view& out) {
  od::json_type type;
  if (auto e = v.type().get(type)) return e;
  if (type == od::json_type::string) {
    if (auto e = get_string(v, out)) return e;
    slot = Slot::ok;
    return SUCCESS;
  }
  slot = (type == od::json_type::null && null_allowed) ? Slot::null : Slot::bad;
  return skip_validated(v, depth);
}

error_code read_value(od::value v, int depth, RawFields& raw) {
  od::json_type type;
  if (auto e = v.type().get(type)) return e;
  if (type != od::json_type::number) {
    raw.value = Slot::bad;
    return skip_validated(v, depth);
  }
  double d;
  if (v.get_double().get(d) == SUCCESS) {
    raw.value = std::isfinite(d) ? Slot::ok : Slot::bad;
    raw.value_num = d;
    return SUCCESS;
  }
  // simdjson refuses numbers that overflow a double; they are still valid JSON.
  if (!is_json_number(trim_right(v.raw_json_token()))) return simdjson::NUMBER_ERROR;
  raw.value = Slot::bad;
  return SUCCESS;
}

/// RFC 3339 text to a time point. Years outside what system_clock can hold are valid RFC 3339
/// but would overflow inside parse_rfc3339, so they are checked with a stand-in year of the same
/// leap-ness and then classified as far past / far future.
Slot parse_ts_text(std::string_view s, RawFields& raw) {
  if (s.size() >= 4 && is_ascii_digit(s[0]) && is_ascii_digit(s[1]) && is_ascii_digit(s[2]) &&
      is_ascii_digit(s[3])) {
    const int year = (s[0] - '0') * 1000 + (s[1] - '0') * 100 + (s[2] - '0') * 10 + (s[3] - '0');
    if (year < kMinSafeYear || year > kMaxSafeYear) {
      const bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
      char copy[64];
      if (s.size() > sizeof copy) return Slot::bad;
      std::memcpy(copy, s.data(), s.size());
      std::memcpy(copy, leap ? "2000" : "2001", 4);
      if (!parse_rfc3339(std::string_view(copy, s.size()))) return Slot::bad;
      raw.ts_range = year < kMinSafeYear ? TsRange::far_past : TsRange::far_future;
      return Slot::ok;
    }
  }
  const auto t = parse_rfc3339(s);
  if (!t) return Slot::bad;
  raw.ts_point = *t;
  return Slot::ok;
}

error_code read_ts(od::value v, int depth, RawFields& raw) {
  od::json_type type;
  if (auto e = v.type().get(type)) return e;
  switch (type) {
    case od::json_type::null: {
      bool is_null;
      if (auto e = v.is_null().get(is_null)) return e;
      if (!is_null) return simdjson::N_ATOM_ERROR;
      raw.ts = Slot::null;
      return SUCCESS;
    }
    case od::json_type::string: {
      std::string_view s;
      if (auto e = get_string(v, s)) return e;
      raw.ts = parse_ts_text(s, raw);
      return SUCCESS;
    }
    case od::json_type::number: {
      const std::string_view token = trim_right(v.raw_json_token());
      if (!is_json_number(token)) return simdjson::NUMBER_ERROR;
      // Only a JSON integer is epoch milliseconds; 1.7e12 or 1700000000000.0 is not.
      if (token.find_first_of(".eE") != std::string_view::npos) {
        raw.ts = Slot::bad;
        return SUCCESS;
      }
      std::int64_t ms;
      if (v.get_int64().get(ms) != SUCCESS) {  // a valid integer beyond int64
        raw.ts = Slot::bad;
        return SUCCESS;
      }
      raw.ts = Slot::ok;
      if (ms > kMaxRepresentableMs) {
        raw.ts_range = TsRange::far_future;
      } else if (ms < -kMaxRepresentableMs) {
        raw.ts_range = TsRange::far_past;
      } else {
        raw.ts_point = from_epoch_ms(ms);
      }
      return SUCCESS;
    }
    default:
      raw.ts = Slot::bad;
      return skip_validated(v, depth);
  }
}

/// Walks every field of a reading object (validating the JSON of all of them, used or not) and
/// records the known ones. Duplicate keys: the first occurrence wins, later ones are validated
/// and ignored, so a reading cannot be changed by appending a second "value". Unknown fields are
/// ignored for forward compatibility.
error_code read_fields(od::object& obj, int depth, const MessageContext& ctx, RawFields& raw) {
  for (auto f : obj) {
    od::field field;
    if (auto e = std::move(f).get(field)) return e;
    std::string_view key;
    if (auto e = get_key(field, key)) return e;
    od::value v = field.value();
    error_code e;
    if (key == "metric" && raw.metric == Slot::absent) {
      e = read_string(v, depth + 1, false, raw.metric, raw.metric_text);
    } else if (key == "value" && raw.value == Slot::absent) {
      e = read_value(v, depth + 1, raw);
    } else if (key == "ts" && raw.ts == Slot::absent) {
      e = read_ts(v, depth + 1, raw);
    } else if (key == "unit" && raw.unit == Slot::absent) {
      e = read_string(v, depth + 1, true, raw.unit, raw.unit_text);
    } else if (key == "device" && raw.device == Slot::absent) {
      std::string_view device;
      e = read_string(v, depth + 1, false, raw.device, device);
      if (!e && raw.device == Slot::ok && device != ctx.device) raw.device = Slot::bad;
    } else {
      e = skip_validated(v, depth + 1);
    }
    if (e) return e;
  }
  return SUCCESS;
}

void reject_whole(ParsedMessage& out, RejectReason reason, std::string_view payload,
                  std::string detail) {
  out.readings.clear();
  out.rejections.clear();
  out.rejections.push_back(
      Rejection{reason, std::nullopt, clip_payload(payload), std::move(detail)});
}

constexpr const char* kNotJson = "payload is not valid JSON";

}  // namespace

ReadingParser::ReadingParser(ParseLimits limits)
    : limits_(limits), buffer_(limits.max_payload_bytes) {
  // Size the parser once for the largest accepted message so parse() never reallocates.
  if (parser_.allocate(limits_.max_payload_bytes) != SUCCESS) throw std::bad_alloc();
}

ParsedMessage ReadingParser::parse(std::string_view payload, const MessageContext& ctx) {
  ParsedMessage out;
  if (payload.size() > limits_.max_payload_bytes) {
    reject_whole(out, RejectReason::too_large, payload,
                 fmt::format("payload is {} bytes (at most {} allowed)", payload.size(),
                             limits_.max_payload_bytes));
    return out;
  }

  // NATS payloads are not padded: copy into the reused buffer and clear the padding, which may
  // hold bytes of an earlier, longer message.
  char* const buf = buffer_.data();
  if (!payload.empty()) std::memcpy(buf, payload.data(), payload.size());
  std::memset(buf + payload.size(), 0, simdjson::SIMDJSON_PADDING);

  od::document doc;
  if (parser_.iterate(buf, payload.size(), buffer_.size() + simdjson::SIMDJSON_PADDING).get(doc)) {
    reject_whole(out, RejectReason::invalid_json, payload, kNotJson);
    return out;
  }
  od::json_type type;
  if (doc.type().get(type)) {
    reject_whole(out, RejectReason::invalid_json, payload, kNotJson);
    return out;
  }

  // ondemand only looks at what it is asked for: every path below consumes the whole value, and
  // this confirms nothing follows it.
  auto nothing_after = [&doc] { return doc.current_location().error() == simdjson::OUT_OF_BOUNDS; };

  if (type == od::json_type::object) {
    od::object obj;
    RawFields raw;
    if (doc.get_object().get(obj) || read_fields(obj, 1, ctx, raw) || !nothing_after()) {
      reject_whole(out, RejectReason::invalid_json, payload, kNotJson);
      return out;
    }
    Reading reading;
    if (auto verdict = check_reading(raw, ctx, limits_, reading)) {
      out.rejections.push_back(Rejection{verdict->reason, std::nullopt, clip_payload(payload),
                                         std::move(verdict->detail)});
    } else {
      out.readings.push_back(std::move(reading));
    }
    return out;
  }

  if (type != od::json_type::array) {
    reject_whole(out, RejectReason::invalid_json, payload,
                 "payload must be a JSON object or an array of objects");
    return out;
  }

  od::array arr;
  if (doc.get_array().get(arr)) {
    reject_whole(out, RejectReason::invalid_json, payload, kNotJson);
    return out;
  }
  // One allocation for the common case: an accepted reading takes at least 24 bytes of JSON.
  out.readings.reserve(std::min(limits_.max_readings, payload.size() / 24 + 1));
  const char* const payload_end = buf + payload.size();
  // The element's own text runs from its first byte to the next structural (',' or ']').
  auto element_text = [&doc, payload_end](const char* start) {
    const char* end = payload_end;
    if (auto loc = doc.current_location(); loc.error() == SUCCESS) end = loc.value_unsafe();
    return trim_right(std::string_view(start, static_cast<std::size_t>(end - start)));
  };

  // A syntax error anywhere rejects the whole message, even after valid elements: readings from
  // a broken document are not trusted.
  std::size_t index = 0;
  for (auto elem : arr) {
    od::value v;
    if (std::move(elem).get(v)) {
      reject_whole(out, RejectReason::invalid_json, payload, kNotJson);
      return out;
    }
    if (index == limits_.max_readings) {
      reject_whole(out, RejectReason::too_many_readings, payload,
                   fmt::format("array has more than {} readings", limits_.max_readings));
      return out;
    }
    const char* const start = v.raw_json_token().data();
    if (v.type().get(type)) {
      reject_whole(out, RejectReason::invalid_json, payload, kNotJson);
      return out;
    }
    if (type == od::json_type::object) {
      od::object obj;
      RawFields raw;
      if (v.get_object().get(obj) || read_fields(obj, 2, ctx, raw)) {
        reject_whole(out, RejectReason::invalid_json, payload, kNotJson);
        return out;
      }
      Reading reading;
      if (auto verdict = check_reading(raw, ctx, limits_, reading)) {
        out.rejections.push_back(Rejection{
            verdict->reason, index, clip_payload(element_text(start)), std::move(verdict->detail)});
      } else {
        out.readings.push_back(std::move(reading));
      }
    } else {
      if (skip_validated(v, 2)) {
        reject_whole(out, RejectReason::invalid_json, payload, kNotJson);
        return out;
      }
      // Scalars are left unconsumed by skip_validated, so their text is their token.
      const std::string_view text =
          type == od::json_type::array ? element_text(start) : trim_right(v.raw_json_token());
      out.rejections.push_back(Rejection{RejectReason::invalid_json, index, clip_payload(text),
                                         "array element must be a JSON object"});
    }
    ++index;
  }
  if (!nothing_after()) {
    reject_whole(out, RejectReason::invalid_json, payload, kNotJson);
    return out;
  }
  return out;
}

}  // namespace ste::ingest
