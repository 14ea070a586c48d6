#include "common/settings.hpp"

#include <fmt/format.h>

#include <charconv>
#include <map>
#include <stdexcept>

namespace ste {

void add_common_options(CLI::App& app, CommonSettings& s) {
  app.add_option("--nats-url", s.nats.urls, "NATS server URL(s), comma-separated for a cluster")
      ->envname("STE_NATS_URL")
      ->capture_default_str();
  app.add_option("--nats-user", s.nats.user, "NATS user name")->envname("STE_NATS_USER");
  app.add_option("--nats-password", s.nats.password, "NATS password")->envname("STE_NATS_PASSWORD");
  app.add_option("--nats-creds", s.nats.creds_file, "NATS credentials file (JWT + NKey)")
      ->envname("STE_NATS_CREDS");
  app.add_option("--stream-replicas", s.nats.stream_replicas,
                 "Replicas of the JetStream streams the service creates (3 on a 3-node cluster)")
      ->envname("STE_STREAM_REPLICAS")
      ->check(CLI::Range(1, 5))
      ->capture_default_str();
  app.add_option("--database-url", s.database_url, "PostgreSQL conninfo or URI")
      ->envname("STE_DATABASE_URL")
      ->capture_default_str();
  app.add_option("--db-connect-timeout-s", s.db_connect_timeout_s,
                 "Seconds a PostgreSQL connection attempt may take")
      ->envname("STE_DB_CONNECT_TIMEOUT_S")
      ->check(CLI::Range(2, 300))
      ->capture_default_str();
  app.add_option("--db-statement-timeout-ms", s.db_statement_timeout_ms,
                 "Longest a database statement may run (server statement_timeout; the client "
                 "drops the connection 5 s later if the server does not answer; 0 = no limit)")
      ->envname("STE_DB_STATEMENT_TIMEOUT_MS")
      ->check(CLI::Range(0, 86'400'000))
      ->capture_default_str();
  app.add_option("--db-idle-in-transaction-timeout-ms", s.db_idle_in_transaction_timeout_ms,
                 "The server ends a session idle inside a transaction this long (0 = no limit)")
      ->envname("STE_DB_IDLE_IN_TRANSACTION_TIMEOUT_MS")
      ->check(CLI::Range(0, 86'400'000))
      ->capture_default_str();
  app.parse_complete_callback([&s] { set_default_pg_timeouts(pg_timeouts(s)); });
  app.add_option("--log-format", s.log_format, "json or text")
      ->envname("STE_LOG_FORMAT")
      ->check(CLI::IsMember({"json", "text"}))
      ->capture_default_str();
  app.add_option("--log-level", s.log_level, "debug, info, warn or error")
      ->envname("STE_LOG_LEVEL")
      ->check(CLI::IsMember({"debug", "info", "warn", "error"}))
      ->capture_default_str();
}

PgTimeouts pg_timeouts(const CommonSettings& s) {
  PgTimeouts t;
  t.connect = std::chrono::seconds{s.db_connect_timeout_s};
  t.statement = std::chrono::milliseconds{s.db_statement_timeout_ms};
  t.idle_in_transaction = std::chrono::milliseconds{s.db_idle_in_transaction_timeout_ms};
  return t;
}

void add_http_option(CLI::App& app, std::string& addr) {
  app.add_option("--http-addr", addr, "host:port for /healthz, /readyz, /metrics (and the API)")
      ->envname("STE_HTTP_ADDR")
      ->capture_default_str();
}

void add_nats_mode_option(CLI::App& app, NatsMode& mode) {
  static const std::map<std::string, NatsMode> kModes{{"jetstream", NatsMode::jetstream},
                                                      {"core", NatsMode::core}};
  app.add_option("--nats-mode", mode, "jetstream (at-least-once) or core (at-most-once)")
      ->envname("STE_NATS_MODE")
      ->transform(CLI::CheckedTransformer(kModes, CLI::ignore_case))
      ->default_str("jetstream");
}

void add_redelivery_option(CLI::App& app, RedeliveryPolicy& policy) {
  app.add_option("--max-deliveries", policy.max_deliveries,
                 "Deliveries of a message that keeps failing for its own reasons (not a database "
                 "outage) before it is dead-lettered on ste.dead.<stream>")
      ->envname("STE_MAX_DELIVERIES")
      ->check(CLI::Range(1, 100))
      ->capture_default_str();
}

std::pair<std::string, int> parse_host_port(const std::string& addr, const std::string& setting) {
  const auto colon = addr.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == addr.size()) {
    throw std::invalid_argument(fmt::format("{} must be host:port, got '{}'", setting, addr));
  }
  int port = 0;
  const char* b = addr.data() + colon + 1;
  const char* e = addr.data() + addr.size();
  auto [p, ec] = std::from_chars(b, e, port);
  if (ec != std::errc{} || p != e || port < 0 || port > 65535) {
    throw std::invalid_argument(fmt::format("{} has an invalid port in '{}'", setting, addr));
  }
  std::string host = addr.substr(0, colon);
  if (host.size() > 2 && host.front() == '[' && host.back() == ']')
    host = host.substr(1, host.size() - 2);
  return {host, port};
}

}  // namespace ste
