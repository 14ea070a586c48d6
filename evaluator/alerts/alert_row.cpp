#include "evaluator/alerts/alert_row.hpp"

#include <fmt/format.h>

#include "common/time_format.hpp"

namespace ste::eval {

// Timestamps travel as epoch microseconds: no text parsing, no time zone to get wrong.
#define STE_US(col) "(extract(epoch FROM " col ") * 1000000)::bigint"

// The active silences of the tenant matching episode `a` (docs/ALERTING.md §3).
#define STE_SILENCES                                                                   \
  "FROM silences s WHERE s.tenant_id = a.tenant_id AND s.starts_at <= now() "          \
  "AND s.ends_at > now() AND ste_silence_matches(s.matchers, a.device_key, a.metric, " \
  "a.rule_id::text, a.severity)"
// The firing whole-device no-data episode of a's device that inhibits it (another episode).
#define STE_INHIBITORS                                                           \
  "FROM alerts n WHERE n.tenant_id = a.tenant_id AND n.device_id = a.device_id " \
  "AND n.status = 'firing' AND n.condition = 'no_data' AND n.metric = '*' AND n.id <> a.id"

const char* const kAlertMutedSql =
    "(EXISTS (SELECT 1 " STE_SILENCES ") OR EXISTS (SELECT 1 " STE_INHIBITORS "))";

const char* const kAlertColumns =
    "a.id, " STE_US("a.created_at") ", a.rule_id, t.slug, a.device_key, a.metric, a.condition, "
    "a.threshold, a.value, " STE_US("a.reading_ts") ", a.mean, a.stddev, a.severity, a.message, "
    "a.status, " STE_US("a.started_at") ", " STE_US("a.fired_at") ", " STE_US("a.resolved_at") ", "
    "a.resolve_reason, a.last_value, " STE_US("a.last_reading_ts") ", a.peak_value, "
    STE_US("a.acked_at") ", a.acked_by, a.ack_comment, a.flapping, a.notified, a.version, "
    "a.tenant_id, a.device_id, "
    // silenced_by (docs/ALERTING.md §3): the active silences of the tenant that match an open
    // episode, oldest first; a closed episode is silenced by nothing. Then the inhibiting
    // no-data episode, if any.
    "CASE WHEN a.status IN ('pending', 'firing') THEN (SELECT string_agg(s.id::text, ',' "
    "ORDER BY s.created_at, s.id) " STE_SILENCES ") END, "
    "CASE WHEN a.status IN ('pending', 'firing') THEN (SELECT min(n.id::text) " STE_INHIBITORS
    ") END";
#undef STE_SILENCES
#undef STE_INHIBITORS
#undef STE_US

namespace {
std::optional<TimePoint> opt_time(const PgResult& r, int i, int c) {
  if (r.is_null(i, c)) return std::nullopt;
  return from_epoch_us(r.int64(i, c));
}
}  // namespace

Alert alert_from_row(const PgResult& r, int i) {
  Alert a;
  a.id = std::string(r.text(i, 0));
  a.created_at = from_epoch_us(r.int64(i, 1));
  a.rule_id = std::string(r.text(i, 2));
  a.tenant = std::string(r.text(i, 3));
  a.device = std::string(r.text(i, 4));
  a.metric = std::string(r.text(i, 5));
  a.condition = parse_condition(r.text(i, 6)).value_or(Condition::above_threshold);
  a.threshold = r.float8(i, 7);
  a.value = r.float8(i, 8);
  a.reading_ts = from_epoch_us(r.int64(i, 9));
  if (!r.is_null(i, 10)) a.mean = r.float8(i, 10);
  if (!r.is_null(i, 11)) a.stddev = r.float8(i, 11);
  a.severity = parse_severity(r.text(i, 12)).value_or(Severity::warning);
  a.message = std::string(r.text(i, 13));
  a.status = parse_episode_status(r.text(i, 14)).value_or(EpisodeStatus::pending);
  a.started_at = from_epoch_us(r.int64(i, 15));
  a.fired_at = opt_time(r, i, 16);
  a.resolved_at = opt_time(r, i, 17);
  a.resolve_reason = r.opt_text(i, 18);
  a.last_value = r.float8(i, 19);
  a.last_reading_ts = from_epoch_us(r.int64(i, 20));
  a.peak_value = r.float8(i, 21);
  a.acked_at = opt_time(r, i, 22);
  a.acked_by = r.opt_text(i, 23);
  a.ack_comment = r.opt_text(i, 24);
  a.flapping = r.boolean(i, 25);
  a.notified = r.boolean(i, 26);
  a.version = static_cast<int>(r.int64(i, 27));
  if (!r.is_null(i, 30)) {
    std::string_view ids = r.text(i, 30);
    while (!ids.empty()) {
      const auto comma = ids.find(',');
      a.silenced_by.emplace_back(ids.substr(0, comma));
      ids = comma == std::string_view::npos ? std::string_view{} : ids.substr(comma + 1);
    }
  }
  a.inhibited_by = r.opt_text(i, 31);
  return a;
}

std::optional<Alert> load_alert(PgConnection& db, std::int64_t tenant_id, const std::string& id) {
  auto r = db.exec(fmt::format("SELECT {} FROM alerts a JOIN tenants t ON t.id = a.tenant_id "
                               "WHERE a.tenant_id = $1 AND a.id = $2",
                               kAlertColumns),
                   {std::to_string(tenant_id), id});
  if (r.rows() == 0) return std::nullopt;
  return alert_from_row(r, 0);
}

}  // namespace ste::eval
