#pragma once
/// The HTTP surface every service has: /healthz (process alive), /readyz (dependencies
/// reachable, decided by the service's callback) and /metrics (Prometheus text from the
/// service's registry, with the standard process_* metrics), served by cpp-httplib on its own
/// threads. The evaluator adds its API routes to the same server before start().
#include <httplib.h>
#include <prometheus/registry.h>

#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "common/process_metrics.hpp"

namespace ste {

class ServiceHttp {
 public:
  /// Returns an empty string when ready, otherwise what is not ready.
  using ReadinessCheck = std::function<std::string()>;

  ServiceHttp(std::string addr, std::shared_ptr<prometheus::Registry> registry,
              ReadinessCheck readiness);
  ~ServiceHttp();

  httplib::Server& server() { return server_; }
  /// Binds and starts serving on a background thread; throws if the address cannot be bound.
  void start();
  void stop();
  int port() const { return port_; }

 private:
  std::string addr_;
  std::shared_ptr<prometheus::Registry> registry_;
  ReadinessCheck readiness_;
  ProcessMetrics process_;  ///< process_* metrics, read at each scrape
  httplib::Server server_;
  std::thread thread_;
  int port_ = 0;
};

}  // namespace ste
