#pragma once
/// Settings shared by every binary. Each is an environment variable and the same-named flag
/// (`STE_NATS_URL` = `--nats-url`); CLI11 gives the flag precedence over the environment.
#include <CLI/CLI.hpp>
#include <string>

#include "common/nats_client.hpp"
#include "common/pg_connection.hpp"
#include "common/redelivery.hpp"

namespace ste {

enum class NatsMode { jetstream, core };

struct CommonSettings {
  NatsSettings nats;
  std::string database_url = "postgresql://127.0.0.1:5432/ste";
  std::string log_format = "json";
  std::string log_level = "info";
  RedeliveryPolicy redelivery;  ///< the services only: add_redelivery_option
  int db_connect_timeout_s = 5;
  int db_statement_timeout_ms = 30000;            ///< 0 = none (server and client side)
  int db_idle_in_transaction_timeout_ms = 60000;  ///< 0 = none
};

/// The database timeouts of these settings.
PgTimeouts pg_timeouts(const CommonSettings& s);

/// Options every binary has: NATS, database (with its timeouts, which become the process-wide
/// connection defaults once parsing completes: set_default_pg_timeouts), logging.
void add_common_options(CLI::App& app, CommonSettings& s);
/// `--http-addr` / STE_HTTP_ADDR with the service's own default.
void add_http_option(CLI::App& app, std::string& addr);
/// `--nats-mode` / STE_NATS_MODE (jetstream | core).
void add_nats_mode_option(CLI::App& app, NatsMode& mode);

/// `--max-deliveries` / STE_MAX_DELIVERIES: deliveries of a JetStream message that keeps failing
/// for its own reasons before it is dead-lettered (the two services).
void add_redelivery_option(CLI::App& app, RedeliveryPolicy& policy);

/// Splits "host:port"; throws std::invalid_argument naming the setting when malformed.
std::pair<std::string, int> parse_host_port(const std::string& addr, const std::string& setting);

}  // namespace ste
