#include "ingester/ingester_service.hpp"

#include <algorithm>

#include "common/db_probe.hpp"
#include "common/dead_letter.hpp"
#include "common/log.hpp"
#include "common/message_consumer.hpp"
#include "common/message_settler.hpp"
#include "common/schema_migrator.hpp"
#include "common/service_http.hpp"
#include "common/service_runtime.hpp"
#include "ingester/batch_flusher.hpp"
#include "ingester/directory_lookups.hpp"
#include "ingester/message_intake.hpp"
#include "ingester/partition_keeper.hpp"
#include "ingester/pg_batch_store.hpp"
#include "ingester/purge_probe.hpp"
#include "ingester/stream_trimmer.hpp"

namespace ste::ingest {

namespace {

constexpr auto kPartitionUpkeepEvery = std::chrono::hours{1};
constexpr int kPartitionSlot = 1;
constexpr int kConsumerLagSlot = 2;
constexpr auto kConsumerLagEvery = std::chrono::seconds{5};
constexpr int kTrimSlot = 3;
constexpr std::int64_t kFetchMaxBytes = std::int64_t{4} << 20;
const ConsumerSpec kIngesterConsumer{"SENSORS", kIngesterDurable, std::chrono::seconds{30}, 65536};

/// Start-up checks (a clear message and exit 1 rather than running half-configured): the schema
/// is current and this month's partitions exist.
void prepare_database(const std::string& url, PartitionKeeper& keeper, const Clock& clock) {
  auto db = connect_with_patience(url);
  require_schema(*db);
  const auto plan = keeper.run(*db, clock.now());
  log::info("partitions ready", {{"created", plan.create.size()}, {"dropped", plan.drop.size()}});
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

/// Where readings come from: the SENSORS durable consumer, or (core mode) a queue subscription
/// whose cnats buffer absorbs bursts while the in-flight gate is full.
ConsumerOptions sensor_source(const IngesterConfig& cfg, bool jetstream, std::int64_t max_payload) {
  ConsumerOptions o;
  o.name = "sensors";
  o.jetstream = jetstream;
  o.consumer = kIngesterConsumer;
  o.subject = kSensorsStream.subject;
  o.queue = "ste-ingester";
  o.fetch_size = cfg.fetch_size;
  o.fetch_style = cfg.fetch_style;
  // A filling fetch waits this long at most: a trickle reaches the buffer within 100 ms.
  if (o.fetch_style == FetchStyle::fill) o.fetch_wait = Millis{100};
  // One fetch adds at most this much to what the in-flight bound already holds (docs/limits.md);
  // above the server's largest message, so every message can be fetched.
  o.fetch_max_bytes = std::max<std::int64_t>(kFetchMaxBytes, 2 * max_payload);
  o.core_pending_messages = 1'000'000;
  o.core_pending_bytes = std::int64_t{512} * 1024 * 1024;
  o.redelivery = cfg.common.redelivery;
  return o;
}

/// Every trim interval on limits retention: purge what every consumer of SENSORS has acked.
void schedule_trim(EventLoop& loop, std::chrono::seconds every, StreamTrimmer& trimmer,
                   IngestMetrics& metrics, LogThrottle& failures) {
  loop.every(std::chrono::duration_cast<Millis>(every), [&] {
    loop.off_loop(kTrimSlot, [&] {
      try {
        metrics.stream_trimmed.Increment(static_cast<double>(trimmer.run_once()));
      } catch (const std::exception& e) {
        metrics.trim_failures.Increment();
        if (auto refused = failures.admit(MonoClock::now())) {
          log::warn("trimming the SENSORS stream failed; it grows until a trim succeeds",
                    {{"error", e.what()}, {"failures_not_logged", *refused}});
        }
      }
    });
  });
}

/// The loop's timers: the batch-interval kick (and the buffer gauges), hourly partition upkeep,
/// and the consumer lag while nothing arrives (the per-message metadata only updates on traffic).
void schedule_upkeep(EventLoop& loop, const IngesterConfig& cfg, const Clock& clock,
                     BatchFlusher& flusher, BatchBuffer& buffer, InflightGate& inflight,
                     PartitionKeeper& keeper, MessageConsumer& consumer, IngestMetrics& metrics,
                     bool jetstream) {
  loop.every(Millis{std::clamp(cfg.batch_interval_ms / 10, 5, 100)}, [&] {
    flusher.kick();
    metrics.buffered_readings.Set(static_cast<double>(buffer.size()));
    metrics.inflight_readings.Set(static_cast<double>(inflight.count()));
  });
  loop.every(std::chrono::duration_cast<Millis>(kPartitionUpkeepEvery), [&] {
    loop.off_loop(kPartitionSlot, [&] {
      PgConnection db(cfg.common.database_url);
      const auto p = keeper.run(db, clock.now());
      log::info("partition upkeep", {{"created", p.create.size()}, {"dropped", p.drop.size()}});
    });
  });
  if (jetstream) {
    loop.every(kConsumerLagEvery, [&] {
      loop.off_loop(kConsumerLagSlot, [&] {
        if (auto pending = consumer.pending()) {
          metrics.consumer_pending.Set(static_cast<double>(*pending));
        }
      });
    });
  }
}

/// What SENSORS ended up as: its retention, and whether the trimmer runs (limits retention where
/// the server's purge is safe: acks delete nothing, the trimmer does).
struct SensorsSetup {
  StreamRetention retention = StreamRetention::work_queue;
  bool trim = false;
};

/// The streams and the durable consumer. SENSORS gets the retention the operator asked for where
/// that is safe on this server (ingester/sensors_retention.hpp); an existing stream keeps its own.
SensorsSetup setup_sensors(NatsClient& nats, RetentionRequest request) {
  PurgeSafety safety;
  if (request == RetentionRequest::automatic &&
      nats.retention_of(kSensorsStream.name) == StreamRetention::work_queue) {
    // The usual restart: a work queue stays one and is never trimmed, so nothing to find out.
    safety.detail = "not probed: SENSORS exists as a work queue";
  } else if (request != RetentionRequest::work_queue) {
    safety = probe_purge_safety(nats);
  }
  const RetentionDecision decision = decide_sensors_retention(request, safety);
  if (!decision.error.empty()) throw std::runtime_error(decision.error);
  StreamSpec sensors = kSensorsStream;
  sensors.retention = decision.create_with;
  const StreamRetention has =
      setup_jetstream(nats, {sensors, kBatchesStream, kDeadStream}, kIngesterConsumer)[0];
  const bool trim = should_trim(has, safety);
  if (has == StreamRetention::limits && !trim) {
    log::error(
        "SENSORS has limits retention but is not trimmed: this nats-server's purge drops "
        "unacked deliveries, so trimming would lose readings. The stream grows until "
        "nats-server is upgraded (2.9.15 or later) or SENSORS is recreated as a work queue",
        {{"probe", safety.detail},
         {"how_to_change", "docs/operations.md: The SENSORS stream's retention"}});
  } else if (request != RetentionRequest::work_queue) {
    log::info("sensors retention chosen",
              {{"requested", std::string(retention_request_name(request))},
               {"retention", std::string(retention_name(has))},
               {"purge_keeps_unacked", safety.keeps_unacked},
               {"probe", safety.detail}});
  }
  return {has, trim};
}

}  // namespace

int run_ingester(const IngesterConfig& cfg) {
  ServiceRuntime runtime("ingester");
  const bool jetstream = cfg.mode == NatsMode::jetstream;
  SystemClock clock;
  auto registry = std::make_shared<prometheus::Registry>();
  IngestMetrics metrics(*registry);
  PartitionKeeper keeper(cfg.retention_days);
  prepare_database(cfg.common.database_url, keeper, clock);

  auto nats = connect_nats(cfg.common.nats, "ste-ingester");
  SensorsSetup sensors;  // core mode: no stream at all
  if (jetstream) sensors = setup_sensors(*nats, cfg.sensors_retention);
  auto settler = make_settler(jetstream, *nats, kSensorsStream.name);

  // The path of a reading: intake (consumer thread) -> buffer -> flusher (writer threads).
  const int max_inflight =
      cfg.max_inflight_readings > 0 ? cfg.max_inflight_readings : 4 * cfg.batch_size;
  InflightGate inflight(max_inflight);
  BatchBuffer buffer(static_cast<size_t>(cfg.batch_size), Millis{cfg.batch_interval_ms}, clock);
  BatchFlusher flusher(clock, pg_batch_store_factory(cfg.common.database_url, cfg.write_method),
                       *nats, *settler, buffer, inflight, metrics,
                       BatchCommit::Options{jetstream, cfg.common.redelivery, {}});
  flusher.start(cfg.writers);
  LookupDb lookup_db(cfg.common.database_url);
  TenantResolver tenants(clock, tenant_lookup(lookup_db));
  DeviceRegistry devices(clock, device_find(lookup_db), device_create(lookup_db),
                         cfg.max_new_devices_per_minute,
                         std::chrono::seconds{cfg.new_device_window_seconds});
  RejectLog reject_log;
  MessageIntake intake(IntakeDeps{clock, *nats, *settler, tenants, devices, buffer, inflight,
                                  metrics, reject_log, std::chrono::hours{24} * cfg.retention_days,
                                  jetstream, parse_limits(cfg), deferral_policy(cfg)});
  MessageConsumer::Hooks hooks;
  hooks.room = [&](Millis wait) { return inflight.wait_for_room(wait); };  // back-pressure
  MessageConsumer consumer(
      *nats, *settler, sensor_source(cfg, jetstream, nats->max_payload()),
      [&](natsMsg* m) {
        if (intake.handle(m)) flusher.kick();
      },
      hooks);

  // The probe answers within its deadline even when PostgreSQL is frozen (a writer waiting on it
  // only fails after the statement timeout).
  DbProbe db_probe(cfg.common.database_url);
  db_probe.start();
  ServiceHttp http(cfg.http_addr, registry, [&]() -> std::string {
    if (!nats->connected()) return "nats not connected";
    if (auto problem = db_probe.problem(); !problem.empty()) return problem;
    if (!flusher.database_ok()) return "database writes failing";
    return {};
  });
  http.start();
  consumer.start();

  // Graceful stop, in this order: no new messages; write, summarise and ack what is held; send
  // what cnats buffered; close the subscriptions (the acks went through them); then the HTTP
  // endpoints and the probe.
  runtime.on_stop("probe", [&] { db_probe.stop(); });
  runtime.on_stop("http", [&] { http.stop(); });
  runtime.on_stop("subscriptions", [&] { consumer.close(); });
  runtime.on_stop("nats flush", [&] { nats->flush(std::chrono::milliseconds{2000}); });
  runtime.on_stop("writers", [&] { flusher.stop(); });
  runtime.on_stop("consumer", [&] { consumer.stop(); });

  schedule_upkeep(runtime.loop(), cfg, clock, flusher, buffer, inflight, keeper, consumer, metrics,
                  jetstream);
  StreamTrimmer trimmer(*nats, kSensorsStream.name);
  LogThrottle trim_log(std::chrono::minutes{1});
  if (sensors.trim) {
    schedule_trim(runtime.loop(), std::chrono::seconds{cfg.trim_interval_seconds}, trimmer, metrics,
                  trim_log);
  }
  return runtime.run(
      {{"mode", jetstream ? "jetstream" : "core"},
       {"sensors_retention", jetstream ? std::string(retention_name(sensors.retention)) : "none"},
       {"sensors_trimmed", sensors.trim},
       {"batch_size", cfg.batch_size},
       {"batch_interval_ms", cfg.batch_interval_ms},
       {"writers", cfg.writers},
       {"write_method", std::string(write_method_name(cfg.write_method))},
       {"max_inflight_readings", max_inflight}});
}

}  // namespace ste::ingest
