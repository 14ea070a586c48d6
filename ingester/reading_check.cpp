#include "ingester/reading_check.hpp"

#include <fmt/format.h>

#include "common/identifiers.hpp"

namespace ste::ingest {

std::size_t count_code_points(std::string_view s) {
  std::size_t n = 0;
  for (const char c : s) n += (static_cast<unsigned char>(c) & 0xC0) != 0x80;
  return n;
}

std::string format_seconds(std::int64_t ms) {
  if (ms % 1000 == 0) return fmt::format("{} s", ms / 1000);
  return fmt::format("{}.{:03d} s", ms / 1000, ms % 1000);
}

std::optional<Verdict> check_reading(const RawFields& raw, const MessageContext& ctx,
                                     const ParseLimits& limits, Reading& out) {
  if (raw.device == Slot::bad) {
    return Verdict{RejectReason::device_mismatch, "device must equal the subject's device key"};
  }

  if (raw.metric == Slot::absent)
    return Verdict{RejectReason::missing_metric, "metric is required"};
  if (raw.metric != Slot::ok || !ident::is_metric_name(raw.metric_text)) {
    return Verdict{RejectReason::invalid_metric,
                   fmt::format("metric must be a string of {}", ident::kMetricNameRule)};
  }

  if (raw.value == Slot::absent) return Verdict{RejectReason::missing_value, "value is required"};
  if (raw.value != Slot::ok) {
    return Verdict{RejectReason::invalid_value, "value must be a finite number"};
  }

  TimePoint ts = ctx.default_ts;
  if (raw.ts == Slot::bad) {
    return Verdict{RejectReason::invalid_ts,
                   "ts must be an RFC 3339 string with Z or an offset, or integer epoch "
                   "milliseconds"};
  }
  const auto max_future_ms = limits.max_future.count();
  if (raw.ts == Slot::ok) {
    if (raw.ts_range == TsRange::far_future) {
      return Verdict{RejectReason::future_ts,
                     fmt::format("ts is too far in the future (at most {} allowed)",
                                 format_seconds(max_future_ms))};
    }
    if (raw.ts_range == TsRange::far_past) {
      return Verdict{
          RejectReason::too_old,
          fmt::format("ts is older than the retention period of {} h", ctx.retention.count())};
    }
    ts = raw.ts_point;
  }
  // The default ts (JetStream's stored time) is checked too: a message redelivered after the
  // retention period has nowhere to go.
  if (ts > ctx.now + limits.max_future) {
    const auto ahead = std::chrono::duration_cast<Millis>(ts - ctx.now).count();
    return Verdict{RejectReason::future_ts,
                   fmt::format("ts is {} in the future (at most {} allowed)", format_seconds(ahead),
                               format_seconds(max_future_ms))};
  }
  if (ts < ctx.now - ctx.retention) {
    return Verdict{
        RejectReason::too_old,
        fmt::format("ts is older than the retention period of {} h", ctx.retention.count())};
  }

  if (raw.unit == Slot::bad ||
      (raw.unit == Slot::ok && count_code_points(raw.unit_text) > limits.max_unit_chars)) {
    return Verdict{
        RejectReason::invalid_unit,
        fmt::format("unit must be a string of at most {} characters", limits.max_unit_chars)};
  }

  out.metric.assign(raw.metric_text);
  out.value = raw.value_num;
  out.ts = ts;
  if (raw.unit == Slot::ok) {
    out.unit.emplace(raw.unit_text);
  } else {
    out.unit.reset();
  }
  return std::nullopt;
}

}  // namespace ste::ingest
