#include "common/log.hpp"

#include <fmt/format.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <memory>
#include <stdexcept>

#include "common/json_writer.hpp"
#include "common/time_format.hpp"

namespace ste::log {

namespace {
struct State {
  std::shared_ptr<spdlog::logger> logger;
  std::string component = "ste";
  bool json = true;
  Level level = Level::info;
};
State& state() {
  static State s;
  return s;
}

void write_field_value(JsonWriter& w, const Field::Value& v) {
  std::visit([&w](const auto& x) { w.value(x); }, v);
}
}  // namespace

std::string_view level_name(Level l) {
  switch (l) {
    case Level::debug:
      return "debug";
    case Level::info:
      return "info";
    case Level::warn:
      return "warn";
    case Level::error:
      return "error";
  }
  return "info";
}

Level parse_level(std::string_view s) {
  if (s == "debug") return Level::debug;
  if (s == "info") return Level::info;
  if (s == "warn" || s == "warning") return Level::warn;
  if (s == "error") return Level::error;
  throw std::invalid_argument(
      fmt::format("log level must be debug, info, warn or error, not '{}'", s));
}

std::string format_log_line(TimePoint ts, Level level, std::string_view component,
                            std::string_view msg, Fields fields) {
  JsonWriter w;
  w.begin_object();
  w.field("ts", format_rfc3339_ms(ts));
  w.field("level", level_name(level));
  w.field("component", component);
  w.field("msg", msg);
  for (const auto& f : fields) {
    // The fixed keys win; an event field never shadows them.
    if (f.key == "ts" || f.key == "level" || f.key == "component" || f.key == "msg") continue;
    w.key(f.key);
    write_field_value(w, f.value);
  }
  w.end_object();
  return w.take();
}

std::string format_text_line(TimePoint ts, Level level, std::string_view component,
                             std::string_view msg, Fields fields) {
  std::string out =
      fmt::format("{} {:5} [{}] {}", format_rfc3339_ms(ts), level_name(level), component, msg);
  for (const auto& f : fields) {
    JsonWriter w;
    write_field_value(w, f.value);
    fmt::format_to(std::back_inserter(out), " {}={}", f.key, w.str());
  }
  return out;
}

void init(std::string_view component, std::string_view format, std::string_view level) {
  auto& s = state();
  if (format != "json" && format != "text") {
    throw std::invalid_argument(fmt::format("log format must be json or text, not '{}'", format));
  }
  s.component = std::string(component);
  s.json = format == "json";
  s.level = parse_level(level);
  if (!s.logger) {
    s.logger = std::make_shared<spdlog::logger>(std::string(component),
                                                std::make_shared<spdlog::sinks::stderr_sink_mt>());
    s.logger->set_pattern("%v");
    s.logger->set_level(spdlog::level::trace);
    s.logger->flush_on(spdlog::level::trace);
  }
}

void write(Level level, std::string_view msg, Fields fields) {
  auto& s = state();
  if (level < s.level) return;
  const TimePoint now = SysClock::now();
  const std::string line = s.json ? format_log_line(now, level, s.component, msg, fields)
                                  : format_text_line(now, level, s.component, msg, fields);
  if (s.logger) {
    s.logger->info(line);
  } else {
    fmt::print(stderr, "{}\n", line);
  }
}

}  // namespace ste::log
