// /api/alerts: newest first with filters and keyset cursors; /api/alerts/{id} with deliveries.
#include <fmt/format.h>

#include "common/json_writer.hpp"
#include "common/time_format.hpp"
#include "evaluator/alerts/alert.hpp"
#include "evaluator/alerts/alert_row.hpp"
#include "evaluator/api/api_handlers.hpp"
#include "evaluator/api/query_parsing.hpp"
#include "evaluator/api/request_parsing.hpp"

namespace ste::api {

namespace {
constexpr int kDefaultLimit = 50;
constexpr int kMaxLimit = 500;

using eval::alert_from_row;
using eval::kAlertColumns;

void list_alerts(const httplib::Request& req, httplib::Response& res, const Tenant& t,
                 PgConnection& db) {
  if (auto e = unknown_query_param(
          req, {"device", "metric", "rule_id", "since", "until", "limit", "cursor"}))
    return send_error(res, *e);
  auto limit = parse_limit(query_param(req, "limit"), kDefaultLimit, kMaxLimit);
  if (auto* e = std::get_if<ApiError>(&limit)) return send_error(res, *e);
  auto since = parse_time_param(query_param(req, "since"), "since");
  if (auto* e = std::get_if<ApiError>(&since)) return send_error(res, *e);
  auto until = parse_time_param(query_param(req, "until"), "until");
  if (auto* e = std::get_if<ApiError>(&until)) return send_error(res, *e);
  std::optional<AlertCursor> cursor;
  if (auto c = query_param(req, "cursor")) {
    auto decoded = decode_cursor(*c);
    if (auto* e = std::get_if<ApiError>(&decoded)) return send_error(res, *e);
    cursor = std::get<AlertCursor>(decoded);
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
  if (auto s = std::get<std::optional<TimePoint>>(since))
    add("a.created_at >= ", format_rfc3339_us(*s));
  if (auto u = std::get<std::optional<TimePoint>>(until))
    add("a.created_at < ", format_rfc3339_us(*u));
  if (cursor) {
    params.push_back(format_rfc3339_us(cursor->created_at));
    params.push_back(cursor->id);
    where += fmt::format(" AND (a.created_at, a.id) < (${}::timestamptz, ${}::uuid)",
                         params.size() - 1, params.size());
  }
  const int n = std::get<int>(limit);
  params.push_back(std::to_string(n + 1));  // one extra row tells whether another page exists
  auto r =
      db.exec(fmt::format("SELECT {} FROM alerts a JOIN tenants t ON t.id = a.tenant_id WHERE {} "
                          "ORDER BY a.created_at DESC, a.id DESC LIMIT ${}",
                          kAlertColumns, where, params.size()),
              params);
  JsonWriter w;
  w.begin_object().key("alerts").begin_array();
  const int shown = std::min(r.rows(), n);
  for (int i = 0; i < shown; ++i) {
    w.begin_object();
    eval::write_alert_fields(w, alert_from_row(r, i));
    w.end_object();
  }
  w.end_array().key("next_cursor");
  if (r.rows() > n) {
    w.value(
        encode_cursor({from_epoch_us(r.int64(shown - 1, 1)), std::string(r.text(shown - 1, 0))}));
  } else {
    w.null();
  }
  w.end_object();
  send_json(res, 200, w.take());
}

void get_alert(const httplib::Request& req, httplib::Response& res, const Tenant& t,
               PgConnection& db) {
  const std::string id = req.matches[1];
  if (!is_uuid(id)) return send_error(res, not_found("no alert with id '" + id + "'"));
  auto r = db.exec(fmt::format("SELECT {} FROM alerts a JOIN tenants t ON t.id = a.tenant_id "
                               "WHERE a.tenant_id = $1 AND a.id = $2",
                               kAlertColumns),
                   {std::to_string(t.id), id});
  if (r.rows() == 0) return send_error(res, not_found("no alert with id '" + id + "'"));
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
      {std::to_string(t.id), id});
  JsonWriter w;
  w.begin_object();
  eval::write_alert_fields(w, alert_from_row(r, 0));
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
  send_json(res, 200, w.take());
}
}  // namespace

void register_alert_routes(httplib::Server& s, PgPool& pool, const EpisodeEffects&) {
  s.Get("/api/alerts", tenant_endpoint(pool, list_alerts));
  s.Get(R"(/api/alerts/([^/]+))", tenant_endpoint(pool, get_alert));
}

}  // namespace ste::api
