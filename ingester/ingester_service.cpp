#include "ingester/ingester_service.hpp"

#include <atomic>
#include <csignal>
#include <thread>

#include "common/db_probe.hpp"
#include "common/dead_letter.hpp"
#include "common/event_loop.hpp"
#include "common/jetstream_fetch.hpp"
#include "common/log.hpp"
#include "common/pg_connection.hpp"
#include "common/schema_migrator.hpp"
#include "common/service_http.hpp"
#include "ingester/batch_flusher.hpp"
#include "ingester/message_intake.hpp"
#include "ingester/partition_keeper.hpp"

namespace ste::ingest {

namespace {

constexpr auto kFetchWait = std::chrono::milliseconds{250};
constexpr auto kPartitionUpkeepEvery = std::chrono::hours{1};
constexpr int kPartitionSlot = 1;
constexpr int kConsumerLagSlot = 2;
constexpr auto kConsumerLagEvery = std::chrono::seconds{5};
const ConsumerSpec kIngesterConsumer{"SENSORS", "ste-ingester", std::chrono::seconds{30}, 65536};

/// The consumer thread's PostgreSQL connection for tenant and device lookups, reconnected on
/// demand. Used only by the consuming thread.
class LookupDb {
 public:
  explicit LookupDb(std::string url) : url_(std::move(url)) {}
  PgConnection& get() {
    if (!db_) {
      db_ = std::make_unique<PgConnection>(url_);
    } else if (!db_->healthy()) {
      db_->reconnect();
    }
    return *db_;
  }

 private:
  std::string url_;
  std::unique_ptr<PgConnection> db_;
};

/// Retries the first database connection for a while: under a supervisor the database may come
/// up a moment after us.
std::unique_ptr<PgConnection> connect_with_patience(const std::string& url) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds{15};
  for (;;) {
    try {
      return std::make_unique<PgConnection>(url);
    } catch (const PgError& e) {
      if (std::chrono::steady_clock::now() >= deadline) throw;
      std::this_thread::sleep_for(std::chrono::milliseconds{250});
    }
  }
}

void fetch_loop(natsSubscription* sub, int fetch_size, MessageIntake& intake, BatchFlusher& flusher,
                InflightGate& inflight, const std::atomic<bool>& stopping) {
  TimePoint last_warning{};
  while (!stopping) {
    if (!inflight.wait_for_room(kFetchWait)) continue;  // backpressure: let writers catch up
    natsMsgList list{};
    jsErrCode jerr = static_cast<jsErrCode>(0);
    const natsStatus s = fetch_messages(&list, sub, fetch_size, kFetchWait, &jerr);
    if (s == NATS_TIMEOUT) continue;
    if (s != NATS_OK) {
      const auto now = SysClock::now();
      if (now - last_warning > std::chrono::seconds{5}) {
        last_warning = now;
        log::warn("fetch failed",
                  {{"status", natsStatus_GetText(s)}, {"jetstream_error", static_cast<int>(jerr)}});
      }
      std::this_thread::sleep_for(kFetchWait);
      continue;
    }
    bool wake = false;
    for (int i = 0; i < list.Count; ++i) {
      natsMsg* m = list.Msgs[i];
      list.Msgs[i] = nullptr;  // ownership moves to the intake
      wake |= intake.handle(m);
    }
    natsMsgList_Destroy(&list);
    if (wake) flusher.kick();
  }
}

struct CoreSubscriptionContext {
  MessageIntake* intake;
  BatchFlusher* flusher;
  InflightGate* inflight;
};

void on_core_message(natsConnection*, natsSubscription*, natsMsg* msg, void* closure) {
  auto* ctx = static_cast<CoreSubscriptionContext*>(closure);
  // Core mode has no redelivery to lean on; waiting here pushes back into cnats' pending buffer.
  while (!ctx->inflight->wait_for_room(kFetchWait)) {
  }
  if (ctx->intake->handle(msg)) ctx->flusher->kick();
}

/// Messages waiting for the new-device cap stay unacknowledged: at most half the consumer's
/// unacknowledged budget, so the rest of the traffic keeps flowing while a fleet waits.
DeferralPolicy deferral_policy(const IngesterConfig& cfg) {
  DeferralPolicy p;
  p.cap = cfg.max_new_devices_per_minute;
  p.window = std::chrono::seconds{cfg.new_device_window_seconds};
  p.max_wait = std::chrono::seconds{cfg.device_cap_max_wait_seconds};
  p.max_held = static_cast<std::size_t>(kIngesterConsumer.max_ack_pending / 2);
  p.grace = kIngesterConsumer.ack_wait;
  return p;
}

ParseLimits parse_limits(const IngesterConfig& cfg) {
  ParseLimits limits;
  limits.max_payload_bytes = static_cast<std::size_t>(cfg.max_message_bytes);
  limits.max_readings = static_cast<std::size_t>(cfg.max_readings_per_message);
  return limits;
}
}  // namespace

int run_ingester(const IngesterConfig& cfg) {
  std::signal(SIGPIPE, SIG_IGN);
  const bool jetstream = cfg.mode == NatsMode::jetstream;
  SystemClock clock;
  auto registry = std::make_shared<prometheus::Registry>();
  IngestMetrics metrics(*registry);

  // Start-up checks: a clear message and exit 1 rather than running half-configured.
  auto admin_db = connect_with_patience(cfg.common.database_url);
  require_schema(*admin_db);
  PartitionKeeper keeper(cfg.retention_days);
  const auto plan = keeper.run(*admin_db, clock.now());
  log::info("partitions ready", {{"created", plan.create.size()}, {"dropped", plan.drop.size()}});
  admin_db.reset();

  NatsSettings nats_settings = cfg.common.nats;
  nats_settings.name = "ste-ingester";
  NatsClient nats(nats_settings);
  if (jetstream) {
    retry_jetstream_setup([&] {
      nats.ensure_stream(kSensorsStream);
      nats.ensure_stream(kBatchesStream);
      nats.ensure_stream(kDeadStream);
      nats.ensure_pull_consumer(kIngesterConsumer);
    });
  }

  const int max_inflight =
      cfg.max_inflight_readings > 0 ? cfg.max_inflight_readings : 4 * cfg.batch_size;
  InflightGate inflight(max_inflight);
  BatchBuffer buffer(static_cast<size_t>(cfg.batch_size), Millis{cfg.batch_interval_ms}, clock);
  BatchFlusher flusher(clock, cfg.common.database_url, nats, buffer, inflight, metrics, jetstream,
                       cfg.write_method, cfg.common.redelivery);
  flusher.start(cfg.writers);

  LookupDb lookup_db(cfg.common.database_url);
  TenantResolver tenants(
      clock, [&lookup_db](const std::string& slug) -> std::optional<std::int64_t> {
        auto r = lookup_db.get().exec("SELECT id FROM tenants WHERE slug = $1", {slug});
        if (r.rows() == 0) return std::nullopt;
        return r.int64(0, 0);
      });
  DeviceRegistry devices(
      clock,
      [&lookup_db](std::int64_t tenant, const std::string& key) -> std::optional<std::int64_t> {
        auto r =
            lookup_db.get().exec("SELECT id FROM devices WHERE tenant_id = $1 AND device_key = $2",
                                 {std::to_string(tenant), key});
        if (r.rows() == 0) return std::nullopt;
        return r.int64(0, 0);
      },
      [&lookup_db](std::int64_t tenant, const std::string& key) {
        auto r = lookup_db.get().exec(
            "INSERT INTO devices (tenant_id, device_key) VALUES ($1, $2) "
            "ON CONFLICT (tenant_id, device_key) DO UPDATE SET device_key = EXCLUDED.device_key "
            "RETURNING id",
            {std::to_string(tenant), key});
        log::info("device registered", {{"tenant_id", tenant}, {"device", key}});
        return r.int64(0, 0);
      },
      cfg.max_new_devices_per_minute, std::chrono::seconds{cfg.new_device_window_seconds});
  RejectLog reject_log;
  MessageIntake intake(IntakeDeps{clock, nats, tenants, devices, buffer, inflight, metrics,
                                  reject_log, std::chrono::hours{24} * cfg.retention_days,
                                  jetstream, parse_limits(cfg), deferral_policy(cfg)});

  // The probe answers within its deadline even when PostgreSQL is frozen (a writer waiting on it
  // only fails after the statement timeout).
  DbProbe db_probe(cfg.common.database_url);
  db_probe.start();
  ServiceHttp http(cfg.http_addr, registry, [&]() -> std::string {
    if (!nats.connected()) return "nats not connected";
    if (auto problem = db_probe.problem(); !problem.empty()) return problem;
    if (!flusher.database_ok()) return "database writes failing";
    return {};
  });
  http.start();

  std::atomic<bool> stopping{false};
  std::thread consumer;
  natsSubscription* sub = nullptr;
  CoreSubscriptionContext core_ctx{&intake, &flusher, &inflight};
  if (jetstream) {
    sub = nats.pull_subscribe(kIngesterConsumer, kSensorsStream.subject);
    consumer =
        std::thread([&] { fetch_loop(sub, cfg.fetch_size, intake, flusher, inflight, stopping); });
  } else {
    nats_check(natsConnection_QueueSubscribe(&sub, nats.conn(), kSensorsStream.subject.c_str(),
                                             "ste-ingester", on_core_message, &core_ctx),
               "subscribe sensors.>");
    natsSubscription_SetPendingLimits(sub, 1'000'000, 512 * 1024 * 1024);
    // At-most-once: the server must know the subscription before we call ourselves started.
    nats.flush(std::chrono::milliseconds{5000});
  }

  EventLoop loop;
  loop.on_shutdown_signal([&](int sig) {
    log::info("shutting down", {{"signal", sig}});
    notify_stopping();
    stopping = true;
    loop.stop();
  });
  const auto tick = Millis{std::clamp(cfg.batch_interval_ms / 10, 5, 100)};
  loop.every(tick, [&] {
    flusher.kick();
    metrics.buffered_readings.Set(static_cast<double>(buffer.size()));
    metrics.inflight_readings.Set(static_cast<double>(inflight.count()));
  });
  loop.every(std::chrono::duration_cast<Millis>(kPartitionUpkeepEvery), [&] {
    loop.off_loop(kPartitionSlot, [&] {
      PgConnection db(cfg.common.database_url);
      const auto p = keeper.run(db, SysClock::now());
      log::info("partition upkeep", {{"created", p.create.size()}, {"dropped", p.drop.size()}});
    });
  });
  if (jetstream) {
    // Consumer lag also while nothing arrives (the per-message metadata only updates on traffic).
    loop.every(kConsumerLagEvery, [&] {
      loop.off_loop(kConsumerLagSlot, [&] {
        jsConsumerInfo* ci = nullptr;
        if (js_GetConsumerInfo(&ci, nats.js(), kIngesterConsumer.stream.c_str(),
                               kIngesterConsumer.durable.c_str(), nullptr, nullptr) == NATS_OK &&
            ci) {
          metrics.consumer_pending.Set(static_cast<double>(ci->NumPending));
          jsConsumerInfo_Destroy(ci);
        }
      });
    });
  }
  start_watchdog(loop);
  notify_ready();
  log::info("ingester started", {{"mode", jetstream ? "jetstream" : "core"},
                                 {"batch_size", cfg.batch_size},
                                 {"batch_interval_ms", cfg.batch_interval_ms},
                                 {"writers", cfg.writers},
                                 {"write_method", std::string(write_method_name(cfg.write_method))},
                                 {"max_inflight_readings", max_inflight}});
  loop.run();

  // Graceful stop: no new work, then flush, publish and ack what we hold.
  if (jetstream) {
    consumer.join();
  } else {
    natsSubscription_Unsubscribe(sub);
  }
  flusher.stop();
  natsSubscription_Destroy(sub);
  try {
    nats.flush(std::chrono::milliseconds{2000});
  } catch (const NatsError& e) {
    log::warn("final nats flush failed", {{"error", e.what()}});
  }
  http.stop();
  db_probe.stop();
  log::info("ingester stopped");
  return 0;
}

}  // namespace ste::ingest
