#pragma once
/// The HTTP API (docs/DESIGN.md §7), served by cpp-httplib on the evaluator's ServiceHttp server.
/// ApiServer registers every route of api_routes() and owns the cross-cutting parts: tenant
/// authentication (X-API-Key or Authorization: Bearer, looked up by SHA-256 and compared in
/// constant time), the admin key, the 1 MiB body limit, and one error format for everything,
/// including unknown routes and oversized bodies. Tenant scoping is in the SQL of every query.
/// Handlers run on cpp-httplib's threads, each taking a connection from the shared PgPool.
#include <httplib.h>

#include <string>
#include <vector>

#include "common/pg_pool.hpp"

namespace ste::api {

/// One route as documented in docs/openapi.yaml (path templates use {name}).
struct Route {
  std::string method;
  std::string path;
};
/// Every route the API serves (a test checks each appears in docs/openapi.yaml).
const std::vector<Route>& api_routes();

inline constexpr std::size_t kMaxBodyBytes = 1024 * 1024;

class ApiServer {
 public:
  /// `admin_key` empty = /admin/* answers 404 (disabled).
  ApiServer(httplib::Server& server, PgPool& pool, std::string admin_key);

 private:
  PgPool& pool_;
  std::string admin_key_;
};

}  // namespace ste::api
