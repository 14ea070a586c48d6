// /api/settings: a tenant's own settings (today device_offline_minutes, docs/ALERTING.md §4).
#include "common/json_writer.hpp"
#include "evaluator/api/api_handlers.hpp"
#include "evaluator/api/device_status.hpp"
#include "evaluator/api/request_parsing.hpp"

namespace ste::api {

namespace {
void write_settings(httplib::Response& res, const Tenant& t, PgConnection& db) {
  auto r =
      db.exec("SELECT device_offline_minutes FROM tenants WHERE id = $1", {std::to_string(t.id)});
  JsonWriter w;
  w.begin_object().field("device_offline_minutes", r.int64(0, 0)).end_object();
  send_json(res, 200, w.take());
}
}  // namespace

TimePoint device_offline_cutoff(PgConnection& db, std::int64_t tenant_id) {
  auto r = db.exec(
      "SELECT (extract(epoch FROM now()) * 1000000)::bigint, device_offline_minutes FROM tenants "
      "WHERE id = $1",
      {std::to_string(tenant_id)});
  return offline_cutoff(from_epoch_us(r.int64(0, 0)), std::chrono::minutes{r.int64(0, 1)});
}

void register_settings_routes(httplib::Server& s, PgPool& pool) {
  s.Get("/api/settings",
        tenant_endpoint(pool, [](const httplib::Request& req, httplib::Response& res,
                                 const Tenant& t, PgConnection& db) {
          if (auto e = unknown_query_param(req, {})) return send_error(res, *e);
          write_settings(res, t, db);
        }));
  s.Put("/api/settings",
        tenant_endpoint(pool, [](const httplib::Request& req, httplib::Response& res,
                                 const Tenant& t, PgConnection& db) {
          auto parsed = parse_settings_body(req.body);
          if (auto* e = std::get_if<ApiError>(&parsed)) return send_error(res, *e);
          const auto& in = std::get<SettingsInput>(parsed);
          if (in.device_offline_minutes) {
            db.exec("UPDATE tenants SET device_offline_minutes = $2 WHERE id = $1",
                    {std::to_string(t.id), std::to_string(*in.device_offline_minutes)});
          }
          write_settings(res, t, db);
        }));
}

}  // namespace ste::api
