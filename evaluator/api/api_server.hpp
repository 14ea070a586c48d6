#pragma once
/// The HTTP API (docs/DESIGN.md §7), served by cpp-httplib on the evaluator's ServiceHttp server.
/// ApiServer registers every route of api_routes() and owns the cross-cutting parts: tenant
/// authentication (X-API-Key or Authorization: Bearer, looked up by SHA-256 and compared in
/// constant time), the admin key, the limits (body size, requests per key, rules per tenant; see
/// docs/limits.md), and one error format for everything, including unknown routes, oversized
/// bodies and 429s. Tenant scoping is in the SQL of every query.
/// Handlers run on cpp-httplib's threads, each taking a connection from the shared PgPool.
#include <httplib.h>
#include <prometheus/counter.h>
#include <prometheus/registry.h>

#include <string>
#include <vector>

#include "common/clock.hpp"
#include "common/pg_pool.hpp"
#include "evaluator/api/episode_effects.hpp"
#include "evaluator/api/request_rate_limiter.hpp"

namespace ste::stream {
class StreamHub;
}

namespace ste::api {

/// One route as documented in docs/openapi.yaml (path templates use {name}).
struct Route {
  std::string method;
  std::string path;
};
/// Every route the API serves (a test checks each appears in docs/openapi.yaml).
const std::vector<Route>& api_routes();

struct ApiLimits {
  std::size_t max_body_bytes = 1024 * 1024;  ///< STE_API_MAX_BODY_BYTES; larger bodies get 413
  int max_rules_per_tenant = 1000;           ///< STE_MAX_RULES_PER_TENANT; POST beyond gets 409
  /// STE_API_RATE_PER_SECOND / STE_API_RATE_BURST: requests per API key; the same budget applies
  /// per client address to requests answered 401 (missing or wrong key), against key guessing.
  RateLimit rate;
};

class ApiServer {
 public:
  /// `admin_key` empty = /admin/* answers 404 (disabled). `clock` drives the rate limits;
  /// `registry` gets `ste_api_rate_limited_total{by="key"|"address"}` (429s answered).
  /// `effects`: outbox targets and live events for API writes that change episodes. `hub`: the
  /// live events of GET /api/stream (null: that route answers 503).
  ApiServer(httplib::Server& server, PgPool& pool, std::string admin_key, ApiLimits limits,
            const Clock& clock, prometheus::Registry& registry, EpisodeEffects effects = {},
            stream::StreamHub* hub = nullptr);

 private:
  /// 429 with Retry-After when the caller is over its budget; Unhandled otherwise.
  httplib::Server::HandlerResponse limit_rate(const httplib::Request& req, httplib::Response& res);

  PgPool& pool_;
  std::string admin_key_;
  ApiLimits limits_;
  const Clock& clock_;
  RequestRateLimiter per_key_;
  RequestRateLimiter unauthorized_per_address_;
  prometheus::Counter& limited_by_key_;
  prometheus::Counter& limited_by_address_;
  EpisodeEffects effects_;
};

}  // namespace ste::api
