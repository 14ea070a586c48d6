// /api/keys: the tenant's named API keys (docs/ALERTING.md §2). The secret is in the answer to
// POST only; lists never carry a secret or a hash. The logic is common/api_keys (shared with
// `ste-admin key`); this file maps it to HTTP. Writes need an operator key (tenant_endpoint).
#include "common/api_keys.hpp"
#include "common/json_writer.hpp"
#include "evaluator/api/api_handlers.hpp"
#include "evaluator/api/query_parsing.hpp"
#include "evaluator/api/request_parsing.hpp"

namespace ste::api {

namespace {
void write_key(JsonWriter& w, const admin::ApiKeyInfo& k) {
  w.field("id", k.id).field("name", k.name);
  w.field("role", admin::key_role_name(k.role)).field("created_at", k.created_at);
}

ApiError key_error(const admin::KeyError& e) {
  switch (e.code) {
    case admin::KeyErrc::invalid_name:
      return invalid_field("name: " + e.message);
    case admin::KeyErrc::duplicate_name:
      return {409, "conflict", e.message};
    case admin::KeyErrc::not_found:
      return not_found(e.message);
    case admin::KeyErrc::last_operator:
      return {409, "last_operator_key", e.message};
  }
  return {500, "internal", "internal error"};
}

void create_key(const httplib::Request& req, httplib::Response& res, const Tenant& t,
                PgConnection& db) {
  auto parsed = parse_key_body(req.body);
  if (auto* e = std::get_if<ApiError>(&parsed)) return send_error(res, *e);
  const auto& in = std::get<KeyInput>(parsed);
  auto created = admin::create_api_key(db, t.id, in.name, in.role);
  if (auto* e = std::get_if<admin::KeyError>(&created)) return send_error(res, key_error(*e));
  const auto& k = std::get<admin::CreatedApiKey>(created);
  JsonWriter w;
  w.begin_object();
  write_key(w, k.info);
  w.field("key", k.key).end_object();
  send_json(res, 201, w.take());
}

void list_keys(const httplib::Request& req, httplib::Response& res, const Tenant& t,
               PgConnection& db) {
  if (auto e = unknown_query_param(req, {})) return send_error(res, *e);
  JsonWriter w;
  w.begin_object().key("keys").begin_array();
  for (const auto& k : admin::list_api_keys(db, t.id)) {
    w.begin_object();
    write_key(w, k);
    w.end_object();
  }
  w.end_array().end_object();
  send_json(res, 200, w.take());
}

/// Who am I: the key the request was made with (the operator page shows its actions by role).
void current_key(const httplib::Request& req, httplib::Response& res, const Tenant& t,
                 PgConnection&) {
  if (auto e = unknown_query_param(req, {})) return send_error(res, *e);
  JsonWriter w;
  w.begin_object().field("id", t.key_id).field("name", t.key_name);
  w.field("role", t.read_only ? "viewer" : "operator").field("tenant", t.slug).end_object();
  send_json(res, 200, w.take());
}

void revoke_key(const httplib::Request& req, httplib::Response& res, const Tenant& t,
                PgConnection& db) {
  const std::string id = req.matches[1];
  if (!is_uuid(id)) return send_error(res, not_found("no API key with id '" + id + "'"));
  auto revoked = admin::revoke_api_key(db, t.id, id, admin::KeyLookup::id);
  if (auto* e = std::get_if<admin::KeyError>(&revoked)) return send_error(res, key_error(*e));
  res.status = 204;
}
}  // namespace

void register_key_routes(httplib::Server& s, PgPool& pool) {
  s.Get("/api/keys", tenant_endpoint(pool, list_keys));
  s.Get("/api/keys/current", tenant_endpoint(pool, current_key));
  s.Post("/api/keys", tenant_endpoint(pool, create_key));
  s.Delete(R"(/api/keys/([^/]+))", tenant_endpoint(pool, revoke_key));
}

}  // namespace ste::api
