// Fault injection with the real processes (#8): the database away under sustained load, the
// broker restarted mid-load, a flood of malformed messages, and every database connection slot
// taken by another client. Each case checks that nothing is lost or duplicated, that the services
// say what is wrong while it is wrong, and that they recover without being restarted.
#include <fmt/ranges.h>

#include <atomic>
#include <cstdlib>
#include <fstream>
#include <mutex>
#include <set>
#include <thread>

#include "common/pg_connection.hpp"
#include "tests/integration/async_publisher.hpp"
#include "tests/integration/background_publisher.hpp"
#include "tests/integration/pipeline_fixture.hpp"

using namespace ste;
using namespace ste::test;
using namespace std::chrono_literals;

namespace {

using SteadyClock = std::chrono::steady_clock;

/// Resident set size of a process in KiB from /proc/<pid>/status; -1 when it cannot be read.
long long vm_rss_kib(int pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::stoll(line.substr(6));
  }
  return -1;
}

/// True when some line of the log contains every fragment (JSON log lines: one event per line).
bool log_has_line(const std::string& path, std::initializer_list<std::string_view> fragments) {
  std::istringstream in(read_file(path));
  std::string line;
  while (std::getline(in, line)) {
    bool all = true;
    for (auto f : fragments) all = all && line.find(f) != std::string::npos;
    if (all) return true;
  }
  return false;
}

/// The first line of a service log that is not a JSON object ("" when every line is one): libpq
/// printing server messages raw would break the log format operators parse.
std::string first_non_json_line(const std::string& path) {
  std::istringstream in(read_file(path));
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty() && (line.front() != '{' || line.back() != '}')) return line;
  }
  return "";
}

/// JetStream-publishes with the Pipeline's client, retrying until the stream acks (a broker that
/// was just restarted may refuse for a moment).
void publish_acked(Pipeline& p, const std::string& subject, const std::string& payload) {
  std::string last_error;
  const bool acked = eventually(
      [&] {
        try {
          p.publish(subject, payload);
          return true;
        } catch (const NatsError& e) {
          last_error = e.what();
          return false;
        }
      },
      30s, 100ms);
  INFO("last publish error: " << last_error);
  REQUIRE(acked);
}

/// Every `ste_ingest_rejected_total{reason="..."}` series of a /metrics page, by reason.
std::map<std::string, double> rejected_by_reason(int port) {
  std::map<std::string, double> out;
  const HttpAnswer a = http_get(port, "/metrics");
  std::istringstream in(a.body);
  std::string line;
  const std::string prefix = "ste_ingest_rejected_total{reason=\"";
  while (std::getline(in, line)) {
    if (line.rfind(prefix, 0) != 0) continue;
    const auto end = line.find('"', prefix.size());
    const auto space = line.rfind(' ');
    out[line.substr(prefix.size(), end - prefix.size())] = std::stod(line.substr(space + 1));
  }
  return out;
}

double total(const std::map<std::string, double>& m) {
  double t = 0;
  for (const auto& [k, v] : m) t += v;
  return t;
}

}  // namespace

// ---------------------------------------------------------------------------------------------

TEST_CASE(
    "PostgreSQL stopped for 20 s under sustained load: nothing lost, memory bounded, the alert "
    "for a crossing sent during the outage fires after it",
    "[faults]") {
  Pipeline p(/*own_pg=*/true);
  p.add_rule("above_threshold", 80, "temperature", 15);
  // The in-flight bound the ingester enforces: it stops fetching at kMaxInflight readings, so the
  // count can exceed it by at most one fetch (kFetchSize messages of 10 readings here).
  constexpr int kMaxInflight = 2000;
  constexpr int kFetchSize = 50;
  constexpr int kInflightBound = kMaxInflight + kFetchSize * 10;
  // Under ASan, freed memory sits in a quarantine of up to 256 MiB, which would fill during the
  // outage's churn and hide the live heap; a small one makes VmRSS follow what the ingester keeps.
  const char* asan = std::getenv("ASAN_OPTIONS");
  p.start_ingester({{"STE_MAX_INFLIGHT_READINGS", std::to_string(kMaxInflight)},
                    {"STE_FETCH_SIZE", std::to_string(kFetchSize)},
                    {"ASAN_OPTIONS", std::string(asan ? asan : "") + ":quarantine_size_mb=8"}});
  p.start_evaluator("a");
  // boiler-1 has a history and no alert; boiler-9 does not exist before the outage.
  p.publish("sensors.acme.boiler-1", now_reading("temperature", 20, -1s));
  REQUIRE(p.wait_rows(1));

  BackgroundPublisher pub(p.nats.url(), 1'000'000, 1000);
  REQUIRE(eventually([&] { return p.rows() > 2000; }, 30s));
  const int pid = p.ingester->pid();
  const long long rss_before = vm_rss_kib(pid);

  p.pg->stop();
  const auto outage_started = SteadyClock::now();
  long long rss_peak_first_half = rss_before;  // the backlog grows from 0 to 10,000 readings
  long long rss_peak = rss_before;             // ... and on to 20,000
  double inflight_peak = 0;
  bool crossings_sent = false;
  bool ingester_not_ready = false;
  const int published_at_stop = pub.published();
  while (SteadyClock::now() - outage_started < 20s) {
    const long long rss = vm_rss_kib(pid);
    rss_peak = std::max(rss_peak, rss);
    if (SteadyClock::now() - outage_started < 10s)
      rss_peak_first_half = std::max(rss_peak_first_half, rss);
    inflight_peak =
        std::max(inflight_peak, Pipeline::metric(p.ingester_port, "ste_ingest_inflight_readings"));
    if (!crossings_sent && SteadyClock::now() - outage_started > 5s) {
      p.publish("sensors.acme.boiler-1", now_reading("temperature", 95));
      p.publish("sensors.acme.boiler-9", now_reading("temperature", 96));
      crossings_sent = true;
    }
    ingester_not_ready = ingester_not_ready || http_get(p.ingester_port, "/readyz").status == 503;
    std::this_thread::sleep_for(200ms);
  }
  const int published_in_outage = pub.published() - published_at_stop;
  p.pg->start();
  const int published_at_start = pub.published();
  // The load goes on for a moment after the database is back, then stops.
  REQUIRE(eventually([&] { return pub.published() >= published_at_start + 2000; }, 30s));
  pub.stop();
  pub.join();

  const long long expected = pub.published() + 3;  // + boiler-1's history and the two crossings
  p.require_stored_exactly(expected, 90s);
  CHECK(published_in_outage > 15000);  // the load really went on during the outage
  CHECK(ingester_not_ready);

  // Both crossings sent while the database was away raise their alert once it is back.
  const bool alerted = eventually([&] { return p.alerts() == 2; }, 60s, 100ms);
  INFO(log_tail(p.evaluators["a"].log));
  REQUIRE(alerted);
  CHECK(query_scalar(p.db_url,
                     "SELECT string_agg(device_key || '=' || value, ',' ORDER BY device_key) "
                     "FROM alerts") == "boiler-1=95,boiler-9=96");

  // Memory: the ingester kept at most its in-flight bound of readings, and its resident set
  // levelled off while the backlog in JetStream kept growing (each message of it is fetched,
  // fails and is handed back about once a second). The bounds are generous for ASan's shadow
  // memory and quarantine; an ingester that held on to failed batches or handed-back messages
  // would keep growing through the second half.
  WARN("ingester during the outage: in-flight peak "
       << inflight_peak << " readings (bound " << kInflightBound << "), VmRSS " << rss_before / 1024
       << " MiB before, peak " << rss_peak_first_half / 1024 << " MiB in the first 10 s, "
       << rss_peak / 1024 << " MiB overall");
  CHECK(inflight_peak > 0);
  CHECK(inflight_peak <= kInflightBound);
  CHECK(rss_before > 0);
  CHECK(rss_peak - rss_before < 128 * 1024);
  CHECK(rss_peak - rss_peak_first_half < 32 * 1024);

  CHECK(p.ingester->running());
  CHECK(p.evaluators["a"].proc->running());
  CHECK(p.ingester_runs == 1);
  CHECK(p.evaluators["a"].runs == 1);
  CHECK(http_get(p.ingester_port, "/readyz").status == 200);
  CHECK(first_non_json_line(p.ingester_log()).empty());
  CHECK(first_non_json_line(p.evaluators["a"].log).empty());
}

// ---------------------------------------------------------------------------------------------

TEST_CASE(
    "nats-server restarted mid-load (file-backed JetStream): nothing lost, both services "
    "reconnect without a restart and keep alerting",
    "[faults]") {
  Pipeline p;
  p.add_rule("above_threshold", 80, "temperature", 15);
  p.start_ingester();
  p.start_evaluator("a");
  p.publish("sensors.acme.boiler-1", now_reading("temperature", 90));
  REQUIRE(eventually([&] { return p.alerts() == 1; }, 30s));
  const int ingester_pid = p.ingester->pid();
  const int evaluator_pid = p.evaluators["a"].proc->pid();

  constexpr int kTotal = 8000;
  BackgroundPublisher pub(p.nats.url(), kTotal, 1500);
  REQUIRE(eventually([&] { return p.rows() > 1000; }, 30s));
  p.nats.stop();
  const auto stopped_at = SteadyClock::now();
  // Both services notice the broker is gone before it comes back.
  const bool noticed = eventually(
      [&] {
        return log_has_line(p.ingester_log(), {"nats", "disconnected"}) &&
               log_has_line(p.evaluators["a"].log, {"nats", "disconnected"});
      },
      20s, 50ms);
  INFO(log_tail(p.ingester_log()));
  INFO(log_tail(p.evaluators["a"].log));
  REQUIRE(noticed);
  // A real outage, not a blip: the publisher's retries and both services' failing fetches run
  // for a few seconds before the broker is back.
  std::this_thread::sleep_until(stopped_at + 3s);
  p.nats.start();

  // Each service logged its reconnect.
  CHECK(eventually(
      [&] {
        return log_has_line(p.ingester_log(), {"nats", "reconnected"}) &&
               log_has_line(p.evaluators["a"].log, {"nats", "reconnected"});
      },
      30s, 50ms));

  pub.join();
  REQUIRE(pub.published() == kTotal);
  // A crossing published after the restart is stored and raises its alert.
  publish_acked(p, "sensors.acme.boiler-2", now_reading("temperature", 97));
  const long long expected = kTotal + 2;
  const bool all_stored = p.wait_rows(expected, 90s);
  INFO("rows " << p.rows() << " of " << expected);
  REQUIRE(all_stored);
  CHECK(p.rows() == expected);
  CHECK(p.rollup_total() == expected);
  REQUIRE(eventually([&] { return p.alerts() == 2; }, 60s, 100ms));
  CHECK(query_scalar(p.db_url, "SELECT value FROM alerts WHERE device_key = 'boiler-2'") == "97");

  // The same processes did all of it.
  CHECK(p.ingester->running());
  CHECK(p.evaluators["a"].proc->running());
  CHECK(p.ingester->pid() == ingester_pid);
  CHECK(p.evaluators["a"].proc->pid() == evaluator_pid);
  CHECK(p.ingester_runs == 1);
  CHECK(p.evaluators["a"].runs == 1);
}

// ---------------------------------------------------------------------------------------------

TEST_CASE(
    "A flood of 100,000 malformed messages interleaved with valid traffic: every valid reading "
    "stored, every malformed one counted under its reason",
    "[faults]") {
  Pipeline p;
  p.start_ingester();
  constexpr int kValidMessages = 2000;  // 10 readings each
  constexpr int kValidReadings = kValidMessages * 10;
  constexpr int kMalformed = 100'000;
  constexpr int kMalformedPerValid = kMalformed / kValidMessages;
  constexpr int kPublisherThreads = 2;
  const TimePoint base = test_base_time();

  auto valid_message = [&](int run, int m) {
    std::string arr = "[";
    for (int k = 0; k < 10; ++k) {
      if (k) arr += ",";
      arr += reading_json("flow", m * 10 + k,
                          base + std::chrono::milliseconds{(run * kValidMessages + m) * 10 + k});
    }
    return OutMsg{fmt::format("sensors.acme.valid-{}", m % 8), arr + "]", 10};
  };

  // A mix of reasons, each message wrong in exactly one way (one rejection per message).
  const std::string future = reading_json("flow", 1,
                                          std::chrono::time_point_cast<std::chrono::milliseconds>(
                                              SysClock::now() + std::chrono::hours{1}));
  struct Kind {
    std::string reason;
    std::string subject;
    std::string payload;
  };
  const std::vector<Kind> kinds{
      {"invalid_json", "sensors.acme.junk-1", R"({"metric": "flow", "value": )"},
      {"missing_metric", "sensors.acme.junk-2", R"({"value": 1.5})"},
      {"invalid_value", "sensors.acme.junk-3", R"({"metric": "flow", "value": "high"})"},
      {"future_ts", "sensors.acme.junk-4", future},
      {"unknown_tenant", "sensors.nosuch.junk-5", R"({"metric": "flow", "value": 1})"},
      {"invalid_subject", "sensors.acme", R"({"metric": "flow", "value": 1})"},
      {"missing_value", "sensors.acme.junk-6", R"({"metric": "flow"})"},
  };

  // Clean run: the valid traffic alone.
  std::vector<OutMsg> clean;
  for (int m = 0; m < kValidMessages; ++m) clean.push_back(valid_message(0, m));
  auto started = SteadyClock::now();
  publish_all(p.nats.url(), clean, kPublisherThreads);
  REQUIRE(p.wait_rows(kValidReadings, 60s));
  const double clean_secs = std::chrono::duration<double>(SteadyClock::now() - started).count();
  clean.clear();

  // Flood run: the same amount of valid traffic, each valid message followed by 50 bad ones.
  std::vector<OutMsg> flood;
  std::map<std::string, double> expected;
  flood.reserve(kValidMessages + kMalformed);
  for (int m = 0, bad = 0; m < kValidMessages; ++m) {
    flood.push_back(valid_message(1, m));
    for (int j = 0; j < kMalformedPerValid; ++j, ++bad) {
      const Kind& k = kinds[static_cast<size_t>(bad) % kinds.size()];
      flood.push_back(OutMsg{k.subject, k.payload, 0});
      expected[k.reason] += 1;
    }
  }
  REQUIRE(total(expected) == kMalformed);
  started = SteadyClock::now();
  publish_all(p.nats.url(), flood, kPublisherThreads);
  const double publish_secs = std::chrono::duration<double>(SteadyClock::now() - started).count();
  const bool all_stored = p.wait_rows(2 * kValidReadings, 90s);
  const double flood_secs = std::chrono::duration<double>(SteadyClock::now() - started).count();
  INFO(log_tail(p.ingester_log()));
  REQUIRE(all_stored);
  flood.clear();

  REQUIRE(eventually([&] { return total(rejected_by_reason(p.ingester_port)) >= kMalformed; }, 60s,
                     100ms));
  const auto rejected = rejected_by_reason(p.ingester_port);
  CHECK(total(rejected) == kMalformed);
  for (const auto& [reason, n] : rejected) {
    INFO("reason " << reason);
    CHECK(n == (expected.count(reason) ? expected.at(reason) : 0.0));
  }
  CHECK(p.rows() == 2 * kValidReadings);
  CHECK(p.rollup_total() == 2 * kValidReadings);
  CHECK(p.ingester->running());
  CHECK(http_get(p.ingester_port, "/readyz").status == 200);
  // Rejections are logged rate-limited: the flood does not become 100,000 log lines.
  const std::string log = read_file(p.ingester_log());
  size_t rejected_lines = 0;
  for (size_t at = log.find("\"rejected\""); at != std::string::npos;
       at = log.find("\"rejected\"", at + 1)) {
    ++rejected_lines;
  }
  CHECK(rejected_lines < 2000);

  const double clean_rate = kValidReadings / clean_secs;
  const double flood_rate = kValidReadings / flood_secs;
  std::cout << fmt::format(
                   "valid-reading throughput (first publish to all {} stored, {} publisher "
                   "threads):\n  clean run:                    {:>9.0f} readings/s ({:.2f} s)\n"
                   "  with 100,000 malformed mixed in: {:>9.0f} readings/s ({:.2f} s; "
                   "publishing all {} messages took {:.2f} s)\n",
                   kValidReadings, kPublisherThreads, clean_rate, clean_secs, flood_rate,
                   flood_secs, kValidMessages + kMalformed, publish_secs)
            << std::flush;
}

// ---------------------------------------------------------------------------------------------

namespace {

/// Gives the services' tables to a non-superuser role, so that the role runs the services like
/// in production and PostgreSQL's superuser_reserved_connections keep slots for the test.
constexpr const char* kGiveSchemaToApp = R"sql(
GRANT ALL ON SCHEMA public TO ste_app;
DO $$
DECLARE r record;
BEGIN
  FOR r IN SELECT c.oid::regclass AS t FROM pg_class c
           JOIN pg_namespace n ON n.oid = c.relnamespace
           WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p', 'v') LOOP
    EXECUTE format('ALTER TABLE %s OWNER TO ste_app', r.t);
  END LOOP;
  FOR r IN SELECT p.oid::regprocedure AS f FROM pg_proc p
           JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = 'public' LOOP
    EXECUTE format('ALTER FUNCTION %s OWNER TO ste_app', r.f);
  END LOOP;
END $$;
)sql";

/// What PostgreSQL says when the slots are gone (for a non-superuser, or for everyone).
bool says_no_slots(std::string_view text) {
  return text.find("remaining connection slots are reserved") != std::string_view::npos ||
         text.find("too many clients") != std::string_view::npos;
}

}  // namespace

TEST_CASE(
    "Database connections exhausted by another client: both services say why, lose nothing, "
    "and recover without a restart once the slots are free",
    "[faults]") {
  Pipeline p(/*own_pg=*/true);
  p.pg->set_max_connections(20);  // 17 for ordinary roles, 3 reserved for superusers
  p.pg->stop();
  p.pg->start();
  exec_sql(p.pg->url("postgres"), "CREATE ROLE ste_app LOGIN");
  exec_sql(p.db_url, kGiveSchemaToApp);
  const std::string app_url = fmt::format("postgresql://ste_app@127.0.0.1:{}/ste", p.pg->port());
  p.add_rule("above_threshold", 80, "temperature", 15);
  p.start_ingester({{"STE_DATABASE_URL", app_url}});
  p.start_evaluator("a", {{"STE_DATABASE_URL", app_url}});
  const int eval_port = p.evaluators["a"].port;
  const std::string& eval_log = p.evaluators["a"].log;
  const httplib::Headers auth{{"X-API-Key", p.api_key}};
  // Working before: two devices with a normal reading each, no alert.
  p.publish("sensors.acme.boiler-1", now_reading("temperature", 20, -2s));
  p.publish("sensors.acme.boiler-2", now_reading("temperature", 21, -2s));
  REQUIRE(p.wait_rows(2));
  REQUIRE(http_get(eval_port, "/api/rules", auth).status == 200);
  const long long rows_before = p.rows();

  // Another client (the same role, as a runaway pool would) takes every slot the services could
  // use; the services' own connections are terminated, and whatever they reconnect is terminated
  // again, until the other client holds every ordinary slot twice in a row.
  PgConnection admin(p.pg->url("ste"));  // superuser: one of the reserved slots
  const std::string hog_url = app_url + "?application_name=ste-test-hog";
  std::vector<std::unique_ptr<PgConnection>> hog;
  std::string refusal;
  int stable = 0;
  const bool exhausted = eventually(
      [&] {
        admin.exec(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = 'ste_app' "
            "AND application_name <> 'ste-test-hog'");
        for (;;) {
          try {
            hog.push_back(std::make_unique<PgConnection>(hog_url));
          } catch (const PgError& e) {
            refusal = e.what();
            break;
          }
        }
        const auto services = admin
                                  .exec(
                                      "SELECT count(*) FROM pg_stat_activity WHERE usename = "
                                      "'ste_app' AND application_name <> 'ste-test-hog'")
                                  .int64(0, 0);
        stable = services == 0 ? stable + 1 : 0;
        return stable >= 2;
      },
      30s, 200ms);
  INFO("held connections: " << hog.size() << ", last refusal: " << refusal);
  REQUIRE(exhausted);
  REQUIRE(says_no_slots(refusal));
  CHECK(hog.size() >= 17 - 8);  // the services together hold at most 8 (3 + pool of 4 + rules)

  // Meanwhile devices keep sending: normal readings and a crossing on boiler-2.
  constexpr int kDuring = 20;
  for (int i = 0; i < kDuring - 1; ++i) {
    p.publish("sensors.acme.boiler-1",
              now_reading("temperature", 20 + i * 0.1, std::chrono::milliseconds{-1000 + i}));
  }
  p.publish("sensors.acme.boiler-2", now_reading("temperature", 99));

  // The ingester says why it cannot write and is not ready; it neither stores nor rejects.
  const bool ingester_says = eventually(
      [&] {
        return log_has_line(p.ingester_log(), {"remaining connection slots are reserved"}) ||
               log_has_line(p.ingester_log(), {"too many clients"});
      },
      30s, 100ms);
  INFO(log_tail(p.ingester_log()));
  CHECK(ingester_says);
  CHECK(eventually([&] { return http_get(p.ingester_port, "/readyz").status == 503; }, 10s));
  CHECK(p.rows() == rows_before);
  CHECK(total(rejected_by_reason(p.ingester_port)) == 0);
  CHECK(p.stream_messages("SENSORS") >= kDuring);  // waiting in JetStream

  // The evaluator's API answers 503 with a JSON error naming the database; /readyz fails and
  // says why; the log carries PostgreSQL's own words.
  HttpAnswer api;
  const bool api_unavailable = eventually(
      [&] {
        api = http_get(eval_port, "/api/rules", auth);
        return api.status == 503;
      },
      15s, 100ms);
  INFO("api: " << api.status << " " << api.body);
  CHECK(api_unavailable);
  simdjson::dom::parser parser;
  simdjson::dom::element err;
  REQUIRE(parser.parse(api.body).get(err) == simdjson::SUCCESS);
  CHECK(std::string_view(err["error"]["code"]) == "unavailable");
  CHECK(std::string(std::string_view(err["error"]["message"])).find("database") !=
        std::string::npos);
  HttpAnswer ready;
  const bool not_ready_says_why = eventually(
      [&] {
        ready = http_get(eval_port, "/readyz");
        return ready.status == 503 && says_no_slots(ready.body);
      },
      10s, 100ms);
  INFO("evaluator /readyz: " << ready.status << " " << ready.body);
  CHECK(not_ready_says_why);
  CHECK(ready.body.find("database") != std::string::npos);
  const bool evaluator_says = eventually(
      [&] {
        return log_has_line(eval_log, {"remaining connection slots are reserved"}) ||
               log_has_line(eval_log, {"too many clients"});
      },
      30s, 100ms);
  INFO(log_tail(eval_log));
  CHECK(evaluator_says);
  CHECK(p.alerts() == 0);

  // The other client lets go: both services recover by themselves.
  hog.clear();
  const long long expected = rows_before + kDuring;
  p.require_stored_exactly(expected, 60s);
  CHECK(total(rejected_by_reason(p.ingester_port)) == 0);
  CHECK(eventually([&] { return p.alerts() == 1; }, 60s, 100ms));
  CHECK(query_scalar(p.db_url, "SELECT device_key FROM alerts") == "boiler-2");
  CHECK(eventually([&] { return http_get(eval_port, "/api/rules", auth).status == 200; }, 30s));
  CHECK(eventually([&] { return http_get(eval_port, "/readyz").status == 200; }, 30s));
  CHECK(eventually([&] { return http_get(p.ingester_port, "/readyz").status == 200; }, 30s));
  CHECK(p.ingester->running());
  CHECK(p.evaluators["a"].proc->running());
  CHECK(p.ingester_runs == 1);
  CHECK(p.evaluators["a"].runs == 1);
  CHECK(first_non_json_line(p.ingester_log()).empty());
  CHECK(first_non_json_line(eval_log).empty());
}
