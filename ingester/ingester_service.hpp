#pragma once
/// ste-ingester wiring: assembly only (docs/ARCHITECTURE.md). It builds the parts, hands the
/// SENSORS consumer to the consumer runtime (common/message_consumer.hpp) and the start-up and
/// ordered stop to the service runtime (common/service_runtime.hpp).
///
/// Threads and what they own:
/// - the libuv loop (run()'s thread): SIGTERM/SIGINT, the batch-interval timer that wakes a
///   writer when the buffer is due by age, hourly partition upkeep and the consumer-lag probe
///   (off-loop via uv_queue_work), systemd watchdog pings;
/// - the consumer thread (JetStream mode: the runtime's pull thread; core mode: cnats'
///   subscription thread): parse/validate, tenant and device resolution (own PostgreSQL
///   connection), push into the BatchBuffer;
/// - writer threads (STE_WRITERS, each with its own connection): take a due batch, write it in
///   one statement, publish its summary, then ack the source messages (BatchCommit);
/// - the progress thread: "in progress" for messages held over 10 s (HeldMessages);
/// - the DbProbe behind /readyz and cpp-httplib's threads for /healthz, /readyz, /metrics.
/// Flow control: the consumer stops fetching while `max_inflight` readings are received but not
/// yet committed, so memory stays bounded when PostgreSQL is slow or away (JetStream keeps the
/// backlog).
#include <string>

#include "common/jetstream_fetch.hpp"
#include "common/nats_client.hpp"
#include "common/settings.hpp"
#include "ingester/batch_writer.hpp"
#include "ingester/sensors_retention.hpp"

namespace ste::ingest {

struct IngesterConfig {
  CommonSettings common;
  std::string http_addr = "127.0.0.1:9101";
  NatsMode mode = NatsMode::jetstream;
  int batch_size = 20000;
  int batch_interval_ms = 500;
  int writers = 2;
  WriteMethod write_method = WriteMethod::copy;
  int fetch_size = 2000;
  FetchStyle fetch_style = FetchStyle::fill;
  /// The retention of a newly created SENSORS stream (ingester/sensors_retention.hpp).
  RetentionRequest sensors_retention = RetentionRequest::automatic;
  /// How often SENSORS is trimmed on limits retention. Each purge costs nats-server 2.9 a pass
  /// over the partly trimmed file block (per-subject bookkeeping, sometimes a rewrite, and that
  /// block's cache is dropped): every second that cut the pipeline's rate by more than half, every
  /// 10 s it costs about 3% (bench/results, scenario 7). Disk holds the backlog plus this much
  /// traffic.
  int trim_interval_seconds = 10;
  int max_inflight_readings = 0;           ///< 0 = 4 × batch_size
  int max_new_devices_per_minute = 10000;  ///< per tenant per cap window
  int new_device_window_seconds = 60;      ///< the cap window (shorter: tests, smoother onboarding)
  int device_cap_max_wait_seconds = 600;   ///< longest wait of a message over the cap
  int max_message_bytes = 64 * 1024;       ///< larger payloads are rejected as too_large
  int max_readings_per_message = 1000;     ///< longer arrays are rejected as too_many_readings
  int retention_days = 30;
};

/// Runs the ingester until SIGTERM/SIGINT; returns the process exit code.
int run_ingester(const IngesterConfig& config);

}  // namespace ste::ingest
