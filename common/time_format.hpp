#pragma once
/// RFC 3339 timestamps: formatting (always UTC, millisecond precision, `Z`) and strict parsing
/// (date, `T`, time, optional fraction, `Z` or `±hh:mm`). Pure functions.
#include <optional>
#include <string>
#include <string_view>

#include "common/clock.hpp"

namespace ste {

/// "2026-11-28T11:00:00.123Z"
std::string format_rfc3339_ms(TimePoint t);
/// Same, with microseconds (PostgreSQL's precision), for timestamps that must round-trip exactly.
std::string format_rfc3339_us(TimePoint t);

/// Parses an RFC 3339 date-time. Returns nullopt for anything else (no lenient forms) and for
/// years outside 1678..2261, which a nanosecond TimePoint cannot hold.
/// Fractions beyond microseconds are truncated to microseconds, PostgreSQL's resolution.
std::optional<TimePoint> parse_rfc3339(std::string_view s);

/// Days since 1970-01-01 for a proleptic Gregorian date (H. Hinnant's algorithm).
std::int64_t days_from_civil(int y, unsigned m, unsigned d);

}  // namespace ste
