#include "evaluator/alerts/alert_store.hpp"

#include <fmt/format.h>

#include "common/pg_transaction.hpp"
#include "common/time_format.hpp"
#include "evaluator/alerts/cooldown_gate.hpp"

namespace ste::eval {

namespace {
std::optional<std::string> opt_number(const std::optional<double>& v) {
  if (!v) return std::nullopt;
  return fmt::format("{}", *v);
}

}  // namespace

Alert alert_for(const Rule& rule, const Tuple& tuple, const Firing& firing) {
  Alert a;
  a.rule_id = rule.id;
  a.tenant = tuple.tenant;
  a.device = tuple.device;
  a.metric = tuple.metric;
  a.condition = rule.condition;
  a.threshold = rule.threshold;
  a.value = firing.value;
  a.reading_ts = firing.reading_ts;
  a.mean = firing.mean;
  a.stddev = firing.stddev;
  a.severity = rule.severity;
  a.message = alert_message(rule, tuple.device, firing.value, firing.mean, firing.stddev);
  return a;
}

StoreResult store_alert(PgConnection& db, const Rule& rule, const Tuple& tuple,
                        const Firing& firing, const std::vector<DeliveryTarget>& targets) {
  const std::string device_id = std::to_string(tuple.device_id);
  PgTransaction tx(db);
  // Serialises every evaluator instance deciding for this rule and device; released at commit.
  db.exec("SELECT pg_advisory_xact_lock(hashtextextended($1 || '/' || $2, 0))",
          {rule.id, device_id});
  auto last = db.exec(
      "SELECT (extract(epoch FROM now()) * 1000000)::bigint, "
      "(SELECT (extract(epoch FROM max(created_at)) * 1000000)::bigint FROM alerts "
      " WHERE rule_id = $1 AND device_id = $2)",
      {rule.id, device_id});
  const TimePoint db_now{std::chrono::microseconds{last.int64(0, 0)}};
  std::optional<TimePoint> last_at;
  if (!last.is_null(0, 1)) last_at = TimePoint{std::chrono::microseconds{last.int64(0, 1)}};
  if (decide_cooldown(last_at, db_now, rule.cooldown_minutes) == CooldownDecision::suppress) {
    return {StoreOutcome::suppressed_by_cooldown, std::nullopt};
  }

  Alert a = alert_for(rule, tuple, firing);
  auto ins = db.exec(
      "INSERT INTO alerts (tenant_id, rule_id, device_id, device_key, metric, condition, "
      "threshold, "
      "value, reading_ts, mean, stddev, severity, message) "
      "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) "
      "ON CONFLICT (rule_id, device_id, reading_ts) DO NOTHING "
      "RETURNING id, (extract(epoch FROM created_at) * 1000000)::bigint",
      {std::to_string(tuple.tenant_id), rule.id, device_id, tuple.device, tuple.metric,
       std::string(condition_name(rule.condition)), fmt::format("{}", rule.threshold),
       fmt::format("{}", firing.value), format_rfc3339_us(firing.reading_ts),
       opt_number(firing.mean), opt_number(firing.stddev),
       std::string(severity_name(rule.severity)), a.message});
  if (ins.rows() == 0) return {StoreOutcome::already_stored, std::nullopt};
  a.id = std::string(ins.text(0, 0));
  a.created_at = TimePoint{std::chrono::microseconds{ins.int64(0, 1)}};
  for (const auto& t : targets) {
    PgParam credential;
    if (t.credential_source == "tenant" && t.credential) credential = *t.credential;
    db.exec(
        "INSERT INTO deliveries (alert_id, tenant_id, target, url, credential_source, credential) "
        "VALUES ($1, $2, $3, $4, $5, $6)",
        {a.id, std::to_string(tuple.tenant_id), t.target, t.url, t.credential_source, credential});
  }
  tx.commit();
  return {StoreOutcome::stored, std::move(a)};
}

}  // namespace ste::eval
