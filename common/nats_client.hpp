#pragma once
/// Thin adapter over one cnats connection and its JetStream context: connect (URL list,
/// user/password or creds file, endless reconnect), idempotent stream and durable-consumer setup,
/// core and JetStream publish. Failures throw NatsError. cnats connections are thread-safe; this
/// class adds no state of its own after construction.
#include <nats/nats.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "common/publisher.hpp"

namespace ste {

class NatsError : public std::runtime_error {
 public:
  NatsError(const std::string& what, natsStatus status)
      : std::runtime_error(what), status_(status) {}
  natsStatus status() const { return status_; }

 private:
  natsStatus status_;
};

struct NatsSettings {
  std::string urls = "nats://127.0.0.1:4222";  ///< comma-separated
  std::string user;
  std::string password;
  std::string creds_file;
  std::string name;                                  ///< client name shown by the server
  std::chrono::milliseconds connect_timeout{15000};  ///< how long start-up keeps retrying
  int stream_replicas = 1;  ///< replicas of the streams this client creates (3 on a cluster)
};

/// How a stream keeps messages: until the shared durable consumer acks them (work queue), or
/// until an age or size limit drops the oldest, or a purge removes them (limits: the dead letters,
/// which nothing consumes; SENSORS where the ingester may trim it, ingester/sensors_retention.hpp).
enum class StreamRetention { work_queue, limits };
std::string_view retention_name(StreamRetention r);
/// "limits" or "work-queue" (also "work_queue"); nullopt for anything else.
std::optional<StreamRetention> parse_retention(std::string_view s);

/// Where a stream stands: what the ingester's trim decision needs (ingester/stream_trimmer.hpp).
struct StreamPosition {
  std::uint64_t first_seq = 0;            ///< the oldest message stored (0: the stream is empty)
  std::uint64_t last_seq = 0;             ///< the newest message stored
  std::vector<std::uint64_t> ack_floors;  ///< per consumer: every sequence ≤ this is acked
};

/// The JetStream objects the product uses (docs/DESIGN.md §2).
struct StreamSpec {
  std::string name;
  std::string subject;
  StreamRetention retention = StreamRetention::work_queue;
  std::chrono::seconds max_age{0};  ///< limits retention: 0 = no age limit
  std::int64_t max_bytes = -1;      ///< limits retention: -1 = no size limit
};
/// SENSORS as anything but the ingester creates it (the load generator, tests): a work queue, safe
/// on every server. The ingester chooses limits retention where trimming is safe
/// (ingester/sensors_retention.hpp).
inline const StreamSpec kSensorsStream{"SENSORS", "sensors.>", StreamRetention::work_queue};
inline const StreamSpec kBatchesStream{"STE_BATCHES", "ste.batches.flushed"};
inline constexpr const char* kBatchesSubject = "ste.batches.flushed";
/// The ingester's durable consumer on SENSORS (shared by every ingester instance).
inline constexpr const char* kIngesterDurable = "ste-ingester";

/// How long JetStream waits before redelivering a message a service handed back (nak) after a
/// dependency failure: long enough not to spin on a database that is away, short enough that
/// recovery is quick. cnats takes it in milliseconds.
inline constexpr std::int64_t kRedeliveryDelayMs = 1000;

struct ConsumerSpec {
  std::string stream;
  std::string durable;
  std::chrono::seconds ack_wait{30};
  std::int64_t max_ack_pending = 20000;
};

class NatsClient final : public Publisher {
 public:
  explicit NatsClient(const NatsSettings& settings);
  ~NatsClient();
  NatsClient(const NatsClient&) = delete;
  NatsClient& operator=(const NatsClient&) = delete;

  /// Creates the stream (file storage, the spec's retention) or updates it to the spec, and
  /// returns the retention it has. nats-server cannot change a stream to or from work-queue
  /// retention: an existing stream keeps the one it was created with (logged as a warning naming
  /// the way to change it, docs/operations.md), the rest of the spec is applied.
  StreamRetention ensure_stream(const StreamSpec& spec);
  /// The retention an existing stream has; nullopt when there is no such stream.
  std::optional<StreamRetention> retention_of(const std::string& stream);
  /// The stream's first and last sequence and every consumer's ack floor.
  StreamPosition stream_position(const std::string& stream);
  /// Removes every message with a sequence below `seq` from the stream.
  void purge_below(const std::string& stream, std::uint64_t seq);
  /// A durable consumer's messages not yet delivered (NumPending) and delivered but not yet
  /// acknowledged (NumAckPending); nullopt when the stream or consumer does not exist or the
  /// server does not answer within 2 s.
  struct ConsumerCounts {
    std::uint64_t pending = 0;
    std::uint64_t ack_pending = 0;
  };
  std::optional<ConsumerCounts> consumer_counts(const std::string& stream,
                                                const std::string& durable);
  /// Creates or updates a durable pull consumer with explicit acks.
  void ensure_pull_consumer(const ConsumerSpec& spec);
  /// Binds a pull subscription to an existing durable consumer. Caller owns the result.
  natsSubscription* pull_subscribe(const ConsumerSpec& spec, const std::string& filter);

  /// Core publish (fire and forget, buffered by cnats).
  void publish(const std::string& subject, std::string_view data) override;
  /// JetStream publish that waits for the stream's ack: the message is durable on return.
  void js_publish(const std::string& subject, std::string_view data,
                  std::chrono::milliseconds timeout) override;
  void js_publish(const std::string& subject, std::string_view data) {
    js_publish(subject, data, std::chrono::milliseconds{5000});
  }
  std::int64_t max_payload() override;
  void flush(std::chrono::milliseconds timeout);

  bool connected() const;
  natsConnection* conn() { return conn_; }
  jsCtx* js() { return js_; }

 private:
  int stream_replicas_ = 1;
  natsConnection* conn_ = nullptr;
  jsCtx* js_ = nullptr;
};

/// Throws NatsError with cnats' last error text when `s` is not NATS_OK.
void nats_check(natsStatus s, std::string_view what);

/// Runs `setup` (creating streams and consumers) until it succeeds or `patience` has passed,
/// logging each failure: a JetStream cluster that is still electing its meta leader, or a server
/// busy catching up after a restart, answers API calls with time-outs for a while, and a service
/// started beside it should wait rather than exit. Rethrows the last NatsError after `patience`.
void retry_jetstream_setup(const std::function<void()>& setup,
                           std::chrono::seconds patience = std::chrono::seconds{120});

}  // namespace ste
