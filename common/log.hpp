#pragma once
/// Structured logging: one JSON object per line on stderr with `ts` (RFC 3339 UTC, ms), `level`,
/// `component`, `msg` and the event's own fields. spdlog does the sink, level filtering and
/// thread-safety; the line itself is built by format_log_line (pure, unit-tested).
#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>
#include <variant>

#include "common/clock.hpp"

namespace ste::log {

enum class Level { debug, info, warn, error };

/// One event field. Holds views: valid only for the duration of the logging call.
struct Field {
  using Value = std::variant<std::string_view, std::int64_t, std::uint64_t, double, bool>;
  std::string_view key;
  Value value;
  Field(std::string_view k, std::string_view v) : key(k), value(v) {}
  Field(std::string_view k, const char* v) : key(k), value(std::string_view{v}) {}
  Field(std::string_view k, const std::string& v) : key(k), value(std::string_view{v}) {}
  Field(std::string_view k, int v) : key(k), value(static_cast<std::int64_t>(v)) {}
  Field(std::string_view k, long v) : key(k), value(static_cast<std::int64_t>(v)) {}
  Field(std::string_view k, long long v) : key(k), value(static_cast<std::int64_t>(v)) {}
  Field(std::string_view k, unsigned v) : key(k), value(static_cast<std::uint64_t>(v)) {}
  Field(std::string_view k, unsigned long v) : key(k), value(static_cast<std::uint64_t>(v)) {}
  Field(std::string_view k, unsigned long long v) : key(k), value(static_cast<std::uint64_t>(v)) {}
  Field(std::string_view k, double v) : key(k), value(v) {}
  Field(std::string_view k, bool v) : key(k), value(v) {}
};
using Fields = std::initializer_list<Field>;

std::string_view level_name(Level l);
/// Parses "debug" | "info" | "warn" | "error"; throws std::invalid_argument otherwise.
Level parse_level(std::string_view s);

/// The JSON line (without newline) for one event.
std::string format_log_line(TimePoint ts, Level level, std::string_view component,
                            std::string_view msg, Fields fields);
/// The human-readable variant (`STE_LOG_FORMAT=text`).
std::string format_text_line(TimePoint ts, Level level, std::string_view component,
                             std::string_view msg, Fields fields);

/// Configures the process-wide logger. Call once from main before other threads start.
void init(std::string_view component, std::string_view format, std::string_view level);

void write(Level level, std::string_view msg, Fields fields);
inline void debug(std::string_view msg, Fields f = {}) { write(Level::debug, msg, f); }
inline void info(std::string_view msg, Fields f = {}) { write(Level::info, msg, f); }
inline void warn(std::string_view msg, Fields f = {}) { write(Level::warn, msg, f); }
inline void error(std::string_view msg, Fields f = {}) { write(Level::error, msg, f); }

}  // namespace ste::log
