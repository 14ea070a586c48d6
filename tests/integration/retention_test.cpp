// Alert retention (STE_ALERT_RETENTION_DAYS): the evaluator deletes old alerts with their
// deliveries and attempts, in batches, one instance at a time, and keeps recent alerts and alerts
// whose delivery is still pending. Real evaluators against real PostgreSQL; the rows are written
// and aged with SQL.
#include <thread>

#include "tests/integration/pipeline_fixture.hpp"

using namespace ste;
using namespace ste::test;
using namespace std::chrono_literals;

namespace {

/// Inserts `n` alerts created `age` ago (an SQL interval), each with a delivered workflow
/// delivery and one attempt when `with_delivery`; `tag` goes into the message to find them.
void insert_alerts(const Pipeline& p, int n, const std::string& age, const std::string& tag,
                   bool with_delivery) {
  exec_sql(
      p.db_url,
      fmt::format("INSERT INTO alerts (tenant_id, rule_id, device_id, device_key, metric, "
                  "condition, threshold, value, reading_ts, severity, message, created_at, status, "
                  "started_at, resolved_at, resolve_reason, last_value, last_reading_ts, "
                  "peak_value) "
                  "SELECT {}, gen_random_uuid(), g, 'dev-' || g, 'temperature', "
                  "'above_threshold', 80, 90, now() - g * interval '1 second', 'critical', "
                  "'{}', now() - interval '{}', 'resolved', now() - g * interval '1 second', "
                  "now(), 'cleared', 90, now() - g * interval '1 second', 90 "
                  "FROM generate_series(1, {}) g",
                  p.tenant_id, tag, age, n));
  if (!with_delivery) return;
  exec_sql(p.db_url, fmt::format("INSERT INTO deliveries (alert_id, tenant_id, target, url, "
                                 "status, attempts, delivered_at, event, transition_seq) SELECT "
                                 "id, tenant_id, 'workflow_engine', 'http://192.0.2.1/wf', "
                                 "'delivered', 1, now(), 'created', 1 "
                                 "FROM alerts WHERE message = '{}'",
                                 tag));
  exec_sql(p.db_url,
           fmt::format("INSERT INTO delivery_attempts (delivery_id, tenant_id, attempt, "
                       "started_at, duration_ms, http_status, outcome) SELECT d.id, d.tenant_id, "
                       "1, now(), 1, 200, 'delivered' FROM deliveries d JOIN alerts a ON a.id = "
                       "d.alert_id AND a.tenant_id = d.tenant_id WHERE a.message = '{}'",
                       tag));
}

long long alerts_tagged(const Pipeline& p, const std::string& tag) {
  return query_count(p.db_url, "SELECT count(*) FROM alerts WHERE message = '" + tag + "'");
}

double pruned(Pipeline& p, const std::string& table) {
  double sum = 0;
  for (const std::string name : {"a", "b"}) {
    sum += p.evaluator_metric(name, "ste_retention_pruned_total{table=\"" + table + "\"}");
  }
  return sum;
}

}  // namespace

TEST_CASE(
    "Alerts past the retention go with their deliveries and attempts — recent ones and pending "
    "deliveries stay",
    "[retention]") {
  Pipeline p;
  // 2,500 old alerts: three batches of 1,000. Plus an old alert without deliveries.
  insert_alerts(p, 2500, "100 days", "old", true);
  insert_alerts(p, 1, "100 days", "old-bare", false);
  insert_alerts(p, 10, "80 days", "recent", true);
  // An old alert whose hub delivery is still pending (due tomorrow, so nobody sends it), and
  // whose workflow delivery has failed: the alert and both deliveries stay.
  insert_alerts(p, 1, "100 days", "old-pending", true);
  exec_sql(p.db_url,
           "INSERT INTO deliveries (alert_id, tenant_id, target, url, status, next_attempt_at, "
           "credential_source, event, transition_seq) SELECT id, tenant_id, 'notification_hub', "
           "'http://192.0.2.1/hub', 'pending', now() + interval '1 day', 'default', 'created', 1 "
           "FROM alerts WHERE message = "
           "'old-pending'");
  exec_sql(p.db_url,
           "UPDATE deliveries SET status = 'failed' FROM alerts a WHERE a.id = alert_id AND "
           "a.message = 'old-pending' AND target = 'workflow_engine'");
  REQUIRE(query_count(p.db_url, "SELECT count(*) FROM delivery_attempts") == 2511);

  // Two instances prune side by side; the advisory lock lets one at a time.
  const Process::Env env{{"STE_ALERT_RETENTION_DAYS", "90"}, {"STE_RETENTION_INTERVAL_S", "1"}};
  p.start_evaluator("a", env);
  p.start_evaluator("b", env);
  REQUIRE(eventually([&] { return alerts_tagged(p, "old") == 0; }, 60s, 100ms));
  REQUIRE(eventually([&] { return alerts_tagged(p, "old-bare") == 0; }, 10s, 100ms));
  CHECK(alerts_tagged(p, "recent") == 10);
  CHECK(alerts_tagged(p, "old-pending") == 1);
  CHECK(p.alerts() == 11);
  // Only the recent alerts' and the kept alert's deliveries and attempts are left.
  CHECK(query_count(p.db_url, "SELECT count(*) FROM deliveries") == 12);
  CHECK(query_count(p.db_url, "SELECT count(*) FROM delivery_attempts") == 11);
  // Every row deleted is counted once, whichever instance deleted it.
  CHECK(eventually([&] { return pruned(p, "alerts") == 2501; }, 10s));
  CHECK(pruned(p, "deliveries") == 2500);
  CHECK(pruned(p, "delivery_attempts") == 2500);
  const std::string logs = read_file(p.evaluators["a"].log) + read_file(p.evaluators["b"].log);
  CHECK(logs.find("\"retention pruned\"") != std::string::npos);

  // Once its last delivery is final, the kept alert goes at the next run.
  exec_sql(p.db_url, "UPDATE deliveries SET status = 'delivered' WHERE status = 'pending'");
  REQUIRE(eventually([&] { return alerts_tagged(p, "old-pending") == 0; }, 30s, 100ms));
  CHECK(p.alerts() == 10);
  CHECK(query_count(p.db_url, "SELECT count(*) FROM deliveries") == 10);
  CHECK(eventually([&] { return pruned(p, "alerts") == 2502; }, 10s));
}

TEST_CASE("STE_ALERT_RETENTION_DAYS=0 keeps every alert", "[retention]") {
  Pipeline p;
  insert_alerts(p, 5, "3650 days", "ancient", true);
  p.start_evaluator("a", {{"STE_ALERT_RETENTION_DAYS", "0"}, {"STE_RETENTION_INTERVAL_S", "1"}});
  // Proving an absence: three intervals' time, in which the test above prunes at its first run.
  std::this_thread::sleep_for(3s);
  CHECK(alerts_tagged(p, "ancient") == 5);
  CHECK(query_count(p.db_url, "SELECT count(*) FROM delivery_attempts") == 5);
  CHECK(p.evaluator_metric("a", "ste_retention_pruned_total{table=\"alerts\"}") == 0);
}
