#include "evaluator/evaluator_service.hpp"

#include "common/db_probe.hpp"
#include "common/dead_letter.hpp"
#include "common/log.hpp"
#include "common/message_consumer.hpp"
#include "common/message_settler.hpp"
#include "common/pg_pool.hpp"
#include "common/schema_migrator.hpp"
#include "common/service_http.hpp"
#include "common/service_runtime.hpp"
#include "evaluator/alerts/episode_events.hpp"
#include "evaluator/alerts/episode_timer.hpp"
#include "evaluator/alerts/retention_pruner.hpp"
#include "evaluator/api/api_server.hpp"
#include "evaluator/api/web_page.hpp"
#include "evaluator/delivery/curl_transport.hpp"
#include "evaluator/delivery/delivery_worker.hpp"
#include "evaluator/delivery/pg_outbox.hpp"
#include "evaluator/evaluation/summary_evaluator.hpp"
#include "evaluator/evaluation/summary_handler.hpp"
#include "evaluator/stream/stream_source.hpp"

namespace ste::eval {

namespace {

const ConsumerSpec kEvaluatorConsumer{"STE_BATCHES", "ste-evaluator", std::chrono::seconds{30},
                                      1000};

/// Where summaries come from: the STE_BATCHES durable consumer (one pull thread per worker), or
/// (core mode) a queue subscription.
ConsumerOptions summary_source(const EvaluatorConfig& cfg, bool jetstream) {
  ConsumerOptions o;
  o.name = "summaries";
  o.jetstream = jetstream;
  o.consumer = kEvaluatorConsumer;
  o.subject = kBatchesSubject;
  o.queue = "ste-evaluator";
  o.threads = cfg.workers;
  o.fetch_size = 16;
  o.redelivery = cfg.common.redelivery;
  return o;
}

DeliveryConfig delivery_config(const EvaluatorConfig& cfg, const TargetDefaults& defaults) {
  DeliveryConfig d;
  d.defaults = defaults;
  d.policy.max_attempts = cfg.delivery_max_attempts;
  d.total_timeout = std::chrono::milliseconds{cfg.delivery_timeout_ms};
  d.allow_private_tenant_targets = cfg.allow_private_tenant_webhooks;
  return d;
}

api::ApiLimits api_limits(const EvaluatorConfig& cfg) {
  api::ApiLimits limits;
  limits.max_body_bytes = static_cast<std::size_t>(cfg.api_max_body_bytes);
  limits.max_rules_per_tenant = cfg.max_rules_per_tenant;
  limits.rate.per_second = cfg.api_rate_per_second;
  limits.rate.burst = cfg.api_rate_burst;
  return limits;
}

RetentionConfig retention_config(const EvaluatorConfig& cfg) {
  RetentionConfig r;
  r.retention_days = cfg.alert_retention_days;
  r.interval = std::chrono::seconds{cfg.retention_interval_s};
  return r;
}

}  // namespace

int run_evaluator(const EvaluatorConfig& cfg) {
  ServiceRuntime runtime("evaluator");
  const bool jetstream = cfg.mode == NatsMode::jetstream;
  SystemClock clock;
  auto registry = std::make_shared<prometheus::Registry>();
  EvalMetrics metrics(*registry);
  PgPool pool(cfg.common.database_url, cfg.db_pool_size);
  require_schema(*pool.acquire());

  auto nats = connect_nats(cfg.common.nats, "ste-evaluator");
  if (jetstream) setup_jetstream(*nats, {kBatchesStream, kDeadStream}, kEvaluatorConsumer);
  auto settler = make_settler(jetstream, *nats, kBatchesStream.name);

  // The path of an alert: summary -> rules -> stored alert and outbox rows -> event and webhooks.
  RuleCache rules(cfg.common.database_url);
  rules.start([&metrics](std::size_t n) {
    metrics.rules.Set(static_cast<double>(n));
    log::info("rules loaded", {{"rules", n}});
  });
  const TargetDefaults defaults{cfg.hub_url, cfg.hub_api_key, cfg.workflow_url,
                                cfg.workflow_secret};
  SummaryEvaluator evaluator(rules, *nats, metrics,
                             [&defaults](std::int64_t tenant, PgConnection& db) {
                               return targets_for_tenant(db, tenant, defaults);
                             });
  const SummaryHandler::Evaluate evaluate = [&](const Summary& summary) {
    auto db = pool.acquire();  // one pooled connection per summary
    evaluator.evaluate(summary, *db);
  };
  const auto delivery = jetstream ? SummaryDelivery::at_least_once : SummaryDelivery::at_most_once;
  MessageConsumer consumer(
      *nats, *settler, summary_source(cfg, jetstream), [&]() -> MessageConsumer::Handler {
        // One handler per pull thread: it owns a SummaryParser.
        auto handler = std::make_shared<SummaryHandler>(evaluate, *settler, cfg.common.redelivery,
                                                        metrics, clock, delivery);
        return [handler](natsMsg* m) {
          handler->on_message(m);
          natsMsg_Destroy(m);
        };
      });
  DeliveryMetrics delivery_metrics(*registry);
  PgOutbox outbox(pool, defaults);
  CurlTransport transport;
  DeliveryWorker deliveries(outbox, transport, clock, delivery_config(cfg, defaults),
                            delivery_metrics);
  RetentionPruner retention(pool, clock, retention_config(cfg), *registry);
  // No-data rules wait while readings are still in the broker: the ingester's consumer backlog,
  // undelivered and unacknowledged (the ingester acks after the batch's write commits, so a
  // reading is counted until it is stored). In core mode there is none to measure.
  const NoDataSettings no_data{
      std::max(std::chrono::seconds{60}, 3 * std::chrono::seconds{cfg.timer_interval_s}),
      jetstream ? cfg.nodata_max_lag : 0};
  BacklogProbe backlog = [&nats]() -> std::optional<std::int64_t> {
    const auto n = nats->consumer_counts(kSensorsStream.name, kIngesterDurable);
    if (!n) return std::nullopt;
    return static_cast<std::int64_t>(n->pending + n->ack_pending);
  };
  EpisodeTimer timer(pool, *nats, defaults, std::chrono::seconds{cfg.timer_interval_s}, no_data,
                     std::move(backlog), *registry, metrics.errors_publish);

  // The live view (GET /api/stream): every committed transition and the latest readings, heard
  // on NATS whichever instance made them.
  stream::StreamHub hub(cfg.stream, stream::StreamHub::random_epoch(), clock, *registry);
  stream::StreamSource stream_source(*nats, hub);

  DbProbe db_probe(cfg.common.database_url);  // /readyz never waits on the database itself
  db_probe.start();
  ServiceHttp http(cfg.http_addr, registry, [&]() -> std::string {
    if (!nats->connected()) return "nats not connected";
    return db_probe.problem();
  });
  api::EpisodeEffects effects{defaults, [&nats, &metrics](const EpisodeNotice& n) {
                                publish_notice(*nats, metrics.errors_publish, n);
                              }};
  // Each open stream holds one server thread: the API keeps its own threads beside them.
  const auto http_threads = static_cast<std::size_t>(8 + cfg.stream.max_connections);
  http.server().new_task_queue = [http_threads] { return new httplib::ThreadPool(http_threads); };
  api::ApiServer api(http.server(), pool, cfg.admin_api_key, api_limits(cfg), clock, *registry,
                     effects, &hub);
  api::register_web_routes(http.server(), cfg.web_dir.empty() ? api::default_web_dir()
                                                              : std::filesystem::path(cfg.web_dir));
  hub.start();
  http.start();
  consumer.start();
  deliveries.start();
  retention.start();
  timer.start();

  // Graceful stop, in this order: no new summaries; deliveries in flight finish or time out;
  // then the background threads, the HTTP API and the probe.
  runtime.on_stop("probe", [&] { db_probe.stop(); });
  runtime.on_stop("http", [&] { http.stop(); });
  runtime.on_stop("stream", [&] { hub.stop(); });  // ends open streams, so http.stop() returns
  runtime.on_stop("rules", [&] { rules.stop(); });
  runtime.on_stop("retention", [&] { retention.stop(); });
  runtime.on_stop("timer", [&] { timer.stop(); });
  runtime.on_stop("deliveries", [&] { deliveries.stop(); });
  runtime.on_stop("consumer", [&] { consumer.stop(); });
  return runtime.run({{"mode", jetstream ? "jetstream" : "core"},
                      {"workers", cfg.workers},
                      {"db_pool_size", cfg.db_pool_size},
                      {"default_hub", !cfg.hub_url.empty()},
                      {"default_workflow", !cfg.workflow_url.empty()}});
}

}  // namespace ste::eval
