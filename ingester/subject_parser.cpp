#include "ingester/subject_parser.hpp"

namespace ste::ingest {

namespace {

constexpr std::string_view kSensorsPrefix = "sensors";
// The tenant token goes into `ste.rejected.<token>`; cap it like a slug so a hostile subject
// cannot make the republish subject arbitrarily long.
constexpr std::size_t kMaxRejectedTokenLen = ident::kMaxTenantSlugLength;

/// A token that can be placed in a NATS subject as a literal: no separator (cannot occur after
/// splitting), no wildcard characters, no whitespace or control bytes.
bool is_usable_subject_token(std::string_view t) {
  if (t.empty() || t.size() > kMaxRejectedTokenLen) return false;
  for (const char c : t) {
    const auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u == 0x7f || c == '*' || c == '>') return false;
  }
  return true;
}

}  // namespace

std::optional<SensorSubject> parse_sensor_subject(std::string_view subject) {
  const auto first_dot = subject.find('.');
  if (first_dot == std::string_view::npos || subject.substr(0, first_dot) != kSensorsPrefix) {
    return std::nullopt;
  }
  const std::string_view rest = subject.substr(first_dot + 1);
  const auto second_dot = rest.find('.');
  if (second_dot == std::string_view::npos) return std::nullopt;
  const std::string_view tenant = rest.substr(0, second_dot);
  // The device key's alphabet has no '.', so a fourth token fails ident::is_device_key.
  const std::string_view device = rest.substr(second_dot + 1);
  if (!ident::is_tenant_slug(tenant) || !ident::is_device_key(device)) return std::nullopt;
  return SensorSubject{std::string(tenant), std::string(device)};
}

std::string rejected_subject_token(std::string_view subject) {
  const auto first_dot = subject.find('.');
  if (first_dot != std::string_view::npos) {
    std::string_view token = subject.substr(first_dot + 1);
    token = token.substr(0, token.find('.'));
    if (is_usable_subject_token(token)) return std::string(token);
  }
  return "_";
}

}  // namespace ste::ingest
