#include "evaluator/api/query_parsing.hpp"

#include <fmt/format.h>
#include <openssl/evp.h>

#include <charconv>
#include <chrono>
#include <cstdint>
#include <limits>

#include "common/json_grammar.hpp"
#include "common/time_format.hpp"

namespace ste::api {

namespace {

bool is_alnum(char c) {
  return is_ascii_digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

// Cursors are short ("<16 digits>.<36-char uuid>" is 72 base64 characters); anything much
// longer is not ours, and is refused before decoding.
constexpr std::size_t kMaxCursor = 128;

ApiError invalid_cursor() { return invalid_field("cursor is invalid"); }

bool is_lower_hex(char c) { return is_ascii_digit(c) || (c >= 'a' && c <= 'f'); }

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

Parsed<int> parse_limit(const std::optional<std::string>& value, int default_limit, int max_limit) {
  if (!value) return default_limit;
  const ApiError error = invalid_field(fmt::format("limit must be an integer 1..{}", max_limit));
  if (value->empty()) return error;
  int n = 0;
  for (const char c : *value) {
    if (!is_ascii_digit(c)) return error;  // also signs, spaces and fractions
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

namespace {

std::string base64url_encode(std::string_view plain) {
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

std::string plain_cursor(const AlertCursor& c) {
  return fmt::format("{}.{}", to_epoch_us(c.created_at), c.id);
}

/// "<epoch us>.<uuid>" as plain_cursor() writes it (the caller checks the round trip).
std::optional<AlertCursor> parse_plain_cursor(std::string_view plain) {
  const std::size_t dot = plain.find('.');
  if (dot == std::string::npos) return std::nullopt;
  const std::string_view micros = plain.substr(0, dot);
  const std::string_view id = plain.substr(dot + 1);
  std::int64_t us = 0;
  const auto [end, ec] = std::from_chars(micros.data(), micros.data() + micros.size(), us);
  if (ec != std::errc{} || end != micros.data() + micros.size() || !is_uuid(id)) {
    return std::nullopt;
  }
  // TimePoint counts nanoseconds: refuse microsecond counts it cannot hold (about ±292 years).
  constexpr std::int64_t kMaxUs = std::numeric_limits<TimePoint::rep>::max() / 1000;
  if (us > kMaxUs || us < -kMaxUs) return std::nullopt;
  AlertCursor c;
  c.created_at =
      TimePoint{std::chrono::duration_cast<TimePoint::duration>(std::chrono::microseconds{us})};
  c.id = std::string(id);
  return c;
}

}  // namespace

std::string encode_cursor(const AlertCursor& c) { return base64url_encode(plain_cursor(c)); }

Parsed<AlertCursor> decode_cursor(std::string_view cursor) {
  const auto plain = base64url_decode(cursor);
  if (!plain) return invalid_cursor();
  auto c = parse_plain_cursor(*plain);
  // Only what encode_cursor produces: no leading zeros, "+", "-0" or non-zero trailing bits.
  if (!c || encode_cursor(*c) != cursor) return invalid_cursor();
  return std::move(*c);
}

// "s<rank><acked>.<epoch us>.<uuid>": the leading "s" cannot start a created-order cursor.
std::string encode_severity_cursor(const SeverityCursor& c) {
  return base64url_encode(fmt::format("s{}{}.{}", c.rank, c.acked ? 1 : 0, plain_cursor(c.at)));
}

Parsed<SeverityCursor> decode_severity_cursor(std::string_view cursor) {
  const auto plain = base64url_decode(cursor);
  if (!plain || plain->size() < 4 || (*plain)[0] != 's' || (*plain)[1] < '0' || (*plain)[1] > '2' ||
      ((*plain)[2] != '0' && (*plain)[2] != '1') || (*plain)[3] != '.') {
    return invalid_cursor();
  }
  auto at = parse_plain_cursor(std::string_view(*plain).substr(4));
  if (!at) return invalid_cursor();
  SeverityCursor c{(*plain)[1] - '0', (*plain)[2] == '1', std::move(*at)};
  if (encode_severity_cursor(c) != cursor) return invalid_cursor();
  return c;
}

}  // namespace ste::api
