// ste-evaluator: batch summaries -> rules -> alerts, deliveries and the HTTP API.
#include <curl/curl.h>
#include <nats/nats.h>

#include <CLI/CLI.hpp>

#include "common/log.hpp"
#include "evaluator/evaluator_service.hpp"

int main(int argc, char** argv) {
  using namespace ste;
  eval::EvaluatorConfig cfg;
  CLI::App app{"ste-evaluator: evaluates alert rules on batch summaries and delivers alerts"};
  add_common_options(app, cfg.common);
  add_http_option(app, cfg.http_addr);
  add_nats_mode_option(app, cfg.mode);
  add_redelivery_option(app, cfg.common.redelivery);
  app.add_option("--db-pool-size", cfg.db_pool_size, "PostgreSQL connections of this instance")
      ->envname("STE_DB_POOL_SIZE")
      ->check(CLI::Range(1, 256))
      ->capture_default_str();
  app.add_option("--eval-workers", cfg.workers, "Summary consumer threads")
      ->envname("STE_EVAL_WORKERS")
      ->check(CLI::Range(1, 64))
      ->capture_default_str();
  app.add_option("--notification-hub-url", cfg.hub_url,
                 "Notification Hub base URL (unset = no hub deliveries)")
      ->envname("STE_NOTIFICATION_HUB_URL");
  app.add_option("--notification-hub-api-key", cfg.hub_api_key, "Notification Hub API key")
      ->envname("STE_NOTIFICATION_HUB_API_KEY");
  app.add_option("--workflow-engine-url", cfg.workflow_url, "Workflow Engine URL (unset = none)")
      ->envname("STE_WORKFLOW_ENGINE_URL");
  app.add_option("--workflow-engine-secret", cfg.workflow_secret,
                 "HMAC secret (unset = no signature)")
      ->envname("STE_WORKFLOW_ENGINE_SECRET");
  app.add_option("--delivery-max-attempts", cfg.delivery_max_attempts,
                 "Attempts per webhook delivery before it fails")
      ->envname("STE_DELIVERY_MAX_ATTEMPTS")
      ->check(CLI::Range(1, 100))
      ->capture_default_str();
  app.add_option("--delivery-timeout-ms", cfg.delivery_timeout_ms,
                 "Total time one webhook request may take, connecting included")
      ->envname("STE_DELIVERY_TIMEOUT_MS")
      ->check(CLI::Range(100, 60000))
      ->capture_default_str();
  app.add_option("--allow-private-tenant-webhooks", cfg.allow_private_tenant_webhooks,
                 "Let a tenant's own webhook URLs reach loopback, private and link-local "
                 "addresses (the STE_* default targets always may)")
      ->envname("STE_ALLOW_PRIVATE_TENANT_WEBHOOKS")
      ->capture_default_str();
  app.add_option("--alert-retention-days", cfg.alert_retention_days,
                 "Alerts older than this many days are deleted with their deliveries and "
                 "attempts (an alert with a pending delivery waits until it is final; 0 = keep "
                 "forever)")
      ->envname("STE_ALERT_RETENTION_DAYS")
      ->check(CLI::Range(0, 36500))
      ->capture_default_str();
  app.add_option("--nodata-interval-s", cfg.timer_interval_s,
                 "Seconds between runs of the episode timer (no-data rules, repeat "
                 "notifications; one instance at a time runs it)")
      ->envname("STE_NODATA_INTERVAL_S")
      ->check(CLI::Range(1, 3600))
      ->capture_default_str();
  app.add_option("--nodata-max-lag", cfg.nodata_max_lag,
                 "No new no-data alert while the ingester's SENSORS consumer has more messages "
                 "not yet stored (undelivered + unacknowledged) than this, or an unknown number "
                 "(0 = no backlog guard)")
      ->envname("STE_NODATA_MAX_LAG")
      ->check(CLI::Range(std::int64_t{0}, std::int64_t{1'000'000'000}))
      ->capture_default_str();
  app.add_option("--retention-interval-s", cfg.retention_interval_s,
                 "Seconds between alert retention runs")
      ->envname("STE_RETENTION_INTERVAL_S")
      ->check(CLI::Range(1, 86400))
      ->capture_default_str();
  app.add_option("--admin-api-key", cfg.admin_api_key,
                 "Admin API key (unset = admin endpoints disabled)")
      ->envname("STE_ADMIN_API_KEY");
  app.add_option("--api-max-body-bytes", cfg.api_max_body_bytes,
                 "Largest accepted API request body (larger: 413)")
      ->envname("STE_API_MAX_BODY_BYTES")
      ->check(CLI::Range(1024, 64 * 1024 * 1024))
      ->capture_default_str();
  app.add_option("--max-rules-per-tenant", cfg.max_rules_per_tenant,
                 "Rules one tenant may have (creating more: 409)")
      ->envname("STE_MAX_RULES_PER_TENANT")
      ->check(CLI::Range(1, 1'000'000))
      ->capture_default_str();
  app.add_option("--api-rate-per-second", cfg.api_rate_per_second,
                 "API requests per second per key, and per address for requests answered 401 "
                 "(over: 429 with Retry-After; 0 = no limit)")
      ->envname("STE_API_RATE_PER_SECOND")
      ->check(CLI::Range(0.0, 1e6))
      ->capture_default_str();
  app.add_option("--api-rate-burst", cfg.api_rate_burst,
                 "API requests allowed at once before the per-second rate applies")
      ->envname("STE_API_RATE_BURST")
      ->check(CLI::Range(1.0, 1e6))
      ->capture_default_str();
  app.add_option("--web-dir", cfg.web_dir,
                 "Directory of the operator page's files (index.html, static/); default: "
                 "<prefix>/share/ste/web next to the binary")
      ->envname("STE_WEB_DIR");
  int keepalive_s = 15;
  int reading_interval_ms = 1000;
  app.add_option("--stream-max-connections", cfg.stream.max_connections,
                 "Live streams (GET /api/stream) open at once on this instance (beyond: 429)")
      ->envname("STE_STREAM_MAX_CONNECTIONS")
      ->check(CLI::Range(1, 10000))
      ->capture_default_str();
  app.add_option("--stream-max-per-key", cfg.stream.max_per_key,
                 "Live streams one API key may have open on this instance (beyond: 429)")
      ->envname("STE_STREAM_MAX_PER_KEY")
      ->check(CLI::Range(1, 10000))
      ->capture_default_str();
  app.add_option("--stream-queue-frames", cfg.stream.queue_frames,
                 "Events queued for one stream connection; a client that falls further behind "
                 "gets a reset instead")
      ->envname("STE_STREAM_QUEUE_FRAMES")
      ->check(CLI::Range(std::size_t{8}, std::size_t{1'000'000}))
      ->capture_default_str();
  app.add_option("--stream-replay-events", cfg.stream.replay_events,
                 "Alert events kept (all tenants) for streams resuming with Last-Event-ID")
      ->envname("STE_STREAM_REPLAY_EVENTS")
      ->check(CLI::Range(std::size_t{0}, std::size_t{10'000'000}))
      ->capture_default_str();
  app.add_option("--stream-reading-interval-ms", reading_interval_ms,
                 "At most one reading update per device per this many milliseconds on a stream")
      ->envname("STE_STREAM_READING_INTERVAL_MS")
      ->check(CLI::Range(50, 60000))
      ->capture_default_str();
  app.add_option("--stream-keepalive-s", keepalive_s,
                 "Seconds between keep-alive comments on an idle stream")
      ->envname("STE_STREAM_KEEPALIVE_S")
      ->check(CLI::Range(1, 300))
      ->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  cfg.stream.keepalive = std::chrono::seconds{keepalive_s};
  cfg.stream.reading_interval = std::chrono::milliseconds{reading_interval_ms};

  curl_global_init(CURL_GLOBAL_DEFAULT);
  int rc = 1;
  try {
    log::init("evaluator", cfg.common.log_format, cfg.common.log_level);
    rc = eval::run_evaluator(cfg);
  } catch (const std::exception& e) {
    log::error("evaluator failed", {{"error", e.what()}});
    rc = 1;
  }
  nats_CloseAndWait(2000);
  curl_global_cleanup();
  return rc;
}
