#pragma once
/// ste-evaluator wiring: assembly only (docs/ARCHITECTURE.md). The summaries go through the
/// consumer runtime (common/message_consumer.hpp), start-up and the ordered stop through the
/// service runtime (common/service_runtime.hpp).
///
/// Threads: the DeliveryWorker (libcurl multi, behind the HttpTransport port) draining the outbox;
/// the libuv loop (signals, systemd watchdog); STE_EVAL_WORKERS consumer threads, each with its own
/// pull subscription on the shared durable consumer `ste-evaluator` (or, in core mode, cnats'
/// callback thread for the `ste-evaluator` queue group), taking connections from the PgPool of
/// STE_DB_POOL_SIZE; the RuleCache listener; the RetentionPruner; the DbProbe behind /readyz;
/// cpp-httplib's threads. The firewall: any error evaluating one summary is logged at warn,
/// counted, and the next summary is processed. A failure of the environment (database, NATS) hands
/// the summary back with a back-off, for as long as it lasts; an undecodable summary, or one that
/// fails for its own reasons STE_MAX_DELIVERIES times, is dead-lettered on ste.dead.STE_BATCHES
/// (docs/DESIGN.md §5).
#include <cstdint>
#include <string>

#include "common/settings.hpp"
#include "evaluator/stream/stream_hub.hpp"

namespace ste::eval {

struct EvaluatorConfig {
  CommonSettings common;
  std::string http_addr = "127.0.0.1:8080";
  NatsMode mode = NatsMode::jetstream;
  int db_pool_size = 8;
  int workers = 2;
  std::string hub_url;
  std::string hub_api_key;
  std::string workflow_url;
  std::string workflow_secret;
  std::string admin_api_key;
  int api_max_body_bytes = 1024 * 1024;
  int max_rules_per_tenant = 1000;
  double api_rate_per_second = 50;  ///< per API key (and per address for 401s); 0 = no limit
  double api_rate_burst = 100;
  int delivery_max_attempts = 8;
  int delivery_timeout_ms = 5000;              ///< total per webhook request, connecting included
  bool allow_private_tenant_webhooks = false;  ///< tenant URLs may reach non-public addresses
  int alert_retention_days = 90;   ///< alerts (and their deliveries) older are pruned; 0 = never
  int retention_interval_s = 300;  ///< between retention runs
  int timer_interval_s = 15;       ///< STE_NODATA_INTERVAL_S: the episode timer (no-data, repeats)
  /// STE_NODATA_MAX_LAG: no new no-data episode while the ingester's SENSORS consumer has more
  /// messages not yet stored (undelivered + unacknowledged) than this, or an unknown number;
  /// 0 = no backlog guard.
  std::int64_t nodata_max_lag = 100000;
  std::string web_dir;  ///< STE_WEB_DIR: the operator page's files; empty = <prefix>/share/ste/web
  stream::StreamLimits stream;  ///< STE_STREAM_*: GET /api/stream
};

int run_evaluator(const EvaluatorConfig& config);

}  // namespace ste::eval
