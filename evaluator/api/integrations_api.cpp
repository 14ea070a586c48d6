// /api/integrations: a tenant's own webhook targets. Secrets are write-only: shown as set/unset.
#include "common/json_writer.hpp"
#include "evaluator/api/api_handlers.hpp"
#include "evaluator/api/request_parsing.hpp"

namespace ste::api {

namespace {
void write_integrations(httplib::Response& res, const Tenant& t, PgConnection& db) {
  auto r = db.exec(
      "SELECT notification_hub_url, notification_hub_api_key IS NOT NULL, workflow_engine_url, "
      "workflow_engine_secret IS NOT NULL FROM tenant_integrations WHERE tenant_id = $1",
      {std::to_string(t.id)});
  const bool row = r.rows() == 1;
  JsonWriter w;
  w.begin_object();
  w.key("notification_hub_url");
  row && !r.is_null(0, 0) ? w.value(r.text(0, 0)) : w.null();
  w.field("notification_hub_api_key_set", row && r.boolean(0, 1));
  w.key("workflow_engine_url");
  row && !r.is_null(0, 2) ? w.value(r.text(0, 2)) : w.null();
  w.field("workflow_engine_secret_set", row && r.boolean(0, 3));
  w.end_object();
  send_json(res, 200, w.take());
}

/// $n is "keep" unless the field was present; then its value (NULL = cleared).
std::string assignment(const char* column, const Field& f, std::vector<PgParam>& params) {
  if (!f.present) return std::string(column) + " = tenant_integrations." + column;
  params.push_back(f.value);
  return std::string(column) + " = $" + std::to_string(params.size());
}
}  // namespace

void register_integration_routes(httplib::Server& s, PgPool& pool) {
  s.Get("/api/integrations",
        tenant_endpoint(pool, [](const auto&, auto& res, const Tenant& t, PgConnection& db) {
          write_integrations(res, t, db);
        }));
  s.Put("/api/integrations",
        tenant_endpoint(pool, [](const auto& req, auto& res, const Tenant& t, PgConnection& db) {
          auto parsed = parse_integrations_body(req.body);
          if (auto* e = std::get_if<ApiError>(&parsed)) return send_error(res, *e);
          const auto& in = std::get<IntegrationsInput>(parsed);
          std::vector<PgParam> params{std::to_string(t.id)};
          const std::string sets =
              assignment("notification_hub_url", in.notification_hub_url, params) + ", " +
              assignment("notification_hub_api_key", in.notification_hub_api_key, params) + ", " +
              assignment("workflow_engine_url", in.workflow_engine_url, params) + ", " +
              assignment("workflow_engine_secret", in.workflow_engine_secret, params);
          db.exec(
              "INSERT INTO tenant_integrations (tenant_id) VALUES ($1) ON CONFLICT (tenant_id) DO "
              "NOTHING",
              {std::to_string(t.id)});
          db.exec("UPDATE tenant_integrations SET " + sets +
                      ", updated_at = now() WHERE tenant_id = $1",
                  params);
          write_integrations(res, t, db);
        }));
}

}  // namespace ste::api
