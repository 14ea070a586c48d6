#include "evaluator/alerts/episode_flapping.hpp"

#include <fmt/format.h>

#include "common/json_writer.hpp"
#include "common/time_format.hpp"
#include "evaluator/alerts/alert_row.hpp"
#include "evaluator/alerts/flap_detector.hpp"

namespace ste::eval {

namespace {

/// "{1,2,3}" (a bigint[] as text) into time points.
std::vector<TimePoint> times_from_array(std::string_view text) {
  std::vector<TimePoint> out;
  if (text.size() < 2) return out;
  text = text.substr(1, text.size() - 2);
  while (!text.empty()) {
    const auto comma = text.find(',');
    out.push_back(from_epoch_us(std::stoll(std::string(text.substr(0, comma)))));
    text = comma == std::string_view::npos ? std::string_view{} : text.substr(comma + 1);
  }
  return out;
}

std::string times_to_array(const std::vector<TimePoint>& times) {
  std::string out = "{";
  for (const auto& t : times) out += (out.size() > 1 ? ",\"" : "\"") + format_rfc3339_us(t) + "\"";
  return out + "}";
}

}  // namespace

FlapOutcome note_transition(PgConnection& db, std::int64_t tenant_id, const std::string& alert_id) {
  const std::string tenant = std::to_string(tenant_id);
  auto r = db.exec(
      "SELECT a.rule_id, a.device_id, coalesce(r.flap_changes, 0), "
      "coalesce(r.flap_window_minutes, 30), "
      "coalesce((SELECT array_agg((extract(epoch FROM c) * 1000000)::bigint ORDER BY c) "
      "          FROM unnest(f.flap_changes) c)::text, '{}'), "
      "coalesce(f.flapping, false), (extract(epoch FROM now()) * 1000000)::bigint "
      "FROM alerts a "
      "LEFT JOIN alert_rules r ON r.tenant_id = a.tenant_id AND r.id = a.rule_id "
      "LEFT JOIN alert_fingerprints f ON f.tenant_id = a.tenant_id AND f.rule_id = a.rule_id "
      "  AND f.device_id = a.device_id "
      "WHERE a.tenant_id = $1 AND a.id = $2",
      {tenant, alert_id});
  if (r.rows() == 0) return FlapOutcome::normal;
  const FlapSettings settings{static_cast<int>(r.int64(0, 2)), std::chrono::minutes{r.int64(0, 3)}};
  FlapState state{times_from_array(r.text(0, 4)), r.boolean(0, 5)};
  const bool was_flapping = state.flapping;
  const bool started = record_change(state, from_epoch_us(r.int64(0, 6)), settings);
  db.exec(
      "INSERT INTO alert_fingerprints (tenant_id, rule_id, device_id, flap_changes, flapping) "
      "VALUES ($1, $2, $3, $4::timestamptz[], $5) ON CONFLICT (tenant_id, rule_id, device_id) "
      "DO UPDATE SET flap_changes = excluded.flap_changes, flapping = excluded.flapping",
      {tenant, std::string(r.text(0, 0)), std::string(r.text(0, 1)), times_to_array(state.changes),
       state.flapping ? "true" : "false"});
  if (!state.flapping) return FlapOutcome::normal;
  db.exec("UPDATE alerts SET flapping = true WHERE tenant_id = $1 AND id = $2", {tenant, alert_id});
  if (started) return FlapOutcome::started;
  return was_flapping ? FlapOutcome::suppressed : FlapOutcome::normal;
}

std::vector<EpisodeNotice> end_flapping(PgConnection& db, const TargetDefaults& defaults,
                                        int limit) {
  // Settled: no change for the rule's window (30 minutes for a rule deleted meanwhile).
  static const char* kSettledSql =
      "SELECT f.tenant_id, f.rule_id, f.device_id FROM alert_fingerprints f "
      "LEFT JOIN alert_rules r ON r.tenant_id = f.tenant_id AND r.id = f.rule_id "
      "WHERE f.flapping AND coalesce((SELECT max(c) FROM unnest(f.flap_changes) c), '-infinity') "
      "<= now() - coalesce(r.flap_window_minutes, 30) * interval '1 minute' "
      "ORDER BY f.tenant_id, f.rule_id, f.device_id LIMIT $1";
  std::vector<EpisodeNotice> out;
  auto due = db.exec(kSettledSql, {std::to_string(limit)});
  for (int i = 0; i < due.rows(); ++i) {
    const std::int64_t tenant_id = due.int64(i, 0);
    const std::string tenant = std::to_string(tenant_id);
    const std::string rule(due.text(i, 1));
    const std::string device(due.text(i, 2));
    lock_fingerprint(db, rule, due.int64(i, 2));
    auto ended = db.exec(
        "UPDATE alert_fingerprints f SET flapping = false, flap_changes = '{}' "
        "WHERE tenant_id = $1 AND rule_id = $2 AND device_id = $3 AND flapping "
        "AND coalesce((SELECT max(c) FROM unnest(f.flap_changes) c), '-infinity') <= now() - "
        "coalesce((SELECT flap_window_minutes FROM alert_rules WHERE tenant_id = $1 AND id = $2), "
        "30) * interval '1 minute' RETURNING 1",
        {tenant, rule, device});
    if (ended.rows() == 0) continue;  // changed meanwhile
    auto latest = db.exec(
        "UPDATE alerts SET flapping = false, notified = notified OR status = 'firing', "
        "last_notified_at = CASE WHEN status = 'firing' THEN now() ELSE last_notified_at END, "
        "version = version + 1, updated_at = now() "
        "WHERE tenant_id = $1 AND id = (SELECT id FROM alerts WHERE tenant_id = $1 AND "
        "rule_id = $2 AND device_id = $3 ORDER BY created_at DESC, id DESC LIMIT 1) "
        "RETURNING id, status",
        {tenant, rule, device});
    if (latest.rows() == 0) continue;  // its episodes were pruned
    const std::string id(latest.text(0, 0));
    JsonWriter w;
    w.begin_object().field("settled", latest.text(0, 1)).end_object();
    const int seq =
        append_event(db, tenant_id, id, "flapping_ended", "evaluator", std::nullopt, w.str());
    const Alert a = *load_alert(db, tenant_id, id);
    queue_notification(db, tenant_id, a, seq, "flapping_ended",
                       targets_for_tenant(db, tenant_id, defaults));
    out.push_back({"flapping_ended", a});
  }
  return out;
}

}  // namespace ste::eval
