#pragma once
/// The pure part of ste-loadgen: which device, metric and value the i-th reading gets, how readings
/// group into messages, their timestamps and payload text, and when each reading is due under a
/// target rate. No I/O and no clock reads: time is passed in, so tests need no server and no sleep.
///
/// Layout: message j goes to device `j % devices` and carries readings `j*batch .. j*batch+batch-1`
/// (the last message of a counted run may be shorter). Inside one device's own stream of readings
/// the metrics rotate, so every (device, metric) series gets readings whatever devices/batch are.
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/clock.hpp"

namespace ste::loadgen {

enum class TsMode { now, absent, epoch_ms };

struct LoadPlanConfig {
  std::string tenant = "demo";
  std::uint32_t devices = 10;
  std::vector<std::string> metrics{"m0", "m1"};
  std::uint32_t batch = 1;        ///< readings per message; 1 = a single JSON object
  std::uint64_t spike_every = 0;  ///< 0 = off; else every Nth reading (N, 2N, ...) spikes
  double spike_value = 1000.0;
  std::optional<std::uint64_t> count;  ///< total readings; nullopt = unbounded (duration-limited)
};

/// `m0`, `m1`, ... `m<n-1>`.
std::vector<std::string> default_metric_names(std::uint32_t n);
/// `dev-0000`, `dev-0001`, ... (at least four digits, wider when needed).
std::string device_key(std::uint32_t index);

/// One planned reading, before it gets a timestamp.
struct PlannedReading {
  std::uint64_t index;  ///< global reading index, 0-based
  std::uint32_t device;
  std::uint32_t metric;
  double value;
};

/// Deterministic plan of a run. Immutable after construction; safe to share between threads.
class LoadPlan {
 public:
  /// Throws std::invalid_argument for zero devices, no metrics, a batch of 0 or over 1000, a
  /// metric name the ingest contract would reject, or a tenant slug that is not `[a-z0-9-]{1,63}`.
  explicit LoadPlan(LoadPlanConfig cfg);

  const LoadPlanConfig& config() const { return cfg_; }
  std::uint32_t series_count() const {
    return cfg_.devices * static_cast<std::uint32_t>(cfg_.metrics.size());
  }
  /// Series id of (device, metric), dense in [0, series_count()).
  std::uint32_t series_of(std::uint32_t device, std::uint32_t metric) const {
    return device * static_cast<std::uint32_t>(cfg_.metrics.size()) + metric;
  }

  /// Messages in a counted run (nullopt when unbounded).
  std::optional<std::uint64_t> message_count() const;
  /// Readings in message j: `batch`, except the last message of a counted run; 0 past the end.
  std::uint32_t readings_in_message(std::uint64_t j) const;
  std::uint32_t device_of_message(std::uint64_t j) const {
    return static_cast<std::uint32_t>(j % cfg_.devices);
  }
  std::uint64_t first_reading_of_message(std::uint64_t j) const { return j * cfg_.batch; }
  /// `sensors.<tenant>.<device key>`.
  std::string subject_of_device(std::uint32_t device) const;

  /// The reading with global index i.
  PlannedReading reading(std::uint64_t i) const;
  /// Normal value of a reading: 20 + a sine-based variation, always within [15, 25].
  static double normal_value(std::uint32_t device, std::uint32_t metric, std::uint64_t seq);
  bool is_spike(std::uint64_t i) const {
    return cfg_.spike_every != 0 && (i + 1) % cfg_.spike_every == 0;
  }

 private:
  LoadPlanConfig cfg_;
};

/// Hands out millisecond timestamps that are strictly increasing per series: the storage key is
/// (tenant, device, metric, ts), so two readings of a series in the same millisecond would be
/// silently deduplicated and "N published -> N rows" would fail. When readings outrun the clock
/// (more than 1000 per second per series) timestamps run ahead of it; `max_lead()` reports how far,
/// because the ingester rejects readings more than 5 minutes in the future.
/// Not thread-safe: one publishing thread owns it.
class TimestampSequencer {
 public:
  explicit TimestampSequencer(std::uint32_t series_count);
  /// Epoch ms for the next reading of `series` at wall time `now_ms`: max(now_ms, last + 1).
  std::int64_t next(std::uint32_t series, std::int64_t now_ms);
  /// Largest (assigned - now) seen so far, in ms; 0 when never ahead.
  std::int64_t max_lead() const { return max_lead_ms_; }

 private:
  std::vector<std::int64_t> last_ms_;
  std::int64_t max_lead_ms_ = 0;
};

/// Builds message payloads. Not thread-safe (owns a sequencer).
class PayloadBuilder {
 public:
  PayloadBuilder(const LoadPlan& plan, TsMode ts_mode, bool stamp);
  /// Payload of message j at wall time `now`: one JSON object when batch is 1, else a JSON array.
  /// `{"metric": ..., "value": ..., "ts": ..., "sent_ns": ...}` (ts per mode, sent_ns with
  /// --stamp).
  std::string build(std::uint64_t j, TimePoint now);
  const TimestampSequencer& timestamps() const { return seq_; }

 private:
  const LoadPlan& plan_;
  TsMode ts_mode_;
  bool stamp_;
  TimestampSequencer seq_;
};

/// Schedule-based pacing: reading i is due `i / rate` seconds after the start. Sleeping until the
/// due time of a message's first reading, and only when ahead, keeps the long-run average exact
/// without accumulating the error of per-message sleeps. rate 0 = never wait.
/// With a tick, readings are released in bursts: every reading due within one tick is sent at
/// the tick's start, so the publisher wakes (and wakes the server) once per tick rather than once
/// per message — what the combined traffic of many devices looks like to a broker.
class PacingSchedule {
 public:
  explicit PacingSchedule(double readings_per_second,
                          std::chrono::nanoseconds tick = std::chrono::nanoseconds{0});
  /// Offset from the start at which reading i is due.
  std::chrono::nanoseconds due(std::uint64_t i) const;
  /// How long to wait before sending reading i when `elapsed` has passed: until the start of the
  /// tick holding its due time (its due time with no tick); zero when behind.
  std::chrono::nanoseconds wait_before(std::uint64_t i, std::chrono::nanoseconds elapsed) const;

 private:
  double rate_;
  std::chrono::nanoseconds tick_;
};

}  // namespace ste::loadgen
