#include "evaluator/api/api_server.hpp"

#include <fmt/format.h>

#include <algorithm>

#include "common/api_key.hpp"
#include "common/api_keys.hpp"
#include "common/log.hpp"
#include "evaluator/api/api_handlers.hpp"

namespace ste::api {

const std::vector<Route>& api_routes() {
  static const std::vector<Route> kRoutes{
      {"GET", "/api/alerts"},
      {"GET", "/api/alerts/summary"},
      {"GET", "/api/alerts/{id}"},
      {"GET", "/api/alerts/{id}/events"},
      {"POST", "/api/alerts/{id}/ack"},
      {"DELETE", "/api/alerts/{id}/ack"},
      {"POST", "/api/alerts/{id}/comments"},
      {"POST", "/api/alerts/{id}/resolve"},
      {"GET", "/api/rules"},
      {"POST", "/api/rules"},
      {"GET", "/api/rules/{id}"},
      {"PUT", "/api/rules/{id}"},
      {"DELETE", "/api/rules/{id}"},
      {"GET", "/api/devices"},
      {"POST", "/api/devices"},
      {"GET", "/api/devices/{device}/readings"},
      {"GET", "/api/integrations"},
      {"PUT", "/api/integrations"},
      {"GET", "/api/settings"},
      {"PUT", "/api/settings"},
      {"GET", "/api/keys"},
      {"GET", "/api/keys/current"},
      {"POST", "/api/keys"},
      {"DELETE", "/api/keys/{id}"},
      {"GET", "/api/silences"},
      {"POST", "/api/silences"},
      {"POST", "/api/silences/preview"},
      {"GET", "/api/silences/{id}"},
      {"DELETE", "/api/silences/{id}"},
      {"GET", "/api/stream"},
      {"POST", "/admin/tenants"},
      {"GET", "/healthz"},
      {"GET", "/readyz"},
      {"GET", "/metrics"},
  };
  return kRoutes;
}

void send_json(httplib::Response& res, int status, std::string body) {
  res.status = status;
  res.set_content(std::move(body), "application/json");
}

void send_error(httplib::Response& res, const ApiError& e) {
  send_json(res, e.status, error_json(e));
}

std::string request_api_key(const httplib::Request& req) {
  if (req.has_header("X-API-Key")) return req.get_header_value("X-API-Key");
  const std::string auth = req.get_header_value("Authorization");
  constexpr std::string_view kBearer = "Bearer ";
  if (auth.size() > kBearer.size() && auth.compare(0, kBearer.size(), kBearer) == 0) {
    return auth.substr(kBearer.size());
  }
  return {};
}

std::optional<std::string> query_param(const httplib::Request& req, const char* name) {
  if (!req.has_param(name)) return std::nullopt;
  return req.get_param_value(name);
}

std::optional<ApiError> unknown_query_param(const httplib::Request& req,
                                            std::initializer_list<std::string_view> known) {
  for (const auto& [k, v] : req.params) {
    if (std::find(known.begin(), known.end(), k) == known.end()) {
      return ApiError{422, "unknown_field", "unknown query parameter '" + k + "'"};
    }
  }
  return std::nullopt;
}

std::optional<Tenant> authenticate(PgConnection& db, const std::string& key) {
  auto holder = admin::authenticate_api_key(db, key);
  if (!holder) return std::nullopt;
  Tenant t;
  t.id = holder->tenant_id;
  t.slug = std::move(holder->tenant_slug);
  t.key_id = std::move(holder->key_id);
  t.key_name = std::move(holder->key_name);
  t.read_only = holder->role == admin::KeyRole::viewer;
  return t;
}

std::optional<ApiError> role_forbids(const Tenant& t, std::string_view method) {
  if (!t.read_only || method == "GET" || method == "HEAD") return std::nullopt;
  return forbidden(
      fmt::format("API key '{}' has role viewer: it can read but not change anything", t.key_name));
}

httplib::Server::Handler tenant_endpoint(PgPool& pool, TenantHandler handler) {
  return [&pool, handler = std::move(handler)](const httplib::Request& req,
                                               httplib::Response& res) {
    try {
      auto db = pool.acquire(std::chrono::seconds{5});
      const auto tenant = authenticate(*db, request_api_key(req));
      if (!tenant) {
        send_error(res,
                   unauthorized("missing or invalid API key (X-API-Key or Authorization: Bearer)"));
        return;
      }
      // Roles are enforced here, by method, so every endpoint (present and future) obeys them.
      if (auto e = role_forbids(*tenant, req.method)) return send_error(res, *e);
      handler(req, res, *tenant, *db);
    } catch (const PgError& e) {
      log::warn("api request failed on the database", {{"path", req.path}, {"error", e.what()}});
      send_error(res, {503, "unavailable", "the database is unavailable; try again"});
    } catch (const std::exception& e) {
      log::error("api request failed", {{"path", req.path}, {"error", e.what()}});
      send_error(res, {500, "internal", "internal error"});
    }
  };
}

namespace {
bool rate_limited_path(const std::string& path) {
  return path.rfind("/api/", 0) == 0 || path.rfind("/admin/", 0) == 0;
}

prometheus::Counter& rate_limited_counter(prometheus::Registry& r, const std::string& by) {
  return prometheus::BuildCounter()
      .Name("ste_api_rate_limited_total")
      .Help("API requests answered 429: over the per-key rate, or too many 401s from an address")
      .Register(r)
      .Add({{"by", by}});
}

void too_many_requests(httplib::Response& res, std::chrono::seconds retry_after,
                       const std::string& why) {
  res.set_header("Retry-After", std::to_string(retry_after.count()));
  send_error(res,
             {429, "rate_limited", fmt::format("{}; retry after {} s", why, retry_after.count())});
}
}  // namespace

httplib::Server::HandlerResponse ApiServer::limit_rate(const httplib::Request& req,
                                                       httplib::Response& res) {
  using HR = httplib::Server::HandlerResponse;
  if (!rate_limited_path(req.path)) return HR::Unhandled;
  const TimePoint now = clock_.now();
  if (unauthorized_per_address_.exhausted(req.remote_addr, now)) {
    limited_by_address_.Increment();
    too_many_requests(res, std::chrono::seconds{1},
                      "too many requests with a missing or invalid API key from this address");
    return HR::Handled;
  }
  const std::string key = request_api_key(req);
  if (key.empty()) return HR::Unhandled;  // answered 401, and counted per address below
  // The bucket is named by the key's hash: the limiter never holds a key itself.
  const RateDecision d = per_key_.take(sha256_hex(key), now);
  if (d.allowed) return HR::Unhandled;
  limited_by_key_.Increment();
  too_many_requests(
      res, d.retry_after,
      fmt::format("more than {} requests per second with this API key", limits_.rate.per_second));
  return HR::Handled;
}

ApiServer::ApiServer(httplib::Server& server, PgPool& pool, std::string admin_key, ApiLimits limits,
                     const Clock& clock, prometheus::Registry& registry, EpisodeEffects effects,
                     stream::StreamHub* hub)
    : pool_(pool),
      admin_key_(std::move(admin_key)),
      limits_(limits),
      clock_(clock),
      per_key_(limits.rate),
      unauthorized_per_address_(limits.rate),
      limited_by_key_(rate_limited_counter(registry, "key")),
      limited_by_address_(rate_limited_counter(registry, "address")),
      effects_(std::move(effects)) {
  server.set_payload_max_length(limits_.max_body_bytes);
  server.set_pre_routing_handler(
      [this](const httplib::Request& req, httplib::Response& res) { return limit_rate(req, res); });
  server.set_post_routing_handler([this](const httplib::Request& req, httplib::Response& res) {
    if (res.status == 401 && rate_limited_path(req.path)) {
      unauthorized_per_address_.take(req.remote_addr, clock_.now());
    }
  });
  // Every error, including those cpp-httplib produces itself (unknown route 404, body over the
  // limit 413), leaves in the API's error format.
  server.set_error_handler([this](const httplib::Request& req, httplib::Response& res) {
    if (!res.body.empty()) return;
    switch (res.status) {
      case 404:
        send_error(res, not_found("no route for " + req.method + " " + req.path));
        break;
      case 413:
        send_error(res,
                   {413, "too_large",
                    fmt::format("request body is larger than {} bytes (STE_API_MAX_BODY_BYTES)",
                                limits_.max_body_bytes)});
        break;
      case 405:
        send_error(res, {405, "method_not_allowed", "method not allowed"});
        break;
      default:
        send_error(res, {res.status, "error", "request failed"});
        break;
    }
  });
  register_alert_routes(server, pool_);
  register_alert_action_routes(server, pool_, effects_);
  register_rule_routes(server, pool_, limits_.max_rules_per_tenant, effects_);
  register_device_routes(server, pool_);
  register_integration_routes(server, pool_);
  register_key_routes(server, pool_);
  register_settings_routes(server, pool_);
  register_silence_routes(server, pool_);
  register_tenant_routes(server, pool_, admin_key_);
  register_stream_routes(server, pool_, hub);
}

}  // namespace ste::api
