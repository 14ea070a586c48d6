// /api/silences (docs/ALERTING.md §3): create, list, read, expire (DELETE) and preview. Writes
// need an operator key (tenant_endpoint). A silence mutes notifications only; the muting itself
// happens where notifications are queued (evaluator/alerts/episode_log.cpp) and the timer sends
// what a silence held back once it ends (episode_timer.cpp). Matching is PostgreSQL's
// (ste_silence_matches, schema 009), always within the caller's tenant.
#include <fmt/format.h>

#include "common/json_writer.hpp"
#include "common/time_format.hpp"
#include "evaluator/alerts/alert_row.hpp"
#include "evaluator/api/api_handlers.hpp"
#include "evaluator/api/query_parsing.hpp"
#include "evaluator/api/silence_parsing.hpp"

namespace ste::api {

namespace {

#define STE_US(col) "(extract(epoch FROM " col ") * 1000000)::bigint"
constexpr const char* kSilenceColumns =
    "id, matchers::text, " STE_US("starts_at") ", " STE_US("ends_at") ", comment, created_by, "
    STE_US("created_at") ", CASE WHEN now() < starts_at THEN 'pending' "
    "WHEN now() < ends_at THEN 'active' ELSE 'expired' END";
#undef STE_US

void write_silence(JsonWriter& w, const PgResult& r, int i) {
  w.begin_object();
  w.field("id", r.text(i, 0));
  w.key("matchers").raw(r.text(i, 1));
  w.field("starts_at", format_rfc3339_ms(from_epoch_us(r.int64(i, 2))));
  w.field("ends_at", format_rfc3339_ms(from_epoch_us(r.int64(i, 3))));
  w.field("comment", r.text(i, 4));
  w.field("created_by", r.text(i, 5));
  w.field("created_at", format_rfc3339_ms(from_epoch_us(r.int64(i, 6))));
  w.field("status", r.text(i, 7));
  w.end_object();
}

void send_silence(httplib::Response& res, int status, const PgResult& r) {
  JsonWriter w;
  write_silence(w, r, 0);
  send_json(res, status, w.take());
}

std::string matchers_json(const std::vector<Matcher>& matchers) {
  JsonWriter w;
  w.begin_array();
  for (const auto& m : matchers) {
    w.begin_object().field("field", m.field).field("op", m.op).field("value", m.value);
    w.end_object();
  }
  w.end_array();
  return w.take();
}

/// 422 naming the first regex matcher PostgreSQL cannot compile (anchored as when matching).
std::optional<ApiError> invalid_regex(PgConnection& db, const std::vector<Matcher>& matchers) {
  for (std::size_t i = 0; i < matchers.size(); ++i) {
    if (!matchers[i].is_regex()) continue;
    try {
      db.exec("SELECT '' ~ ('^(?:' || $1 || ')$')", {matchers[i].value});
    } catch (const PgError& e) {
      if (e.sqlstate() != "2201B") throw;  // invalid_regular_expression; anything else is ours
      std::string why = e.what();
      if (const auto at = why.find("invalid regular expression"); at != std::string::npos) {
        why = why.substr(at);
      }
      while (!why.empty() && (why.back() == '\n' || why.back() == ' ')) why.pop_back();
      return invalid_field(
          fmt::format("matchers[{}].value is not a valid regular expression ({})", i, why));
    }
  }
  return std::nullopt;
}

void silence_not_found(httplib::Response& res, const std::string& id) {
  send_error(res, not_found("no silence with id '" + id + "'"));
}

void create_silence(const httplib::Request& req, httplib::Response& res, const Tenant& t,
                    PgConnection& db) {
  const TimePoint now =
      from_epoch_us(db.exec("SELECT (extract(epoch FROM now()) * 1000000)::bigint").int64(0, 0));
  auto parsed = parse_silence_body(req.body, now);
  if (auto* e = std::get_if<ApiError>(&parsed)) return send_error(res, *e);
  const SilenceInput& in = std::get<SilenceInput>(parsed);
  if (auto e = invalid_regex(db, in.matchers)) return send_error(res, *e);
  auto r =
      db.exec(fmt::format("INSERT INTO silences (tenant_id, matchers, starts_at, ends_at, comment, "
                          "created_by) VALUES ($1, $2::json, $3, $4, $5, $6) RETURNING {}",
                          kSilenceColumns),
              {std::to_string(t.id), matchers_json(in.matchers), format_rfc3339_us(in.starts_at),
               format_rfc3339_us(in.ends_at), in.comment, t.key_name});
  send_silence(res, 201, r);
}

void list_silences(const httplib::Request& req, httplib::Response& res, const Tenant& t,
                   PgConnection& db) {
  if (auto e = unknown_query_param(req, {"status"})) return send_error(res, *e);
  const auto status = query_param(req, "status");
  if (status && *status != "pending" && *status != "active" && *status != "expired") {
    return send_error(res, invalid_field("status must be one of pending, active, expired"));
  }
  auto rows = db.exec(
      fmt::format("SELECT {} FROM silences WHERE tenant_id = $1 AND ($2::text IS NULL OR "
                  "CASE WHEN now() < starts_at THEN 'pending' WHEN now() < ends_at THEN 'active' "
                  "ELSE 'expired' END = $2) ORDER BY created_at DESC, id LIMIT 1000",
                  kSilenceColumns),
      {std::to_string(t.id), status ? PgParam(*status) : PgParam()});
  JsonWriter w;
  w.begin_object().key("silences").begin_array();
  for (int i = 0; i < rows.rows(); ++i) write_silence(w, rows, i);
  w.end_array().end_object();
  send_json(res, 200, w.take());
}

void get_silence(const httplib::Request& req, httplib::Response& res, const Tenant& t,
                 PgConnection& db) {
  const std::string id = req.matches[1];
  if (!is_uuid(id)) return silence_not_found(res, id);
  auto r = db.exec(
      fmt::format("SELECT {} FROM silences WHERE tenant_id = $1 AND id = $2", kSilenceColumns),
      {std::to_string(t.id), id});
  if (r.rows() == 0) return silence_not_found(res, id);
  send_silence(res, 200, r);
}

/// Expires the silence now (a pending one never starts); an expired one is answered unchanged.
void expire_silence(const httplib::Request& req, httplib::Response& res, const Tenant& t,
                    PgConnection& db) {
  const std::string id = req.matches[1];
  if (!is_uuid(id)) return silence_not_found(res, id);
  auto r = db.exec(
      fmt::format("UPDATE silences SET ends_at = now(), starts_at = least(starts_at, now()) "
                  "WHERE tenant_id = $1 AND id = $2 AND ends_at > now() RETURNING {}",
                  kSilenceColumns),
      {std::to_string(t.id), id});
  if (r.rows() == 0) return get_silence(req, res, t, db);
  send_silence(res, 200, r);
}

void preview_silence(const httplib::Request& req, httplib::Response& res, const Tenant& t,
                     PgConnection& db) {
  auto parsed = parse_preview_body(req.body);
  if (auto* e = std::get_if<ApiError>(&parsed)) return send_error(res, *e);
  const auto& matchers = std::get<std::vector<Matcher>>(parsed);
  if (auto e = invalid_regex(db, matchers)) return send_error(res, *e);
  auto r = db.exec(
      fmt::format("SELECT {} FROM alerts a JOIN tenants t ON t.id = a.tenant_id "
                  "WHERE a.tenant_id = $1 AND a.status IN ('pending', 'firing') "
                  "AND ste_silence_matches($2::json, a.device_key, a.metric, a.rule_id::text, "
                  "a.severity) ORDER BY a.created_at, a.id",
                  eval::kAlertColumns),
      {std::to_string(t.id), matchers_json(matchers)});
  JsonWriter w;
  w.begin_object().key("alerts").begin_array();
  for (int i = 0; i < r.rows(); ++i) {
    w.begin_object();
    eval::write_alert_fields(w, eval::alert_from_row(r, i));
    w.end_object();
  }
  w.end_array().end_object();
  send_json(res, 200, w.take());
}

}  // namespace

void register_silence_routes(httplib::Server& s, PgPool& pool) {
  s.Post("/api/silences/preview", tenant_endpoint(pool, preview_silence));
  s.Post("/api/silences", tenant_endpoint(pool, create_silence));
  s.Get("/api/silences", tenant_endpoint(pool, list_silences));
  s.Get(R"(/api/silences/([^/]+))", tenant_endpoint(pool, get_silence));
  s.Delete(R"(/api/silences/([^/]+))", tenant_endpoint(pool, expire_silence));
}

}  // namespace ste::api
