#pragma once
/// StreamHub: the live side of GET /api/stream (docs/DESIGN.md §7). The NATS adapter
/// (StreamSource) hands it every committed alert transition and every summary tuple's latest
/// reading; each connection opens a StreamSubscription and gets its own tenant's events only.
///
/// - Alert events get ids "<epoch>-<seq>" (sse_frame.hpp); the last `replay_events` of them (all
///   tenants) are kept so a client reconnecting with Last-Event-ID gets what it missed. A position
///   this hub cannot serve (another instance's, before a restart, or older than what is kept)
///   answers with a `reset` event: the client reloads what it shows.
/// - Readings are throttled per device (ReadingThrottle) and only kept for tenants someone is
///   watching; each tick sends one `readings` event per tenant with the devices that changed.
///   They carry no id and are not replayed (the next one brings a device up to date).
/// - Bounded: each connection queues at most `queue_frames` frames and 8 MiB. A client that does
/// not read
///   (a stalled browser, a full socket) loses its queue and gets a `reset` instead, and nothing
///   upstream waits for it: producers only append under short locks and never block.
/// - Connections are limited in total and per API key (open() refuses beyond).
///
/// Thread-safety: every public member may be called from any thread. The hub's mutex guards the
/// subscriptions, the replay ring and the throttle; each subscription's own mutex guards its
/// queue. Lock order: hub, then subscription. No lock is held while a frame is written to a socket.
/// Lifecycle: start() runs the reading ticker; stop() (also by the destructor) ends it and wakes
/// every subscription, which then reports stopped() so its connection ends.
#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/registry.h>

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <variant>
#include <vector>

#include "common/clock.hpp"
#include "evaluator/stream/reading_throttle.hpp"

namespace ste::stream {

struct StreamLimits {
  std::size_t replay_events = 10000;  ///< STE_STREAM_REPLAY_EVENTS: alert events kept for resuming
  std::size_t queue_frames = 1000;    ///< STE_STREAM_QUEUE_FRAMES: per connection
  int max_connections = 64;           ///< STE_STREAM_MAX_CONNECTIONS: all keys together
  int max_per_key = 8;                ///< STE_STREAM_MAX_PER_KEY
  std::chrono::milliseconds reading_interval{1000};  ///< STE_STREAM_READING_INTERVAL_MS
  std::size_t max_devices = 100000;                  ///< devices the throttle tracks at once
  std::chrono::milliseconds keepalive{15000};        ///< a comment frame on an idle connection
};

using Frame = std::shared_ptr<const std::string>;

/// One connection's queue of frames. Created by StreamHub::open(), given back with close().
class StreamSubscription {
 public:
  /// The frames queued so far, waiting up to `timeout` for the first one; empty on timeout or
  /// once the hub stopped.
  std::vector<Frame> wait(std::chrono::milliseconds timeout);
  bool stopped() const;
  const std::string& tenant() const { return tenant_; }

  StreamSubscription(std::string tenant, std::string key_id, std::size_t limit)
      : tenant_(std::move(tenant)), key_id_(std::move(key_id)), limit_(limit) {}

 private:
  friend class StreamHub;
  /// Appends a frame; when the queue is full, replaces it with `reset` and returns false.
  bool push(Frame f, const Frame& reset);
  void stop();

  static constexpr std::size_t kMaxQueuedBytes = 8 << 20;

  const std::string tenant_;
  const std::string key_id_;
  const std::size_t limit_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Frame> queue_;
  std::size_t queued_bytes_ = 0;
  bool stopped_ = false;
};

class StreamHub {
 public:
  enum class Refusal { too_many_for_key, too_many };

  /// `epoch`: this hub's id prefix, [0-9a-z]{1,32}, different for every process (random_epoch()).
  StreamHub(StreamLimits limits, std::string epoch, const Clock& clock,
            prometheus::Registry& registry);
  ~StreamHub();
  StreamHub(const StreamHub&) = delete;
  StreamHub& operator=(const StreamHub&) = delete;

  void start();
  void stop();

  /// A committed alert transition of `tenant`: the alert object as JSON.
  void on_alert(const std::string& tenant, const std::string& alert_json);
  /// A device's latest reading of a metric (from a summary tuple).
  void on_reading(const std::string& tenant, const std::string& device, const std::string& metric,
                  MetricValue v);
  /// Whether anyone watches `tenant` (the adapter skips the rest).
  bool watching(const std::string& tenant) const;
  bool has_subscribers() const;

  /// A new connection of `tenant` with API key `key_id`: queued first are `ready` (and what the
  /// client missed since `last_event_id`, or `reset` when that cannot be served).
  std::variant<std::shared_ptr<StreamSubscription>, Refusal> open(const std::string& tenant,
                                                                  const std::string& key_id,
                                                                  const std::string& last_event_id);
  void close(const std::shared_ptr<StreamSubscription>& sub);

  /// Sends the throttled readings due at `now` (the ticker calls it every quarter interval).
  void flush_readings(MonoPoint now);

  const StreamLimits& limits() const { return limits_; }

  /// 16 random characters of [0-9a-z].
  static std::string random_epoch();

 private:
  struct Replayed {
    std::uint64_t seq;
    std::string tenant;
    Frame frame;
  };
  void fan_out(const std::string& tenant, const Frame& frame);  // hub lock held
  std::string position() const;                                 // hub lock held
  void ticker();

  const StreamLimits limits_;
  const std::string epoch_;
  const Clock& clock_;
  const Frame overflow_reset_;

  mutable std::mutex mu_;
  std::unordered_map<std::string, std::vector<std::shared_ptr<StreamSubscription>>> by_tenant_;
  std::unordered_map<std::string, int> per_key_;
  int connections_ = 0;
  std::deque<Replayed> ring_;
  std::uint64_t last_seq_ = 0;
  ReadingThrottle throttle_;
  bool stopping_ = false;
  std::condition_variable ticker_cv_;
  std::thread ticker_;

  prometheus::Gauge& connections_gauge_;
  prometheus::Counter& refused_for_key_;
  prometheus::Counter& refused_total_;
  prometheus::Counter& overflows_;
  prometheus::Counter& resets_unresumable_;
  prometheus::Counter& readings_dropped_;
};

}  // namespace ste::stream
