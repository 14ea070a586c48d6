// Reading alerts: /api/alerts (filters, newest-first or severity order, keyset cursors),
// /api/alerts/summary, /api/alerts/{id} with deliveries, /api/alerts/{id}/events (the timeline).
// The writes (ack, comments, resolve) are in alert_actions_api.cpp.
#include <fmt/format.h>

#include "common/json_writer.hpp"
#include "common/time_format.hpp"
#include "evaluator/alerts/alert.hpp"
#include "evaluator/alerts/alert_row.hpp"
#include "evaluator/alerts/alert_timeline.hpp"
#include "evaluator/api/alert_parsing.hpp"
#include "evaluator/api/api_handlers.hpp"
#include "evaluator/api/device_status.hpp"
#include "evaluator/api/query_parsing.hpp"
#include "evaluator/api/request_parsing.hpp"

namespace ste::api {

namespace {
constexpr int kDefaultLimit = 50;
constexpr int kMaxLimit = 500;

// sort=severity: critical, warning, info; then unacknowledged first; then oldest first. The
// rank of a severity the evaluator does not write (only a hand-made row) is warning's, as
// alert_from_row() reads it.
constexpr const char* kSeverityRank =
    "(CASE a.severity WHEN 'critical' THEN 0 WHEN 'info' THEN 2 ELSE 1 END)";

using eval::alert_from_row;
using eval::kAlertColumns;

/// Reads a query parameter with `parse` into `out`; false (after answering 422) when invalid.
template <class T, class Parse>
bool read_param(const httplib::Request& req, httplib::Response& res, const char* name, Parse parse,
                T& out) {
  auto parsed = parse(query_param(req, name));
  if (auto* e = std::get_if<ApiError>(&parsed)) {
    send_error(res, *e);
    return false;
  }
  out = std::move(std::get<T>(parsed));
  return true;
}

void list_alerts(const httplib::Request& req, httplib::Response& res, const Tenant& t,
                 PgConnection& db) {
  if (auto e = unknown_query_param(req, {"device", "metric", "rule_id", "since", "until", "limit",
                                         "cursor", "status", "acked", "severity", "sort"}))
    return send_error(res, *e);
  int n = kDefaultLimit;
  std::optional<TimePoint> since, until;
  AlertListFilter f;
  const auto time_param = [](const char* name) {
    return [name](const std::optional<std::string>& v) { return parse_time_param(v, name); };
  };
  if (!read_param(
          req, res, "limit",
          [](const std::optional<std::string>& v) {
            return parse_limit(v, kDefaultLimit, kMaxLimit);
          },
          n) ||
      !read_param(req, res, "since", time_param("since"), since) ||
      !read_param(req, res, "until", time_param("until"), until) ||
      !read_param(req, res, "status", parse_status_filter, f.statuses) ||
      !read_param(req, res, "acked", parse_acked_filter, f.acked) ||
      !read_param(req, res, "severity", parse_severity_filter, f.severities) ||
      !read_param(req, res, "sort", parse_alert_sort, f.sort)) {
    return;
  }
  std::optional<AlertCursor> cursor;
  std::optional<SeverityCursor> severity_cursor;
  if (auto c = query_param(req, "cursor")) {
    if (f.sort == AlertSort::created) {
      auto decoded = decode_cursor(*c);
      if (auto* e = std::get_if<ApiError>(&decoded)) return send_error(res, *e);
      cursor = std::get<AlertCursor>(decoded);
    } else {
      auto decoded = decode_severity_cursor(*c);
      if (auto* e = std::get_if<ApiError>(&decoded)) return send_error(res, *e);
      severity_cursor = std::get<SeverityCursor>(decoded);
    }
  }
  const auto rule_id = query_param(req, "rule_id");
  if (rule_id && !is_uuid(*rule_id))
    return send_error(res, invalid_field("rule_id must be a UUID"));

  std::vector<PgParam> params{std::to_string(t.id)};
  std::string where = "a.tenant_id = $1";
  const auto add = [&](const std::string& cond, PgParam value) {
    params.push_back(std::move(value));
    where += fmt::format(" AND {}${}", cond, params.size());
  };
  if (auto d = query_param(req, "device")) add("a.device_key = ", *d);
  if (auto m = query_param(req, "metric")) add("a.metric = ", *m);
  if (rule_id) add("a.rule_id = ", *rule_id);
  if (since) add("a.created_at >= ", format_rfc3339_us(*since));
  if (until) add("a.created_at < ", format_rfc3339_us(*until));
  if (!f.statuses.empty()) {
    PgArrayBuilder statuses;
    for (auto s : f.statuses) statuses.add(eval::episode_status_name(s));
    params.push_back(statuses.finish());
    where += fmt::format(" AND a.status = ANY(${}::text[])", params.size());
  }
  if (f.acked) where += *f.acked ? " AND a.acked_at IS NOT NULL" : " AND a.acked_at IS NULL";
  if (!f.severities.empty()) {
    PgArrayBuilder severities;
    for (auto s : f.severities) severities.add(eval::severity_name(s));
    params.push_back(severities.finish());
    where += fmt::format(" AND a.severity = ANY(${}::text[])", params.size());
  }
  std::string order = "a.created_at DESC, a.id DESC";
  if (cursor) {
    params.push_back(format_rfc3339_us(cursor->created_at));
    params.push_back(cursor->id);
    where += fmt::format(" AND (a.created_at, a.id) < (${}::timestamptz, ${}::uuid)",
                         params.size() - 1, params.size());
  }
  if (f.sort == AlertSort::severity) {
    order = fmt::format("{}, (a.acked_at IS NOT NULL), a.created_at, a.id", kSeverityRank);
    if (severity_cursor) {
      params.push_back(std::to_string(severity_cursor->rank));
      params.push_back(severity_cursor->acked ? "true" : "false");
      params.push_back(format_rfc3339_us(severity_cursor->at.created_at));
      params.push_back(severity_cursor->at.id);
      const std::size_t n = params.size();
      where += fmt::format(
          " AND ({}, (a.acked_at IS NOT NULL), a.created_at, a.id) > "
          "(${}::int, ${}::boolean, ${}::timestamptz, ${}::uuid)",
          kSeverityRank, n - 3, n - 2, n - 1, n);
    }
  }
  params.push_back(std::to_string(n + 1));  // one extra row tells whether another page exists
  auto r = db.exec(fmt::format("SELECT {} FROM alerts a JOIN tenants t ON t.id = a.tenant_id "
                               "WHERE {} ORDER BY {} LIMIT ${}",
                               kAlertColumns, where, order, params.size()),
                   params);
  JsonWriter w;
  w.begin_object().key("alerts").begin_array();
  const int shown = std::min(r.rows(), n);
  std::optional<eval::Alert> last;
  for (int i = 0; i < shown; ++i) {
    last = alert_from_row(r, i);
    w.begin_object();
    eval::write_alert_fields(w, *last);
    w.end_object();
  }
  w.end_array().key("next_cursor");
  if (r.rows() > n) {
    const AlertCursor at{last->created_at, last->id};
    if (f.sort == AlertSort::created) {
      w.value(encode_cursor(at));
    } else {
      w.value(
          encode_severity_cursor({severity_rank(last->severity), last->acked_at.has_value(), at}));
    }
  } else {
    w.null();
  }
  w.end_object();
  send_json(res, 200, w.take());
}

void alert_summary(const httplib::Request& req, httplib::Response& res, const Tenant& t,
                   PgConnection& db) {
  if (auto e = unknown_query_param(req, {})) return send_error(res, *e);
  const std::string tenant = std::to_string(t.id);
  auto open = db.exec(
      "SELECT severity, count(*) FILTER (WHERE acked_at IS NOT NULL), "
      "count(*) FILTER (WHERE acked_at IS NULL) FROM alerts "
      "WHERE tenant_id = $1 AND status IN ('pending', 'firing') GROUP BY severity",
      {tenant});
  // The statuses of GET /api/devices against the tenant's cutoff, counted in the database
  // (last_seen_at is the device's last received time, server clock).
  const TimePoint cutoff = device_offline_cutoff(db, t.id);
  auto devices =
      db.exec(fmt::format("SELECT {} AS status, count(*) FROM devices WHERE tenant_id = $1 "
                          "GROUP BY 1",
                          device_status_sql("last_seen_at", "$2")),
              {tenant, format_rfc3339_us(cutoff)});
  JsonWriter w;
  w.begin_object().key("open").begin_object();
  for (auto s : {eval::Severity::critical, eval::Severity::warning, eval::Severity::info}) {
    std::int64_t acked = 0, unacked = 0;
    for (int i = 0; i < open.rows(); ++i) {
      if (open.text(i, 0) == eval::severity_name(s)) {
        acked = open.int64(i, 1);
        unacked = open.int64(i, 2);
      }
    }
    w.key(eval::severity_name(s)).begin_object();
    w.field("acked", acked).field("unacked", unacked);
    w.end_object();
  }
  w.end_object().key("devices").begin_object();
  for (auto s : {DeviceStatus::online, DeviceStatus::offline, DeviceStatus::never_seen}) {
    std::int64_t n = 0;
    for (int i = 0; i < devices.rows(); ++i) {
      if (devices.text(i, 0) == device_status_name(s)) n = devices.int64(i, 1);
    }
    w.field(device_status_name(s), n);
  }
  w.end_object().end_object();
  send_json(res, 200, w.take());
}

void get_alert(const httplib::Request& req, httplib::Response& res, const Tenant& t,
               PgConnection& db) {
  const std::string id = req.matches[1];
  if (!is_uuid(id)) return send_error(res, not_found("no alert with id '" + id + "'"));
  auto alert = eval::load_alert(db, t.id, id);
  if (!alert) return send_error(res, not_found("no alert with id '" + id + "'"));
  send_alert(res, 200, db, t.id, *alert);
}

void alert_events(const httplib::Request& req, httplib::Response& res, const Tenant& t,
                  PgConnection& db) {
  const std::string id = req.matches[1];
  if (!is_uuid(id)) return send_error(res, not_found("no alert with id '" + id + "'"));
  if (auto e = unknown_query_param(req, {})) return send_error(res, *e);
  auto exists =
      db.exec("SELECT 1 FROM alerts WHERE tenant_id = $1 AND id = $2", {std::to_string(t.id), id});
  if (exists.rows() == 0) return send_error(res, not_found("no alert with id '" + id + "'"));
  JsonWriter w;
  w.begin_object().key("events").begin_array();
  for (const auto& e : eval::load_timeline(db, t.id, id)) eval::write_timeline_entry(w, e);
  w.end_array().end_object();
  send_json(res, 200, w.take());
}
}  // namespace

void send_alert(httplib::Response& res, int status, PgConnection& db, std::int64_t tenant_id,
                const eval::Alert& alert) {
  auto d = db.exec(
      "SELECT d.id, d.target, d.status, d.attempts, d.last_error, "
      "  to_char(d.delivered_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"'), "
      "  coalesce((SELECT json_agg(json_build_object('attempt', x.attempt, 'outcome', x.outcome, "
      "      'http_status', x.http_status, 'error', x.error, 'duration_ms', x.duration_ms, "
      "      'at', to_char(x.started_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"')) "
      "ORDER BY x.attempt) "
      "    FROM delivery_attempts x WHERE x.tenant_id = d.tenant_id AND x.delivery_id = d.id), "
      "'[]'), d.event, d.transition_seq "
      "FROM deliveries d WHERE d.tenant_id = $1 AND d.alert_id = $2 "
      "ORDER BY d.transition_seq, d.target",
      {std::to_string(tenant_id), alert.id});
  JsonWriter w;
  w.begin_object();
  eval::write_alert_fields(w, alert);
  w.key("deliveries").begin_array();
  for (int i = 0; i < d.rows(); ++i) {
    w.begin_object();
    w.field("id", d.text(i, 0)).field("target", d.text(i, 1)).field("status", d.text(i, 2));
    w.field("event", d.text(i, 7)).field("transition_seq", d.int64(i, 8));
    w.field("attempts", d.int64(i, 3));
    w.key("last_error");
    d.is_null(i, 4) ? w.null() : w.value(d.text(i, 4));
    w.key("delivered_at");
    d.is_null(i, 5) ? w.null() : w.value(d.text(i, 5));
    w.key("attempt_log").raw(d.text(i, 6));  // built by PostgreSQL's json_agg: valid JSON
    w.end_object();
  }
  w.end_array().end_object();
  res.set_header("ETag", alert_etag(alert.version));
  send_json(res, status, w.take());
}

void register_alert_routes(httplib::Server& s, PgPool& pool) {
  s.Get("/api/alerts", tenant_endpoint(pool, list_alerts));
  // Before /api/alerts/{id}, whose pattern "summary" would match too.
  s.Get("/api/alerts/summary", tenant_endpoint(pool, alert_summary));
  s.Get(R"(/api/alerts/([^/]+)/events)", tenant_endpoint(pool, alert_events));
  s.Get(R"(/api/alerts/([^/]+))", tenant_endpoint(pool, get_alert));
}

}  // namespace ste::api
