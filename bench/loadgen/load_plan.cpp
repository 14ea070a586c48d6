#include "bench/loadgen/load_plan.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>

#include "common/json_writer.hpp"
#include "common/time_format.hpp"

namespace ste::loadgen {

namespace {

// The ingest contract (docs/DESIGN.md §3): a plan the ingester would reject is a usage error here,
// not a benchmark of the reject path.
constexpr std::uint32_t kMaxReadingsPerMessage = 1000;

bool valid_tenant_slug(std::string_view s) {
  if (s.empty() || s.size() > 63) return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
  });
}

bool valid_metric_name(std::string_view s) {
  if (s.empty() || s.size() > 128) return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '.' || c == ':' || c == '-';
  });
}

}  // namespace

std::vector<std::string> default_metric_names(std::uint32_t n) {
  std::vector<std::string> out;
  out.reserve(n);
  for (std::uint32_t i = 0; i < n; ++i) out.push_back(fmt::format("m{}", i));
  return out;
}

std::string device_key(std::uint32_t index) { return fmt::format("dev-{:04}", index); }

LoadPlan::LoadPlan(LoadPlanConfig cfg) : cfg_(std::move(cfg)) {
  if (!valid_tenant_slug(cfg_.tenant)) {
    throw std::invalid_argument(
        fmt::format("tenant '{}' is not a slug ([a-z0-9-]{{1,63}})", cfg_.tenant));
  }
  if (cfg_.devices == 0) throw std::invalid_argument("devices must be at least 1");
  if (cfg_.metrics.empty()) throw std::invalid_argument("at least one metric is needed");
  for (const auto& m : cfg_.metrics) {
    if (!valid_metric_name(m)) {
      throw std::invalid_argument(
          fmt::format("metric name '{}' is not 1-128 chars of [A-Za-z0-9_.:-]", m));
    }
  }
  if (cfg_.batch == 0 || cfg_.batch > kMaxReadingsPerMessage) {
    throw std::invalid_argument(
        fmt::format("batch must be 1..{}, got {}", kMaxReadingsPerMessage, cfg_.batch));
  }
}

std::optional<std::uint64_t> LoadPlan::message_count() const {
  if (!cfg_.count) return std::nullopt;
  return (*cfg_.count + cfg_.batch - 1) / cfg_.batch;
}

std::uint32_t LoadPlan::readings_in_message(std::uint64_t j) const {
  if (!cfg_.count) return cfg_.batch;
  const std::uint64_t first = first_reading_of_message(j);
  if (first >= *cfg_.count) return 0;
  return static_cast<std::uint32_t>(std::min<std::uint64_t>(cfg_.batch, *cfg_.count - first));
}

std::string LoadPlan::subject_of_device(std::uint32_t device) const {
  return fmt::format("sensors.{}.{}", cfg_.tenant, device_key(device));
}

PlannedReading LoadPlan::reading(std::uint64_t i) const {
  const std::uint64_t j = i / cfg_.batch;
  const std::uint64_t k = i % cfg_.batch;
  const std::uint32_t device = device_of_message(j);
  // Position of this reading in its own device's stream: the device gets every `devices`-th
  // message, each carrying `batch` readings.
  const std::uint64_t device_seq = (j / cfg_.devices) * cfg_.batch + k;
  const auto metric_count = static_cast<std::uint64_t>(cfg_.metrics.size());
  const auto metric = static_cast<std::uint32_t>(device_seq % metric_count);
  const std::uint64_t series_seq = device_seq / metric_count;
  const double value = is_spike(i) ? cfg_.spike_value : normal_value(device, metric, series_seq);
  return PlannedReading{i, device, metric, value};
}

double LoadPlan::normal_value(std::uint32_t device, std::uint32_t metric, std::uint64_t seq) {
  // A slow wave with a per-series phase: plausible-looking, reproducible, never near a spike.
  // Amplitude 4.5 plus rounding to 0.01 stays inside [15, 25].
  const double phase = 0.7 * static_cast<double>(device) + 1.3 * static_cast<double>(metric);
  const double v = 20.0 + 4.5 * std::sin(0.05 * static_cast<double>(seq % 100000) + phase);
  return std::round(v * 100.0) / 100.0;
}

TimestampSequencer::TimestampSequencer(std::uint32_t series_count)
    : last_ms_(series_count, std::numeric_limits<std::int64_t>::min()) {}

std::int64_t TimestampSequencer::next(std::uint32_t series, std::int64_t now_ms) {
  std::int64_t& last = last_ms_.at(series);
  const std::int64_t ts =
      (last != std::numeric_limits<std::int64_t>::min() && last >= now_ms) ? last + 1 : now_ms;
  last = ts;
  max_lead_ms_ = std::max(max_lead_ms_, ts - now_ms);
  return ts;
}

PayloadBuilder::PayloadBuilder(const LoadPlan& plan, TsMode ts_mode, bool stamp)
    : plan_(plan), ts_mode_(ts_mode), stamp_(stamp), seq_(plan.series_count()) {}

std::string PayloadBuilder::build(std::uint64_t j, TimePoint now) {
  const std::uint32_t n = plan_.readings_in_message(j);
  const std::uint64_t first = plan_.first_reading_of_message(j);
  const std::int64_t now_ms = to_epoch_ms(now);
  const std::int64_t now_ns =
      std::chrono::duration_cast<std::chrono::nanoseconds>(now.time_since_epoch()).count();
  const bool array = plan_.config().batch > 1;

  JsonWriter w;
  if (array) w.begin_array();
  for (std::uint32_t k = 0; k < n; ++k) {
    const PlannedReading r = plan_.reading(first + k);
    w.begin_object();
    w.field("metric", plan_.config().metrics[r.metric]);
    w.field("value", r.value);
    if (ts_mode_ != TsMode::absent) {
      const std::int64_t ts = seq_.next(plan_.series_of(r.device, r.metric), now_ms);
      if (ts_mode_ == TsMode::now) {
        w.field("ts", format_rfc3339_ms(from_epoch_ms(ts)));
      } else {
        w.field("ts", ts);
      }
    }
    if (stamp_) w.field("sent_ns", now_ns);
    w.end_object();
  }
  if (array) w.end_array();
  return w.take();
}

PacingSchedule::PacingSchedule(double readings_per_second, std::chrono::nanoseconds tick)
    : rate_(readings_per_second), tick_(tick) {
  if (!(rate_ >= 0.0) || !std::isfinite(rate_)) {
    throw std::invalid_argument("rate must be a finite number >= 0");
  }
  if (tick_.count() < 0) throw std::invalid_argument("tick must be >= 0");
}

std::chrono::nanoseconds PacingSchedule::due(std::uint64_t i) const {
  if (rate_ == 0.0) return std::chrono::nanoseconds{0};
  return std::chrono::nanoseconds{static_cast<std::int64_t>(static_cast<double>(i) * 1e9 / rate_)};
}

std::chrono::nanoseconds PacingSchedule::wait_before(std::uint64_t i,
                                                     std::chrono::nanoseconds elapsed) const {
  auto d = due(i);
  if (tick_.count() > 0) d -= d % tick_;
  return d > elapsed ? d - elapsed : std::chrono::nanoseconds{0};
}

}  // namespace ste::loadgen
