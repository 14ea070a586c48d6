#pragma once
/// Shared by the libFuzzer targets: the invariant check that aborts, and independent reference
/// definitions of the contract's token shapes (docs/DESIGN.md §3), written out here on purpose so
/// the fuzzers check the product's validators against something other than themselves.
#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>

#include "common/json_writer.hpp"

namespace ste::fuzz {

[[noreturn]] inline void fail(const char* what) {
  std::fprintf(stderr, "INVARIANT VIOLATED: %s\n", what);
  std::abort();
}

/// Unicode code points in valid UTF-8 (continuation bytes not counted).
inline std::size_t code_points(std::string_view s) {
  std::size_t n = 0;
  for (const char c : s) n += (static_cast<unsigned char>(c) & 0xC0) != 0x80;
  return n;
}

/// The API's free-text rule (names, credentials): 1..max_chars code points, no control character.
inline bool is_plain_text(std::string_view s, std::size_t max_chars) {
  for (const char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7f) return false;  // NUL would be cut off, CR/LF would forge lines
  }
  return code_points(s) >= 1 && code_points(s) <= max_chars;
}

/// A JSON string literal (for writing an accepted body back as JSON).
inline std::string quote(std::string_view s) {
  std::string out;
  append_json_string(out, s);
  return out;
}
inline std::string nullable(const std::optional<std::string>& s) { return s ? quote(*s) : "null"; }

inline bool is_alnum(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}
inline bool is_metric_char(char c) {
  return is_alnum(c) || c == '_' || c == '.' || c == ':' || c == '-';
}
/// `^[A-Za-z0-9_.:-]{1,128}$`
inline bool is_metric(std::string_view s) {
  if (s.empty() || s.size() > 128) return false;
  for (const char c : s) {
    if (!is_metric_char(c)) return false;
  }
  return true;
}
/// `^[A-Za-z0-9_-]{1,128}$`
inline bool is_device_key(std::string_view s) {
  if (s.empty() || s.size() > 128) return false;
  for (const char c : s) {
    if (!(is_alnum(c) || c == '_' || c == '-')) return false;
  }
  return true;
}
/// `^[a-z0-9-]{1,63}$`
inline bool is_slug(std::string_view s) {
  if (s.empty() || s.size() > 63) return false;
  for (const char c : s) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-')) return false;
  }
  return true;
}

}  // namespace ste::fuzz

#define EXPECT(cond)                       \
  do {                                     \
    if (!(cond)) ::ste::fuzz::fail(#cond); \
  } while (0)
