#pragma once
/// A real pipeline for integration tests: a fresh nats-server (JetStream, file storage), a fresh
/// PostgreSQL database (shared server via STE_TEST_PG_URL_BASE, or an own PgServer when the test
/// must stop it), the schema migrated and a tenant created with the real ste-admin, and the real
/// ste-ingester binary started as a child process. Publishing goes through cnats.
#include <fmt/format.h>
#include <httplib.h>
#include <simdjson.h>

#include <catch2/catch.hpp>
#include <map>
#include <memory>
#include <sstream>
#include <string>

#include "common/json_writer.hpp"
#include "common/nats_client.hpp"
#include "common/time_format.hpp"
#include "tests/support/test_servers.hpp"

namespace ste::test {

/// The last `n` characters of a log, for failure messages.
inline std::string log_tail(const std::string& path, size_t n = 6000) {
  const std::string s = read_file(path);
  return s.substr(s.size() > n ? s.size() - n : 0);
}

struct HttpAnswer {
  int status = -1;  ///< -1: no answer
  std::string body;
};

/// GET on 127.0.0.1:`port`; `read_timeout_s` bounds the wait for the answer.
inline HttpAnswer http_get(int port, const std::string& path, const httplib::Headers& headers = {},
                           int read_timeout_s = 10) {
  httplib::Client c("127.0.0.1", port);
  c.set_connection_timeout(2);
  c.set_read_timeout(read_timeout_s);
  auto res = c.Get(path, headers);
  if (!res) return {};
  return {res->status, res->body};
}

inline std::string run_admin(const std::string& db_url, const std::vector<std::string>& args,
                             const std::string& log_path) {
  std::vector<std::string> argv{STE_ADMIN_BIN};
  argv.insert(argv.end(), args.begin(), args.end());
  argv.push_back("--database-url=" + db_url);
  const int rc = run_command(argv, log_path, std::chrono::seconds{60});
  INFO(read_file(log_path));
  REQUIRE(rc == 0);
  return read_file(log_path);
}

struct Pipeline {
  /// `own_pg`: start a private PostgreSQL server (for tests that stop it).
  explicit Pipeline(bool own_pg = false) {
    if (own_pg) {
      pg = std::make_unique<PgServer>();
      db_url = pg->create_database("ste");
    } else {
      db_url = fresh_database_url();
    }
    run_admin(db_url, {"migrate", "--schema-dir", STE_SCHEMA_DIR}, logs.path() + "/migrate.log");
    api_key = create_tenant(tenant);
    tenant_id = std::stoll(query_scalar(db_url, "SELECT id FROM tenants WHERE slug = 'acme'"));
    NatsSettings s;
    s.urls = nats.url();
    client = std::make_unique<NatsClient>(s);
  }

  /// Creates a tenant with the real ste-admin; returns its API key (printed once).
  std::string create_tenant(const std::string& slug) {
    const std::string out =
        run_admin(db_url, {"tenant", "create", slug}, logs.path() + "/tenant-" + slug + ".log");
    const auto at = out.find("\"api_key\":\"");
    REQUIRE(at != std::string::npos);
    const auto start = at + 11;
    return out.substr(start, out.find('"', start) - start);
  }

  Process::Env ingester_env(const Process::Env& extra = {}) const {
    Process::Env env{{"STE_NATS_URL", nats.url()},
                     {"STE_DATABASE_URL", db_url},
                     {"STE_HTTP_ADDR", fmt::format("127.0.0.1:{}", ingester_port)},
                     {"STE_BATCH_SIZE", "500"},
                     {"STE_BATCH_INTERVAL_MS", "100"},
                     {"STE_TRIM_INTERVAL_SECONDS", "1"},
                     {"STE_LOG_LEVEL", "info"}};
    for (const auto& [k, v] : extra) env[k] = v;
    return env;
  }

  /// Starts (or restarts) the ingester and waits until it consumes.
  void start_ingester(const Process::Env& extra = {}) {
    ++ingester_runs;
    ingester = std::make_unique<Process>(std::vector<std::string>{STE_INGESTER_BIN}, ingester_log(),
                                         ingester_env(extra));
    const bool up = eventually(
        [&] {
          return read_file(ingester_log()).find("\"ingester started\"") != std::string::npos ||
                 !ingester->running();
        },
        std::chrono::seconds{30});
    INFO(read_file(ingester_log()));
    REQUIRE(up);
    REQUIRE(ingester->running());
  }

  /// Starts an evaluator instance `name` (its own HTTP port) and waits until it consumes.
  void start_evaluator(const std::string& name, const Process::Env& extra = {}) {
    auto& e = evaluators[name];
    if (e.port == 0) e.port = free_tcp_port();
    ++e.runs;
    e.log = fmt::format("{}/evaluator-{}-{}.log", logs.path(), name, e.runs);
    Process::Env env{{"STE_NATS_URL", nats.url()},
                     {"STE_DATABASE_URL", db_url},
                     {"STE_HTTP_ADDR", fmt::format("127.0.0.1:{}", e.port)},
                     {"STE_DB_POOL_SIZE", "4"},
                     // Tests poll the API faster than a client should; the rate limit has its
                     // own test (security_test) with explicit settings.
                     {"STE_API_RATE_PER_SECOND", "0"},
                     // Test receivers listen on 127.0.0.1; the address guard has its own test.
                     {"STE_ALLOW_PRIVATE_TENANT_WEBHOOKS", "true"},
                     {"STE_LOG_LEVEL", "info"}};
    for (const auto& [k, v] : extra) env[k] = v;
    e.proc = std::make_unique<Process>(std::vector<std::string>{STE_EVALUATOR_BIN}, e.log, env);
    const bool up = eventually(
        [&] {
          return read_file(e.log).find("\"evaluator started\"") != std::string::npos ||
                 !e.proc->running();
        },
        std::chrono::seconds{30});
    INFO(read_file(e.log));
    REQUIRE(up);
    REQUIRE(e.proc->running());
  }

  /// A counter or gauge from a service's /metrics (0 when absent).
  static double metric(int port, const std::string& name) {
    httplib::Client c("127.0.0.1", port);
    c.set_connection_timeout(2);
    auto res = c.Get("/metrics");
    if (!res || res->status != 200) return -1;
    std::istringstream in(res->body);
    std::string line;
    while (std::getline(in, line)) {
      if (line.rfind(name + " ", 0) == 0) return std::stod(line.substr(name.size() + 1));
    }
    return 0;
  }
  double evaluator_metric(const std::string& evaluator, const std::string& name) {
    return metric(evaluators.at(evaluator).port, name);
  }

  /// Inserts a rule with plain SQL (the evaluator hears about it through NOTIFY); returns its id.
  std::string add_rule(const std::string& condition, double threshold,
                       const std::string& metric_name, int cooldown_minutes = 15,
                       int window_minutes = 60, const std::string& device_key = "") {
    return query_scalar(
        db_url,
        fmt::format(
            "INSERT INTO alert_rules (tenant_id, name, metric, device_key, condition, threshold, "
            "window_minutes, cooldown_minutes, severity) VALUES ({}, 'r', '{}', {}, '{}', {}, {}, "
            "{}, "
            "'critical') RETURNING id",
            tenant_id, metric_name, device_key.empty() ? "NULL" : "'" + device_key + "'", condition,
            threshold, window_minutes, cooldown_minutes));
  }

  long long alerts() const { return query_count(db_url, "SELECT count(*) FROM alerts"); }

  std::string ingester_log() const {
    return fmt::format("{}/ingester-{}.log", logs.path(), ingester_runs);
  }

  /// JetStream-publishes one message and waits for the stream's ack.
  void publish(const std::string& subject, const std::string& payload) {
    client->ensure_stream(kSensorsStream);
    client->js_publish(subject, payload);
  }

  /// Messages currently stored in a stream (work-queue streams drop acked messages; on a limits
  /// SENSORS where trimming is safe the ingester trims below the ack floors, every second here).
  long long stream_messages(const std::string& stream) {
    jsStreamInfo* info = nullptr;
    if (js_GetStreamInfo(&info, client->js(), stream.c_str(), nullptr, nullptr) != NATS_OK)
      return -1;
    const auto n = static_cast<long long>(info->State.Msgs);
    jsStreamInfo_Destroy(info);
    return n;
  }

  long long rows() const { return query_count(db_url, "SELECT count(*) FROM readings"); }
  long long rollup_total() const {
    return std::stoll(query_scalar(db_url, "SELECT coalesce(sum(n), 0) FROM readings_1m"));
  }

  /// Waits until `readings` has `expected` rows, then requires exactly that many and a rollup that
  /// counts each once; the ingester's log tail explains a failure.
  void require_stored_exactly(long long expected, std::chrono::milliseconds within) {
    const bool all_stored = wait_rows(expected, within);
    INFO(log_tail(ingester_log()));
    INFO("rows " << rows() << " of " << expected);
    REQUIRE(all_stored);
    CHECK(rows() == expected);
    CHECK(rollup_total() == expected);
  }

  /// Waits until `readings` has `n` rows (and stays there: a short settle checks no extra rows).
  bool wait_rows(long long n, std::chrono::milliseconds timeout = std::chrono::seconds{60}) {
    return eventually([&] { return rows() >= n; }, timeout, std::chrono::milliseconds{50});
  }

  TempDir logs{"ste-it-logs-"};
  NatsServer nats;
  std::unique_ptr<PgServer> pg;
  std::string db_url;
  std::string tenant = "acme";
  std::string api_key;
  long long tenant_id = 0;
  int ingester_port = free_tcp_port();
  int ingester_runs = 0;
  std::unique_ptr<NatsClient> client;
  std::unique_ptr<Process> ingester;
  struct Evaluator {
    int port = 0;
    int runs = 0;
    std::string log;
    std::unique_ptr<Process> proc;
  };
  std::map<std::string, Evaluator> evaluators;
};

/// One reading as JSON with an explicit timestamp.
inline std::string reading_json(const std::string& metric, double value, TimePoint ts) {
  JsonWriter w;
  w.begin_object().field("metric", metric).field("value", value).field("ts", format_rfc3339_ms(ts));
  w.end_object();
  return w.take();
}

/// One reading stamped now (+ offset), at millisecond precision like a device would send it.
inline std::string now_reading(const std::string& metric, double value,
                               std::chrono::milliseconds offset = std::chrono::milliseconds{0}) {
  return reading_json(
      metric, value,
      std::chrono::time_point_cast<std::chrono::milliseconds>(SysClock::now()) + offset);
}

/// A base time a few minutes in the past, whole seconds, so tests get distinct, valid timestamps.
inline TimePoint test_base_time() {
  return std::chrono::time_point_cast<std::chrono::seconds>(SysClock::now() -
                                                            std::chrono::minutes{10});
}

}  // namespace ste::test
