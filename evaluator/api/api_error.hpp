#pragma once
/// API errors as values: every failure has an HTTP status, a stable code and a message that names
/// the problem. Rendered as {"error": {"code": "...", "message": "..."}} (docs/DESIGN.md §7).
#include <string>
#include <variant>

namespace ste::api {

struct ApiError {
  int status = 400;
  /// e.g. malformed_json, invalid_field, unknown_field, not_found, unauthorized, forbidden
  std::string code;
  std::string message;  ///< e.g. "window_minutes must be an integer 1..1440"
};

inline ApiError malformed_json(std::string message) {
  return {400, "malformed_json", std::move(message)};
}
inline ApiError invalid_field(std::string message) {
  return {422, "invalid_field", std::move(message)};
}
inline ApiError not_found(std::string message) { return {404, "not_found", std::move(message)}; }
inline ApiError unauthorized(std::string message) {
  return {401, "unauthorized", std::move(message)};
}
inline ApiError forbidden(std::string message) { return {403, "forbidden", std::move(message)}; }

std::string error_json(const ApiError& e);

/// A parsed value, or the error that names what was wrong with the input.
template <class T>
using Parsed = std::variant<T, ApiError>;

}  // namespace ste::api
