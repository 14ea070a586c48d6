#include "common/identifiers.hpp"

namespace ste::ident {

namespace {

// Plain comparisons, not <cctype>: isalnum() follows the C locale and would accept more than
// the schema's ASCII character classes under another one.
constexpr bool is_digit(char c) { return c >= '0' && c <= '9'; }
constexpr bool is_lower(char c) { return c >= 'a' && c <= 'z'; }
constexpr bool is_upper(char c) { return c >= 'A' && c <= 'Z'; }

constexpr bool is_slug_char(char c) { return is_lower(c) || is_digit(c) || c == '-'; }

constexpr bool is_device_key_char(char c) {
  return is_lower(c) || is_upper(c) || is_digit(c) || c == '_' || c == '-';
}

constexpr bool is_key_name_char(char c) {
  return is_lower(c) || is_upper(c) || is_digit(c) || c == '_' || c == '.' || c == '@' || c == '-';
}

constexpr bool is_metric_char(char c) {
  return is_lower(c) || is_upper(c) || is_digit(c) || c == '_' || c == '.' || c == ':' || c == '-';
}

/// The texts of the three problems for one identifier kind.
struct Problems {
  std::string_view too_long;
  std::string_view forbidden;
};

constexpr std::string_view kEmpty = "is empty";

template <class Allowed>
std::optional<std::string_view> problem(std::string_view s, std::size_t max_length, Allowed allowed,
                                        const Problems& text) {
  if (s.empty()) return kEmpty;
  if (s.size() > max_length) return text.too_long;
  for (const char c : s) {
    if (!allowed(c)) return text.forbidden;
  }
  return std::nullopt;
}

constexpr Problems kSlugProblems{"is longer than 63 characters",
                                 "has a character outside [a-z0-9-]"};
constexpr Problems kDeviceKeyProblems{"is longer than 128 characters",
                                      "has a character outside [A-Za-z0-9_-]"};
constexpr Problems kMetricProblems{"is longer than 128 characters",
                                   "has a character outside [A-Za-z0-9_.:-]"};
constexpr Problems kKeyNameProblems{"is longer than 64 characters",
                                    "has a character outside [A-Za-z0-9_.@-]"};

}  // namespace

std::optional<std::string_view> tenant_slug_problem(std::string_view s) {
  return problem(s, kMaxTenantSlugLength, is_slug_char, kSlugProblems);
}

std::optional<std::string_view> device_key_problem(std::string_view s) {
  return problem(s, kMaxDeviceKeyLength, is_device_key_char, kDeviceKeyProblems);
}

std::optional<std::string_view> metric_name_problem(std::string_view s) {
  return problem(s, kMaxMetricNameLength, is_metric_char, kMetricProblems);
}

std::optional<std::string_view> api_key_name_problem(std::string_view s) {
  return problem(s, kMaxApiKeyNameLength, is_key_name_char, kKeyNameProblems);
}

}  // namespace ste::ident
