#include "evaluator/api/request_parsing.hpp"

#include <fmt/format.h>
#include <openssl/evp.h>
#include <simdjson.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <limits>
#include <utility>

#include "common/identifiers.hpp"
#include "common/time_format.hpp"

namespace ste::api {

namespace {

namespace od = simdjson::ondemand;
using simdjson::SUCCESS;

constexpr std::string_view kNotJson = "request body is not valid JSON";
constexpr std::string_view kNotObject = "request body must be a JSON object";

/// A value was read and obeys the field's rule; it is well-formed JSON but breaks the rule; or
/// the document itself is broken (which outranks every field error: the answer is then 400).
enum class Got { ok, invalid, broken };

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

bool is_digit(char c) { return c >= '0' && c <= '9'; }

/// RFC 8259 number grammar: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
bool is_json_number(std::string_view s) {
  std::size_t i = 0;
  const auto digits = [&] {
    const std::size_t start = i;
    while (i < s.size() && is_digit(s[i])) ++i;
    return i > start;
  };
  if (i < s.size() && s[i] == '-') ++i;
  if (i < s.size() && s[i] == '0') {
    ++i;
  } else if (!digits()) {
    return false;
  }
  if (i < s.size() && s[i] == '.') {
    ++i;
    if (!digits()) return false;
  }
  if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
    ++i;
    if (i < s.size() && (s[i] == '+' || s[i] == '-')) ++i;
    if (!digits()) return false;
  }
  return i == s.size();
}

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

/// A string, or null (out = nullopt).
Got read_nullable_string(od::value& v, std::optional<std::string>& out) {
  od::json_type type;
  if (v.type().get(type) != SUCCESS) return Got::broken;
  if (type == od::json_type::null) {
    if (skip_value(v) == Got::broken) return Got::broken;
    out.reset();
    return Got::ok;
  }
  return read_string(v, out.emplace());
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

/// `got` if the value could not be read, else ok or invalid by the field's rule.
Got check(Got got, bool valid) { return got == Got::ok && !valid ? Got::invalid : got; }

/// Unicode code points of valid UTF-8 (simdjson validated it): bytes that do not continue one.
std::size_t code_points(std::string_view s) {
  std::size_t n = 0;
  for (const char c : s) n += (static_cast<unsigned char>(c) & 0xC0) != 0x80;
  return n;
}

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

bool is_alnum(char c) { return is_digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }

/// Scheme and a non-empty host; printable ASCII only, because the URL is later used verbatim
/// in a request line, where spaces and control characters would corrupt or split it.
bool is_http_url(std::string_view s) {
  std::string_view rest;
  if (s.substr(0, 7) == "http://") {
    rest = s.substr(7);
  } else if (s.substr(0, 8) == "https://") {
    rest = s.substr(8);
  } else {
    return false;
  }
  if (s.size() > 2048 || rest.empty() || rest.front() == '/' || rest.front() == '?' ||
      rest.front() == '#') {
    return false;
  }
  for (const char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (u <= ' ' || u > '~') return false;
  }
  return true;
}

/// Credentials: 1-256 characters without control characters. The hub key travels as the
/// X-API-Key header value, where a CR or LF would inject headers.
bool is_credential(std::string_view s) { return text_of(s, 256); }

ApiError unknown_field(std::string_view key) {
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

// The identifier rules are quoted from common/identifiers.hpp, so a message cannot name another
// rule than the one applied.
const std::array<FieldSpec, 9> kRuleFields = {{
    {"name", true, "name must be a string of 1-200 characters, none of them control characters"},
    {"metric", true, fmt::format("metric must be {}", ident::kMetricNameRule)},
    {"device", false, fmt::format("device must be null or {}", ident::kDeviceKeyRule)},
    {"condition", true,
     "condition must be one of above_threshold, below_threshold, deviation_from_mean"},
    {"threshold", true, "threshold must be a finite number"},
    {"window_minutes", false, "window_minutes must be an integer 1..1440"},
    {"cooldown_minutes", false, "cooldown_minutes must be an integer 0..10080"},
    {"severity", false, "severity must be one of info, warning, critical"},
    {"enabled", false, "enabled must be a boolean"},
}};

const std::array<FieldSpec, 4> kIntegrationFields = {{
    {"notification_hub_url", false,
     "notification_hub_url must be null or an http:// or https:// URL of at most 2048 "
     "characters"},
    {"notification_hub_api_key", false,
     "notification_hub_api_key must be null or a string of 1-256 characters"},
    {"workflow_engine_url", false,
     "workflow_engine_url must be null or an http:// or https:// URL of at most 2048 "
     "characters"},
    {"workflow_engine_secret", false,
     "workflow_engine_secret must be null or a string of 1-256 characters"},
}};

const std::array<FieldSpec, 1> kDevicesFields = {{
    {"devices", true, "devices must be an array of 1-10000 device keys"},
}};

const std::array<FieldSpec, 2> kTenantFields = {{
    {"slug", true, fmt::format("slug must be {}", ident::kTenantSlugRule)},
    {"name", false, "name must be a string of 1-200 characters, none of them control characters"},
}};

// Cursors are short ("<16 digits>.<36-char uuid>" is 72 base64 characters); anything much
// longer is not ours, and is refused before decoding.
constexpr std::size_t kMaxCursor = 128;

ApiError invalid_cursor() { return invalid_field("cursor is invalid"); }

bool is_lower_hex(char c) { return is_digit(c) || (c >= 'a' && c <= 'f'); }

std::optional<std::string> base64url_decode(std::string_view in) {
  if (in.empty() || in.size() > kMaxCursor || in.size() % 4 == 1) return std::nullopt;
  std::string b64;
  b64.reserve(in.size() + 3);
  for (const char c : in) {
    if (is_alnum(c)) {
      b64.push_back(c);
    } else if (c == '-') {
      b64.push_back('+');
    } else if (c == '_') {
      b64.push_back('/');
    } else {
      return std::nullopt;  // including '+', '/', '=' and whitespace, which EVP would accept
    }
  }
  const std::size_t pad = (4 - b64.size() % 4) % 4;
  b64.append(pad, '=');
  std::string out(b64.size() / 4 * 3, '\0');
  const int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(b64.data()),
                                static_cast<int>(b64.size()));
  if (n < 0 || static_cast<std::size_t>(n) < pad) return std::nullopt;
  out.resize(static_cast<std::size_t>(n) - pad);  // EVP counts the padding's zero bytes
  return out;
}

}  // namespace

bool is_uuid(std::string_view s) {
  if (s.size() != 36) return false;
  for (std::size_t i = 0; i < s.size(); ++i) {
    const bool dash = i == 8 || i == 13 || i == 18 || i == 23;
    if (dash ? s[i] != '-' : !is_lower_hex(s[i])) return false;
  }
  return true;
}

Parsed<RuleInput> parse_rule_body(std::string_view body) {
  RuleInput r;
  auto err = read_object(body, kRuleFields, [&r](std::size_t i, od::value& v) {
    switch (i) {
      case 0: {
        const Got got = read_string(v, r.name);
        return check(got, text_of(r.name, 200));
      }
      case 1: {
        const Got got = read_string(v, r.metric);
        return check(got, ident::is_metric_name(r.metric));
      }
      case 2: {
        const Got got = read_nullable_string(v, r.device);
        return check(got, !r.device || ident::is_device_key(*r.device));
      }
      case 3: {
        std::string s;
        const Got got = read_string(v, s);
        const auto c = eval::parse_condition(s);
        if (c) r.condition = *c;
        return check(got, c.has_value());
      }
      case 4:
        return read_double(v, r.threshold);
      case 5:
        return read_int(v, 1, 1440, r.window_minutes);
      case 6:
        return read_int(v, 0, 10080, r.cooldown_minutes);
      case 7: {
        std::string s;
        const Got got = read_string(v, s);
        const auto sev = eval::parse_severity(s);
        if (sev) r.severity = *sev;
        return check(got, sev.has_value());
      }
      case 8:
        return read_bool(v, r.enabled);
      default:
        return Got::broken;  // unreachable: read_object passes indexes of kRuleFields
    }
  });
  if (err) return std::move(*err);
  return r;
}

Parsed<IntegrationsInput> parse_integrations_body(std::string_view body) {
  IntegrationsInput in;
  const std::array<Field*, 4> fields = {&in.notification_hub_url, &in.notification_hub_api_key,
                                        &in.workflow_engine_url, &in.workflow_engine_secret};
  auto err = read_object(body, kIntegrationFields, [&fields](std::size_t i, od::value& v) {
    Field& f = *fields[i];
    f.present = true;
    const Got got = read_nullable_string(v, f.value);
    const bool is_url = i == 0 || i == 2;
    return check(got, !f.value || (is_url ? is_http_url(*f.value) : is_credential(*f.value)));
  });
  if (err) return std::move(*err);
  return in;
}

Parsed<TenantInput> parse_tenant_body(std::string_view body) {
  TenantInput t;
  bool has_name = false;
  auto err = read_object(body, kTenantFields, [&](std::size_t i, od::value& v) {
    if (i == 0) {
      const Got got = read_string(v, t.slug);
      return check(got, ident::is_tenant_slug(t.slug));
    }
    has_name = true;
    const Got got = read_string(v, t.name);
    return check(got, text_of(t.name, 200));
  });
  if (err) return std::move(*err);
  if (!has_name) t.name = t.slug;
  return t;
}

namespace {
/// A rejected key as the error message quotes it: printable ASCII only, at most 64 bytes.
std::string shown_key(std::string_view key) {
  const bool printable = std::all_of(key.begin(), key.end(), [](char c) {
    return static_cast<unsigned char>(c) >= 0x20 && static_cast<unsigned char>(c) < 0x7f;
  });
  if (!printable) return "(not printable)";
  return key.size() > 64 ? std::string(key.substr(0, 64)) + "..." : std::string(key);
}
}  // namespace

Parsed<DevicesInput> parse_devices_body(std::string_view body) {
  DevicesInput in;
  std::optional<ApiError> element_error;
  auto err = read_object(body, kDevicesFields, [&](std::size_t, od::value& v) {
    od::json_type type;
    if (v.type().get(type) != SUCCESS) return Got::broken;
    if (type != od::json_type::array) return wrong_type(v);
    od::array arr;
    if (v.get_array().get(arr) != SUCCESS) return Got::broken;
    std::size_t index = 0;
    for (auto e : arr) {
      od::value elem;
      if (std::move(e).get(elem) != SUCCESS) return Got::broken;
      if (element_error) {  // keep reading: malformed JSON later on still answers 400
        if (skip_value(elem) == Got::broken) return Got::broken;
        ++index;
        continue;
      }
      std::string key;
      const Got got = read_string(elem, key);
      if (got == Got::broken) return Got::broken;
      if (index >= kMaxDevicesPerRequest) {
        element_error = invalid_field(
            fmt::format("devices: at most {} device keys per request", kMaxDevicesPerRequest));
      } else if (got == Got::invalid || !ident::is_device_key(key)) {
        element_error = invalid_field(
            fmt::format("devices[{}] ('{}') must be a device key: {}", index,
                        got == Got::invalid ? std::string("not a string") : shown_key(key),
                        ident::kDeviceKeyRule));
      } else {
        in.devices.push_back(std::move(key));
      }
      ++index;
    }
    if (index == 0 && !element_error) return Got::invalid;
    return Got::ok;
  });
  if (err) return std::move(*err);
  if (element_error) return std::move(*element_error);
  return in;
}

Parsed<int> parse_limit(const std::optional<std::string>& value, int default_limit, int max_limit) {
  if (!value) return default_limit;
  const ApiError error = invalid_field(fmt::format("limit must be an integer 1..{}", max_limit));
  if (value->empty()) return error;
  int n = 0;
  for (const char c : *value) {
    if (!is_digit(c)) return error;  // also signs, spaces and fractions
    n = n * 10 + (c - '0');
    if (n > max_limit) return error;  // stops long before int could overflow
  }
  if (n < 1) return error;
  return n;
}

Parsed<std::optional<TimePoint>> parse_time_param(const std::optional<std::string>& value,
                                                  std::string_view name) {
  if (!value) return std::optional<TimePoint>{};
  auto t = parse_rfc3339(*value);
  if (!t) return invalid_field(fmt::format("{} must be an RFC 3339 timestamp", name));
  return std::optional<TimePoint>{*t};
}

std::string encode_cursor(const AlertCursor& c) {
  const std::string plain = fmt::format("{}.{}", to_epoch_us(c.created_at), c.id);
  std::string out(4 * ((plain.size() + 2) / 3) + 1, '\0');  // EVP_EncodeBlock adds a NUL
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(plain.data()),
                                static_cast<int>(plain.size()));
  out.resize(static_cast<std::size_t>(n));
  while (!out.empty() && out.back() == '=') out.pop_back();
  for (char& ch : out) {
    if (ch == '+') ch = '-';
    if (ch == '/') ch = '_';
  }
  return out;
}

Parsed<AlertCursor> decode_cursor(std::string_view cursor) {
  const auto plain = base64url_decode(cursor);
  if (!plain) return invalid_cursor();
  const std::size_t dot = plain->find('.');
  if (dot == std::string::npos) return invalid_cursor();
  const std::string_view micros = std::string_view(*plain).substr(0, dot);
  const std::string_view id = std::string_view(*plain).substr(dot + 1);
  std::int64_t us = 0;
  const auto [end, ec] = std::from_chars(micros.data(), micros.data() + micros.size(), us);
  if (ec != std::errc{} || end != micros.data() + micros.size() || !is_uuid(id)) {
    return invalid_cursor();
  }
  // TimePoint counts nanoseconds: refuse microsecond counts it cannot hold (about ±292 years).
  constexpr std::int64_t kMaxUs = std::numeric_limits<TimePoint::rep>::max() / 1000;
  if (us > kMaxUs || us < -kMaxUs) return invalid_cursor();
  AlertCursor c;
  c.created_at =
      TimePoint{std::chrono::duration_cast<TimePoint::duration>(std::chrono::microseconds{us})};
  c.id = std::string(id);
  // Only what encode_cursor produces: no leading zeros, "+", "-0" or non-zero trailing bits.
  if (encode_cursor(c) != cursor) return invalid_cursor();
  return c;
}

}  // namespace ste::api
