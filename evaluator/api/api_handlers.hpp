#pragma once
/// Shared plumbing for the API handlers: the authenticated tenant, JSON responses, and the
/// boundary that turns exceptions into error responses. Internal to evaluator/api.
#include <httplib.h>

#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "common/pg_pool.hpp"
#include "evaluator/alerts/alert.hpp"
#include "evaluator/api/api_error.hpp"
#include "evaluator/api/episode_effects.hpp"
#include "evaluator/api/request_parsing.hpp"

namespace ste::stream {
class StreamHub;
}

namespace ste::api {

/// Who made the request: the tenant and the API key it used (docs/ALERTING.md §2).
struct Tenant {
  std::int64_t id = 0;
  std::string slug;
  std::string key_id;                ///< the api_keys row's uuid
  std::string key_name = "default";  ///< recorded as acked_by, created_by, a timeline's actor
  bool read_only = false;            ///< a `viewer` key: reads everything, changes nothing (403)
};

void send_json(httplib::Response& res, int status, std::string body);
void send_error(httplib::Response& res, const ApiError& e);

/// The request's API key (X-API-Key, or Authorization: Bearer <key>); empty when absent.
std::string request_api_key(const httplib::Request& req);
/// The tenant owning the live (not revoked) key `key` and that key's name and role, or nullopt.
std::optional<Tenant> authenticate(PgConnection& db, const std::string& key);
/// 403 `forbidden` naming the key when its role does not allow `method`: a viewer key may only
/// GET and HEAD. nullopt when allowed. Pure.
std::optional<ApiError> role_forbids(const Tenant& t, std::string_view method);

/// A query parameter's value, nullopt when absent.
std::optional<std::string> query_param(const httplib::Request& req, const char* name);
/// 422 `unknown_field` naming the first query parameter not in `known`; nullopt when all are known.
std::optional<ApiError> unknown_query_param(const httplib::Request& req,
                                            std::initializer_list<std::string_view> known);

/// The alert object with its deliveries and `ETag: "<version>"`: the answer of GET
/// /api/alerts/{id}, and of the actions that change an alert (ack, un-ack, resolve).
void send_alert(httplib::Response& res, int status, PgConnection& db, std::int64_t tenant_id,
                const eval::Alert& alert);

/// The instant before which a device of the tenant counts as offline: the database's now() minus
/// the tenant's device_offline_minutes (received times are stamped by the database's clock, so
/// the API's host clock never enters the decision). See device_status.hpp.
TimePoint device_offline_cutoff(PgConnection& db, std::int64_t tenant_id);

using TenantHandler =
    std::function<void(const httplib::Request&, httplib::Response&, const Tenant&, PgConnection&)>;
/// Wraps a tenant endpoint: authentication (401), the key's role (403, role_forbids), a pooled
/// connection, and the error boundary (database unavailable -> 503, anything else -> 500, both
/// in the API's error format).
httplib::Server::Handler tenant_endpoint(PgPool& pool, TenantHandler handler);

/// Registers the resource handlers (one function per resource file).
void register_alert_routes(httplib::Server& s, PgPool& pool);
void register_alert_action_routes(httplib::Server& s, PgPool& pool, const EpisodeEffects& effects);
void register_rule_routes(httplib::Server& s, PgPool& pool, int max_rules_per_tenant,
                          const EpisodeEffects& effects);
void register_device_routes(httplib::Server& s, PgPool& pool);
void register_integration_routes(httplib::Server& s, PgPool& pool);
void register_key_routes(httplib::Server& s, PgPool& pool);
void register_settings_routes(httplib::Server& s, PgPool& pool);
void register_silence_routes(httplib::Server& s, PgPool& pool);
void register_tenant_routes(httplib::Server& s, PgPool& pool, const std::string& admin_key);
/// GET /api/stream; answers 503 when `hub` is null.
void register_stream_routes(httplib::Server& s, PgPool& pool, stream::StreamHub* hub);

}  // namespace ste::api
