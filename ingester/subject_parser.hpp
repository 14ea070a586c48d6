#pragma once
/// Parses `sensors.<tenant>.<device>` subjects. Pure functions.
#include <optional>
#include <string>
#include <string_view>

#include "common/identifiers.hpp"

namespace ste::ingest {

struct SensorSubject {
  std::string tenant;  ///< slug, [a-z0-9-]{1,63}
  std::string device;  ///< device key, [A-Za-z0-9_-]{1,128}
};

/// nullopt unless the subject is exactly three tokens `sensors`, a valid slug, a valid device key.
std::optional<SensorSubject> parse_sensor_subject(std::string_view subject);

/// The token used in `ste.rejected.<token>` for a message on `subject`: the subject's second
/// token when it is a usable NATS subject token (non-empty, no wildcard, no whitespace, at most
/// 63 bytes), else `_` (the subject had no usable tenant token at all).
std::string rejected_subject_token(std::string_view subject);

/// The contract's rules (common/identifiers.hpp), under the names the ingest path has used.
inline bool is_valid_tenant_slug(std::string_view s) { return ident::is_tenant_slug(s); }
inline bool is_valid_device_key(std::string_view s) { return ident::is_device_key(s); }

}  // namespace ste::ingest
