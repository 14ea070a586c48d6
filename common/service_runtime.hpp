#pragma once
/// ServiceRuntime: the start-up and shutdown sequence both binaries share. It ignores SIGPIPE (a
/// peer closing a socket must not kill the process), owns the event loop (SIGTERM/SIGINT, timers,
/// off-loop work), tells systemd READY=1 / STOPPING=1 and pings its watchdog, writes the
/// "<name> started" and "<name> stopped" log lines, and runs the graceful stop: the steps the
/// service registered with on_stop(), last registered first (like destructors: what started last
/// stops first), each behind its own error firewall so one failing step cannot skip the others.
///
/// A service builds its parts in order, registering a stop step for each, then calls run().
/// Not thread-safe: one owner thread (main).
#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "common/event_loop.hpp"
#include "common/log.hpp"
#include "common/nats_client.hpp"
#include "common/pg_connection.hpp"

namespace ste {

class ServiceRuntime {
 public:
  explicit ServiceRuntime(std::string name);
  ServiceRuntime(const ServiceRuntime&) = delete;
  ServiceRuntime& operator=(const ServiceRuntime&) = delete;

  EventLoop& loop() { return loop_; }

  /// Adds a step of the graceful stop (see the class note). `what` names it in the log when it
  /// fails.
  void on_stop(std::string what, std::function<void()> step);

  /// Blocks until SIGTERM or SIGINT: READY=1, the watchdog, "<name> started" with `started`; on
  /// the signal "shutting down", STOPPING=1, the loop ends, the stop steps run, and
  /// "<name> stopped" is logged. Returns the process exit status (0).
  int run(log::Fields started);

  /// Runs the stop steps now (also what run() does after the loop). Idempotent.
  void stop_all();

 private:
  struct Step {
    std::string what;
    std::function<void()> fn;
  };
  std::string name_;
  EventLoop loop_;
  std::vector<Step> steps_;
};

/// The service's NATS connection, named `client_name` on the server.
std::unique_ptr<NatsClient> connect_nats(const NatsSettings& settings, std::string client_name);

/// Creates or updates `streams` and the durable `consumer` (retry_jetstream_setup: a cluster
/// still electing its leader answers with time-outs for a while). Returns each stream's
/// retention as it is on the server (NatsClient::ensure_stream), in the order given.
std::vector<StreamRetention> setup_jetstream(NatsClient& nats,
                                             const std::vector<StreamSpec>& streams,
                                             const ConsumerSpec& consumer);

/// Connects to PostgreSQL, retrying every 250 ms for `patience`: under a supervisor the database
/// may come up a moment after the service. Throws the last PgError after that.
std::unique_ptr<PgConnection> connect_with_patience(
    const std::string& url, std::chrono::milliseconds patience = std::chrono::seconds{15});

}  // namespace ste
