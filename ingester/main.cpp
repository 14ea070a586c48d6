// ste-ingester: NATS readings -> validated, batched, idempotent writes to PostgreSQL.
#include <nats/nats.h>

#include <CLI/CLI.hpp>

#include "common/log.hpp"
#include "ingester/ingester_service.hpp"

int main(int argc, char** argv) {
  using namespace ste;
  ingest::IngesterConfig cfg;
  CLI::App app{"ste-ingester: consumes sensor readings from NATS and stores them in PostgreSQL"};
  add_common_options(app, cfg.common);
  add_http_option(app, cfg.http_addr);
  add_nats_mode_option(app, cfg.mode);
  add_redelivery_option(app, cfg.common.redelivery);
  app.add_option("--batch-size", cfg.batch_size, "Flush a batch at this many readings")
      ->envname("STE_BATCH_SIZE")
      ->check(CLI::Range(1, 1'000'000))
      ->capture_default_str();
  app.add_option("--batch-interval-ms", cfg.batch_interval_ms,
                 "... or when the oldest buffered reading is this old")
      ->envname("STE_BATCH_INTERVAL_MS")
      ->check(CLI::Range(1, 600'000))
      ->capture_default_str();
  app.add_option("--writers", cfg.writers, "Writer threads, each with its own database connection")
      ->envname("STE_WRITERS")
      ->check(CLI::Range(1, 16))
      ->capture_default_str();
  std::string write_method{ingest::write_method_name(cfg.write_method)};
  app.add_option("--write-method", write_method,
                 "How a batch reaches PostgreSQL: copy (binary COPY to a staging table) or unnest")
      ->envname("STE_WRITE_METHOD")
      ->check(CLI::IsMember({"copy", "unnest"}))
      ->capture_default_str();
  std::string retention{ingest::retention_request_name(cfg.sensors_retention)};
  app.add_option("--sensors-retention", retention,
                 "Retention of a newly created SENSORS stream: limits (trimmed below the ack floor "
                 "every --trim-interval-seconds; needs nats-server 2.9.15+, whose purge keeps "
                 "unacked deliveries), work-queue (each ack deletes), or auto (limits where the "
                 "server's purge is safe, else work-queue); an existing stream keeps its own")
      ->envname("STE_SENSORS_RETENTION")
      ->check(CLI::IsMember({"auto", "limits", "work-queue"}))
      ->capture_default_str();
  std::string fetch_style = cfg.fetch_style == FetchStyle::fill ? "fill" : "available";
  app.add_option("--fetch-style", fetch_style,
                 "fill: one pull request waits up to 100 ms for a full fetch; available: take "
                 "what is there at once (more pull requests, more broker CPU at a trickle)")
      ->envname("STE_FETCH_STYLE")
      ->check(CLI::IsMember({"fill", "available"}))
      ->capture_default_str();
  app.add_option("--trim-interval-seconds", cfg.trim_interval_seconds,
                 "Limits retention: purge what every consumer acked this often (shorter: less "
                 "disk, more broker CPU)")
      ->envname("STE_TRIM_INTERVAL_SECONDS")
      ->check(CLI::Range(1, 3600))
      ->capture_default_str();
  app.add_option("--fetch-size", cfg.fetch_size, "Messages per JetStream fetch")
      ->envname("STE_FETCH_SIZE")
      ->check(CLI::Range(1, 10'000))
      ->capture_default_str();
  app.add_option(
         "--max-inflight-readings", cfg.max_inflight_readings,
         "Stop fetching while this many readings are not yet committed (0 = 4 x batch size)")
      ->envname("STE_MAX_INFLIGHT_READINGS")
      ->check(CLI::Range(0, 10'000'000))
      ->capture_default_str();
  app.add_option("--max-new-devices-per-minute", cfg.max_new_devices_per_minute,
                 "New devices auto-registered per tenant per minute (per cap window); readings "
                 "of devices over it wait (JetStream) or are rejected as device_limit (core)")
      ->envname("STE_MAX_NEW_DEVICES_PER_MINUTE")
      ->check(CLI::Range(0, 1'000'000))
      ->capture_default_str();
  app.add_option("--new-device-window-seconds", cfg.new_device_window_seconds,
                 "Length of the new-device cap window, aligned to the clock (60 = per minute)")
      ->envname("STE_NEW_DEVICE_WINDOW_SECONDS")
      ->check(CLI::Range(1, 3600))
      ->capture_default_str();
  app.add_option("--device-cap-max-wait-seconds", cfg.device_cap_max_wait_seconds,
                 "Longest a message of a new device over the cap waits for a window before it "
                 "is rejected as device_limit (0 = reject at once)")
      ->envname("STE_DEVICE_CAP_MAX_WAIT_SECONDS")
      ->check(CLI::Range(0, 86400))
      ->capture_default_str();
  app.add_option("--max-message-bytes", cfg.max_message_bytes,
                 "Largest accepted message payload in bytes (larger: rejected as too_large)")
      ->envname("STE_MAX_MESSAGE_BYTES")
      ->check(CLI::Range(256, 1024 * 1024))
      ->capture_default_str();
  app.add_option("--max-readings-per-message", cfg.max_readings_per_message,
                 "Most readings in one message's array (more: rejected as too_many_readings)")
      ->envname("STE_MAX_READINGS_PER_MESSAGE")
      ->check(CLI::Range(1, 100'000))
      ->capture_default_str();
  app.add_option("--retention-days", cfg.retention_days,
                 "Days of readings kept (older partitions dropped)")
      ->envname("STE_RETENTION_DAYS")
      ->check(CLI::Range(1, 36500))
      ->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  cfg.sensors_retention = *ingest::parse_retention_request(retention);
  cfg.fetch_style = fetch_style == "fill" ? FetchStyle::fill : FetchStyle::available;
  cfg.write_method = *ingest::parse_write_method(write_method);

  int rc = 1;
  try {
    log::init("ingester", cfg.common.log_format, cfg.common.log_level);
    rc = ingest::run_ingester(cfg);
  } catch (const std::exception& e) {
    log::error("ingester failed", {{"error", e.what()}});
    rc = 1;
  }
  nats_CloseAndWait(2000);
  return rc;
}
