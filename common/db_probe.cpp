#include "common/db_probe.hpp"

#include <fmt/format.h>

#include <memory>

#include "common/pg_connection.hpp"

namespace ste {

std::string db_probe_verdict(const DbProbeState& state, DbProbeState::Time now,
                             const DbProbeConfig& config) {
  if (state.in_flight && now - state.in_flight_since > config.deadline) {
    return fmt::format("database does not answer within {} ms", config.deadline.count());
  }
  if (!state.last_error.empty()) return "database: " + state.last_error;
  if (!state.ever_ok) return "database not checked yet";
  // A probe thread that stopped reporting is no proof the database is fine.
  if (now - state.last_ok > 2 * (config.interval + config.deadline)) {
    return "database probe stalled";
  }
  return {};
}

DbProbe::DbProbe(std::string conninfo, DbProbeConfig config)
    : conninfo_(std::move(conninfo)), config_(config) {}

DbProbe::~DbProbe() { stop(); }

void DbProbe::start() {
  stop();
  {
    std::lock_guard lock(mu_);
    stopping_ = false;
  }
  thread_ = std::thread([this] { run(); });
}

void DbProbe::stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

std::string DbProbe::problem() const {
  std::lock_guard lock(mu_);
  return db_probe_verdict(state_, std::chrono::steady_clock::now(), config_);
}

void DbProbe::run() {
  PgTimeouts timeouts = default_pg_timeouts();
  timeouts.connect = std::chrono::seconds{2};  // libpq's smallest
  std::unique_ptr<PgConnection> db;
  for (;;) {
    {
      std::lock_guard lock(mu_);
      if (stopping_) return;
      state_.in_flight = true;
      state_.in_flight_since = std::chrono::steady_clock::now();
    }
    std::string error;
    try {
      if (!db) {
        db = std::make_unique<PgConnection>(conninfo_, timeouts);
      } else if (!db->healthy()) {
        db->reconnect();
      }
      db->exec_within("SELECT 1", config_.deadline);
    } catch (const std::exception& e) {
      error = e.what();
      if (error.empty()) error = "probe failed";
    }
    std::unique_lock lock(mu_);
    state_.in_flight = false;
    state_.last_error = error;
    if (error.empty()) {
      state_.ever_ok = true;
      state_.last_ok = std::chrono::steady_clock::now();
    }
    cv_.wait_for(lock, config_.interval, [this] { return stopping_; });
    if (stopping_) return;
  }
}

}  // namespace ste
