// POST /admin/tenants: create a tenant with the admin key.
#include "common/api_key.hpp"
#include "common/json_writer.hpp"
#include "common/tenant_admin.hpp"
#include "evaluator/api/api_handlers.hpp"
#include "evaluator/api/request_parsing.hpp"

namespace ste::api {

void register_tenant_routes(httplib::Server& s, PgPool& pool, const std::string& admin_key) {
  s.Post("/admin/tenants", [&pool, admin_key](const httplib::Request& req, httplib::Response& res) {
    if (admin_key.empty()) {
      send_error(res, not_found("admin endpoints are disabled (STE_ADMIN_API_KEY is not set)"));
      return;
    }
    // Compare digests: constant time and independent of the presented key's length.
    if (!constant_time_equal(sha256_hex(request_api_key(req)), sha256_hex(admin_key))) {
      send_error(res, unauthorized("missing or invalid admin API key"));
      return;
    }
    auto parsed = parse_tenant_body(req.body);
    if (auto* e = std::get_if<ApiError>(&parsed)) return send_error(res, *e);
    const auto& in = std::get<TenantInput>(parsed);
    try {
      auto db = pool.acquire(std::chrono::seconds{5});
      const auto t = admin::create_tenant(*db, in.slug, in.name);
      JsonWriter w;
      w.begin_object()
          .field("slug", t.slug)
          .field("name", in.name)
          .field("api_key", t.api_key)
          .end_object();
      send_json(res, 201, w.take());
    } catch (const PgError&) {
      send_error(res, {503, "unavailable", "the database is unavailable; try again"});
    } catch (const std::runtime_error& e) {
      send_error(res, {409, "conflict", e.what()});
    }
  });
}

}  // namespace ste::api
