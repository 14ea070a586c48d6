#include "evaluator/alerts/episode_log.hpp"

#include <fmt/format.h>

#include <memory>
#include <stdexcept>

#include "common/json_writer.hpp"
#include "common/time_format.hpp"

namespace ste::eval {

std::string hub_event_type(std::string_view event) { return "sensor.alert." + std::string(event); }

std::string workflow_event(std::string_view event) { return "alert." + std::string(event); }

TargetsLookup read_once(TargetsLookup targets) {
  auto read = std::make_shared<std::optional<std::vector<DeliveryTarget>>>();
  return [read, targets = std::move(targets)] {
    if (!*read) *read = targets ? targets() : std::vector<DeliveryTarget>{};
    return **read;
  };
}

void lock_fingerprint(PgConnection& db, const std::string& rule_id, std::int64_t device_id) {
  // The same key as before episodes existed, so a mixed-version fleet during an upgrade still
  // serialises on it.
  db.exec("SELECT pg_advisory_xact_lock(hashtextextended($1 || '/' || $2, 0))",
          {rule_id, std::to_string(device_id)});
}

int append_event(PgConnection& db, std::int64_t tenant_id, const std::string& alert_id,
                 std::string_view kind, std::string_view actor, std::optional<TimePoint> data_ts,
                 std::string_view detail) {
  PgParam ts;
  if (data_ts) ts = format_rfc3339_us(*data_ts);
  auto r = db.exec(
      "WITH s AS (UPDATE alerts SET event_seq = event_seq + 1 "
      "           WHERE tenant_id = $1 AND id = $2 RETURNING event_seq) "
      "INSERT INTO alert_events (tenant_id, alert_id, seq, kind, data_ts, actor, detail) "
      "SELECT $1, $2, s.event_seq, $3, $4::timestamptz, $5, $6::jsonb FROM s RETURNING seq",
      {std::to_string(tenant_id), alert_id, std::string(kind), ts, std::string(actor),
       std::string(detail)});
  if (r.rows() != 1) throw std::logic_error("append_event: no alert " + alert_id);
  return static_cast<int>(r.int64(0, 0));
}

std::string muted_reason(const Alert& alert) {
  std::string out;
  for (const auto& s : alert.silenced_by) out += (out.empty() ? "silenced by " : ", ") + s;
  if (alert.inhibited_by) {
    out += (out.empty() ? "" : "; ") +
           fmt::format("inhibited by the device's no-data episode {}", *alert.inhibited_by);
  }
  return out;
}

bool queue_notification(PgConnection& db, std::int64_t tenant_id, const Alert& alert, int seq,
                        std::string_view event, const std::vector<DeliveryTarget>& targets) {
  if (event != "resolved" && alert.muted()) {
    suppress_notification(db, tenant_id, alert.id, "evaluator", event, muted_reason(alert));
    return false;
  }
  if (targets.empty()) return true;
  const std::string payload = alert_to_json(alert);
  for (const auto& t : targets) {
    PgParam credential;
    if (t.credential_source == "tenant" && t.credential) credential = *t.credential;
    db.exec(
        "INSERT INTO deliveries (alert_id, tenant_id, target, url, credential_source, credential, "
        "event, transition_seq, payload) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        {alert.id, std::to_string(tenant_id), t.target, t.url, t.credential_source, credential,
         std::string(event), std::to_string(seq), payload});
  }
  return true;
}

void suppress_notification(PgConnection& db, std::int64_t tenant_id, const std::string& alert_id,
                           std::string_view actor, std::string_view transition,
                           std::string_view reason) {
  JsonWriter w;
  w.begin_object().field("transition", transition).field("reason", reason).end_object();
  append_event(db, tenant_id, alert_id, "notification_suppressed", actor, std::nullopt, w.str());
}

}  // namespace ste::eval
