#include "evaluator/evaluator_service.hpp"

#include <atomic>
#include <csignal>
#include <thread>

#include "common/db_probe.hpp"
#include "common/dead_letter.hpp"
#include "common/event_loop.hpp"
#include "common/jetstream_fetch.hpp"
#include "common/log.hpp"
#include "common/pg_pool.hpp"
#include "common/schema_migrator.hpp"
#include "common/service_http.hpp"
#include "evaluator/api/api_server.hpp"
#include "evaluator/delivery_worker.hpp"
#include "evaluator/retention_pruner.hpp"
#include "evaluator/summary_evaluator.hpp"

namespace ste::eval {

namespace {

constexpr auto kFetchWait = std::chrono::milliseconds{250};
const ConsumerSpec kEvaluatorConsumer{"STE_BATCHES", "ste-evaluator", std::chrono::seconds{30},
                                      1000};

/// What became of one summary.
struct Handled {
  enum class Result { evaluated, undecodable, failed };
  Result result = Result::evaluated;
  FailureCause cause = FailureCause::message;  ///< for `failed`
  std::string error;                           ///< for `undecodable` and `failed`
};

/// Decodes and evaluates one summary message; the firewall around one unit of work. Counts the
/// error by kind: `database` only for the environment's failures (docs/DESIGN.md §5).
Handled handle_summary(std::string_view body, SummaryParser& parser, SummaryEvaluator& evaluator,
                       PgPool& pool, EvalMetrics& metrics) {
  const auto started = std::chrono::steady_clock::now();
  auto parsed = parser.parse(body);
  if (auto* err = std::get_if<SummaryError>(&parsed)) {
    metrics.errors_bad_summary.Increment();
    return {Handled::Result::undecodable, FailureCause::message, err->message};
  }
  const Summary& summary = std::get<Summary>(parsed);
  try {
    auto db = pool.acquire();
    evaluator.evaluate(summary, *db);
  } catch (const PgError& e) {
    const bool environment = pg_error_is_environmental(e);
    (environment ? metrics.errors_database : metrics.errors_evaluation).Increment();
    log::warn("summary evaluation failed", {{"batch_id", summary.batch_id},
                                            {"cause", environment ? "database" : "summary"},
                                            {"sqlstate", e.sqlstate()},
                                            {"error", e.what()}});
    return {Handled::Result::failed,
            environment ? FailureCause::environment : FailureCause::message, e.what()};
  } catch (const NatsError& e) {  // NATS away: not the summary's fault either
    metrics.errors_database.Increment();
    log::warn("summary evaluation failed", {{"batch_id", summary.batch_id}, {"error", e.what()}});
    return {Handled::Result::failed, FailureCause::environment, e.what()};
  } catch (const std::exception& e) {
    metrics.errors_evaluation.Increment();
    log::warn("summary evaluation failed",
              {{"batch_id", summary.batch_id}, {"cause", "summary"}, {"error", e.what()}});
    return {Handled::Result::failed, FailureCause::message, e.what()};
  }
  metrics.summaries.Increment();
  metrics.eval_seconds.Observe(
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
  return {};
}

/// Acks, naks (with back-off) or dead-letters one JetStream summary message after handling.
/// The caller keeps ownership of `m`.
void settle(natsMsg* m, const Handled& h, NatsClient& nats, const RedeliveryPolicy& policy,
            EvalMetrics& metrics, AckResults& acks) {
  if (h.result == Handled::Result::evaluated) {
    if (!acks.check(natsMsg_Ack(m, nullptr), "ack")) metrics.ack_failures_ack.Increment();
    return;
  }
  const std::int64_t delivered = delivery_count(m);
  const bool undecodable = h.result == Handled::Result::undecodable;
  const FailureAction action =
      undecodable ? FailureAction{true, {}} : after_failure(policy, h.cause, delivered);
  if (action.dead_letter) {
    const char* reason = undecodable ? "undecodable" : "evaluation_failed";
    try {
      const natsStatus term = dead_letter(nats, m, kBatchesStream.name, reason, h.error);
      (undecodable ? metrics.dead_lettered_undecodable : metrics.dead_lettered_failed).Increment();
      log::warn("summary dead-lettered", {{"reason", reason},
                                          {"deliveries", delivered},
                                          {"subject", dead_letter_subject(kBatchesStream.name)},
                                          {"error", h.error}});
      if (!acks.check(term, "term")) metrics.ack_failures_term.Increment();
      return;
    } catch (const NatsError& e) {  // not stored anywhere else yet: hand it back
      metrics.errors_dead_letter.Increment();
      log::warn("dead letter not published; summary handed back", {{"error", e.what()}});
    }
  }
  const auto delay = action.dead_letter ? policy.first_delay : action.delay;
  if (!acks.check(natsMsg_NakWithDelay(m, delay.count(), nullptr), "nak")) {
    metrics.ack_failures_nak.Increment();
  }
}

void worker_loop(int index, NatsClient& nats, SummaryEvaluator& evaluator, PgPool& pool,
                 EvalMetrics& metrics, const RedeliveryPolicy& policy,
                 const std::atomic<bool>& stopping) {
  natsSubscription* sub = nats.pull_subscribe(kEvaluatorConsumer, kBatchesSubject);
  SummaryParser parser;
  AckResults acks;
  TimePoint last_warning{};
  while (!stopping) {
    natsMsgList list{};
    jsErrCode jerr = static_cast<jsErrCode>(0);
    const natsStatus s = fetch_messages(&list, sub, 16, kFetchWait, &jerr);
    if (s == NATS_TIMEOUT) continue;
    if (s != NATS_OK) {
      const auto now = SysClock::now();
      if (now - last_warning > std::chrono::seconds{5}) {
        last_warning = now;
        log::warn("summary fetch failed", {{"worker", index}, {"status", natsStatus_GetText(s)}});
      }
      std::this_thread::sleep_for(kFetchWait);
      continue;
    }
    for (int i = 0; i < list.Count; ++i) {
      natsMsg* m = list.Msgs[i];
      const std::string_view body(natsMsg_GetData(m),
                                  static_cast<size_t>(natsMsg_GetDataLength(m)));
      settle(m, handle_summary(body, parser, evaluator, pool, metrics), nats, policy, metrics,
             acks);
    }
    natsMsgList_Destroy(&list);
  }
  natsSubscription_Destroy(sub);
}

struct CoreContext {
  SummaryEvaluator* evaluator;
  PgPool* pool;
  EvalMetrics* metrics;
  SummaryParser parser;
};

void on_core_summary(natsConnection*, natsSubscription*, natsMsg* m, void* closure) {
  auto* ctx = static_cast<CoreContext*>(closure);
  const std::string_view body(natsMsg_GetData(m), static_cast<size_t>(natsMsg_GetDataLength(m)));
  // At-most-once: no redelivery and no dead letters; a failure is logged and counted.
  const Handled h = handle_summary(body, ctx->parser, *ctx->evaluator, *ctx->pool, *ctx->metrics);
  if (h.result == Handled::Result::undecodable) {
    log::warn("summary dropped: cannot decode", {{"error", h.error}});
  }
  natsMsg_Destroy(m);
}

}  // namespace

int run_evaluator(const EvaluatorConfig& cfg) {
  std::signal(SIGPIPE, SIG_IGN);
  const bool jetstream = cfg.mode == NatsMode::jetstream;
  auto registry = std::make_shared<prometheus::Registry>();
  EvalMetrics metrics(*registry);

  PgPool pool(cfg.common.database_url, cfg.db_pool_size);
  {
    auto db = pool.acquire();
    require_schema(*db);
  }
  RuleCache rules(cfg.common.database_url);
  rules.start([&metrics](std::size_t n) {
    metrics.rules.Set(static_cast<double>(n));
    log::info("rules loaded", {{"rules", n}});
  });

  NatsSettings nats_settings = cfg.common.nats;
  nats_settings.name = "ste-evaluator";
  NatsClient nats(nats_settings);
  if (jetstream) {
    retry_jetstream_setup([&] {
      nats.ensure_stream(kBatchesStream);
      nats.ensure_stream(kDeadStream);
      nats.ensure_pull_consumer(kEvaluatorConsumer);
    });
  }

  const TargetDefaults defaults{cfg.hub_url, cfg.hub_api_key, cfg.workflow_url,
                                cfg.workflow_secret};
  SummaryEvaluator evaluator(rules, nats, metrics,
                             [&defaults](std::int64_t tenant, PgConnection& db) {
                               return targets_for_tenant(db, tenant, defaults);
                             });
  DeliveryMetrics delivery_metrics(*registry);
  DeliveryConfig delivery_cfg;
  delivery_cfg.defaults = defaults;
  delivery_cfg.policy.max_attempts = cfg.delivery_max_attempts;
  delivery_cfg.total_timeout = std::chrono::milliseconds{cfg.delivery_timeout_ms};
  delivery_cfg.allow_private_tenant_targets = cfg.allow_private_tenant_webhooks;
  DeliveryWorker deliveries(pool, delivery_cfg, delivery_metrics);
  SystemClock retention_clock;
  RetentionConfig retention_cfg;
  retention_cfg.retention_days = cfg.alert_retention_days;
  retention_cfg.interval = std::chrono::seconds{cfg.retention_interval_s};
  RetentionPruner retention(pool, retention_clock, retention_cfg, *registry);

  DbProbe db_probe(cfg.common.database_url);  // /readyz never waits on the database itself
  db_probe.start();
  ServiceHttp http(cfg.http_addr, registry, [&]() -> std::string {
    if (!nats.connected()) return "nats not connected";
    return db_probe.problem();
  });
  SystemClock api_clock;
  api::ApiLimits api_limits;
  api_limits.max_body_bytes = static_cast<std::size_t>(cfg.api_max_body_bytes);
  api_limits.max_rules_per_tenant = cfg.max_rules_per_tenant;
  api_limits.rate.per_second = cfg.api_rate_per_second;
  api_limits.rate.burst = cfg.api_rate_burst;
  api::ApiServer api(http.server(), pool, cfg.admin_api_key, api_limits, api_clock, *registry);
  http.start();

  std::atomic<bool> stopping{false};
  std::vector<std::thread> workers;
  natsSubscription* core_sub = nullptr;
  CoreContext core_ctx{&evaluator, &pool, &metrics, {}};
  if (jetstream) {
    for (int i = 0; i < cfg.workers; ++i) {
      workers.emplace_back([&, i] {
        worker_loop(i, nats, evaluator, pool, metrics, cfg.common.redelivery, stopping);
      });
    }
  } else {
    nats_check(natsConnection_QueueSubscribe(&core_sub, nats.conn(), kBatchesSubject,
                                             "ste-evaluator", on_core_summary, &core_ctx),
               "subscribe ste.batches.flushed");
    nats.flush(std::chrono::milliseconds{5000});  // subscribed on the server before "started"
  }

  deliveries.start();
  retention.start();

  EventLoop loop;
  loop.on_shutdown_signal([&](int sig) {
    log::info("shutting down", {{"signal", sig}});
    notify_stopping();
    stopping = true;
    loop.stop();
  });
  start_watchdog(loop);
  notify_ready();
  log::info("evaluator started", {{"mode", jetstream ? "jetstream" : "core"},
                                  {"workers", cfg.workers},
                                  {"db_pool_size", cfg.db_pool_size},
                                  {"default_hub", !cfg.hub_url.empty()},
                                  {"default_workflow", !cfg.workflow_url.empty()}});
  loop.run();

  for (auto& w : workers) w.join();
  if (core_sub) {
    natsSubscription_Unsubscribe(core_sub);
    natsSubscription_Destroy(core_sub);
  }
  deliveries.stop();
  retention.stop();
  rules.stop();
  http.stop();
  db_probe.stop();
  log::info("evaluator stopped");
  return 0;
}

}  // namespace ste::eval
