// Changing alerts (docs/ALERTING.md §2): POST/DELETE /api/alerts/{id}/ack,
// POST /api/alerts/{id}/comments, POST /api/alerts/{id}/resolve. The transaction, the lock and
// the decision are episode_actions.cpp's; this file parses the request, answers, and publishes
// the live event after the commit. Every statement is scoped by tenant_id, so another tenant's
// alert id answers exactly like one that does not exist (404), whatever the body or If-Match.
#include "common/json_writer.hpp"
#include "evaluator/alerts/episode_actions.hpp"
#include "evaluator/api/alert_parsing.hpp"
#include "evaluator/api/api_handlers.hpp"
#include "evaluator/api/query_parsing.hpp"

namespace ste::api {

namespace {

using eval::ActionResult;
using eval::AlertAction;

void alert_not_found(httplib::Response& res, const std::string& id) {
  send_error(res, not_found("no alert with id '" + id + "'"));
}

/// The request's text for `action`: the optional comment of ack and resolve, the required text
/// of a comment, nothing for un-ack (whose body is ignored, as DELETE bodies are).
Parsed<std::optional<std::string>> action_text(AlertAction action, const std::string& body) {
  switch (action) {
    case AlertAction::ack:
    case AlertAction::resolve:
      return parse_optional_comment_body(body);
    case AlertAction::comment: {
      auto text = parse_comment_body(body);
      if (auto* e = std::get_if<ApiError>(&text)) return *e;
      return std::optional<std::string>{std::move(std::get<std::string>(text))};
    }
    case AlertAction::unack:
      break;
  }
  return std::optional<std::string>{};
}

void act(AlertAction action, const httplib::Request& req, httplib::Response& res, const Tenant& t,
         PgConnection& db, const EpisodeEffects& effects) {
  const std::string id = req.matches[1];
  if (!is_uuid(id)) return alert_not_found(res, id);
  // Existence in this tenant is checked before the request is validated (as for rules).
  if (db.exec("SELECT 1 FROM alerts WHERE tenant_id = $1 AND id = $2", {std::to_string(t.id), id})
          .rows() == 0) {
    return alert_not_found(res, id);
  }
  std::optional<std::string> if_match;
  if (req.has_header("If-Match")) if_match = req.get_header_value("If-Match");
  auto expected = parse_if_match(if_match);
  if (auto* e = std::get_if<ApiError>(&expected)) return send_error(res, *e);
  auto text = action_text(action, req.body);
  if (auto* e = std::get_if<ApiError>(&text)) return send_error(res, *e);

  eval::ActionRequest rq;
  rq.tenant_id = t.id;
  rq.alert_id = id;
  rq.actor = t.key_name;
  rq.text = std::move(std::get<std::optional<std::string>>(text));
  rq.expected_version = std::get<std::optional<int>>(expected);
  ActionResult r = eval::perform_action(db, action, rq, [&] { return effects.targets(db, t.id); });
  // perform_action has committed: the live event goes out now, never for a rolled-back change.
  if (r.notice) effects.published({*r.notice});
  switch (r.kind) {
    case ActionResult::Kind::not_found:
      return alert_not_found(res, id);
    case ActionResult::Kind::version_mismatch:
      res.set_header("ETag", alert_etag(r.alert->version));
      return send_error(res, {409, "version_mismatch", r.reason});
    case ActionResult::Kind::refused:
      return send_error(res, {409, "invalid_state", r.reason});
    case ActionResult::Kind::applied:
    case ActionResult::Kind::unchanged:
      break;
  }
  if (action == AlertAction::comment) {
    JsonWriter w;
    eval::write_timeline_entry(w, *r.entry);
    return send_json(res, 201, w.take());
  }
  send_alert(res, 200, db, t.id, *r.alert);
}

httplib::Server::Handler action_endpoint(PgPool& pool, const EpisodeEffects& effects,
                                         AlertAction action) {
  return tenant_endpoint(
      pool, [&effects, action](const httplib::Request& req, httplib::Response& res, const Tenant& t,
                               PgConnection& db) { act(action, req, res, t, db, effects); });
}

}  // namespace

void register_alert_action_routes(httplib::Server& s, PgPool& pool, const EpisodeEffects& effects) {
  s.Post(R"(/api/alerts/([^/]+)/ack)", action_endpoint(pool, effects, AlertAction::ack));
  s.Delete(R"(/api/alerts/([^/]+)/ack)", action_endpoint(pool, effects, AlertAction::unack));
  s.Post(R"(/api/alerts/([^/]+)/comments)", action_endpoint(pool, effects, AlertAction::comment));
  s.Post(R"(/api/alerts/([^/]+)/resolve)", action_endpoint(pool, effects, AlertAction::resolve));
}

}  // namespace ste::api
