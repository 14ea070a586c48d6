#pragma once
/// Parsing and validation of API query parameters and path ids: `limit`, RFC 3339 times, UUIDs
/// and the opaque keyset cursor of alert pages. Pure: a value in, a typed result or an ApiError
/// (422 naming the parameter) out.
#include <optional>
#include <string>
#include <string_view>

#include "common/clock.hpp"
#include "evaluator/api/api_error.hpp"

namespace ste::api {

/// `limit`: absent -> default; otherwise an integer in [1, max] (422 "limit must be an
/// integer 1..500").
Parsed<int> parse_limit(const std::optional<std::string>& value, int default_limit, int max_limit);
/// An RFC 3339 timestamp query parameter named `name` (422 naming it when malformed).
Parsed<std::optional<TimePoint>> parse_time_param(const std::optional<std::string>& value,
                                                  std::string_view name);

/// A canonical lowercase UUID, 8-4-4-4-12 (ids that are not cannot exist: 404, not 422).
bool is_uuid(std::string_view s);

/// Opaque keyset cursor for newest-first alert pages: (created_at, id) of the last item.
struct AlertCursor {
  TimePoint created_at{};
  std::string id;  ///< UUID
};
std::string encode_cursor(const AlertCursor& c);
/// 422 "cursor is invalid" for anything encode_cursor did not produce.
Parsed<AlertCursor> decode_cursor(std::string_view cursor);

/// Opaque keyset cursor for sort=severity alert pages: the last item's place in that order
/// (severity rank, acknowledged or not, created_at, id). Its text differs from an AlertCursor's,
/// so a cursor of one order is refused by the other.
struct SeverityCursor {
  int rank = 0;  ///< 0 critical, 1 warning, 2 info
  bool acked = false;
  AlertCursor at;
};
std::string encode_severity_cursor(const SeverityCursor& c);
/// 422 "cursor is invalid" for anything encode_severity_cursor did not produce.
Parsed<SeverityCursor> decode_severity_cursor(std::string_view cursor);

}  // namespace ste::api
