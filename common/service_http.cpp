#include "common/service_http.hpp"

#include <prometheus/text_serializer.h>

#include <stdexcept>

#include "common/json_writer.hpp"
#include "common/log.hpp"
#include "common/settings.hpp"

namespace ste {

ServiceHttp::ServiceHttp(std::string addr, std::shared_ptr<prometheus::Registry> registry,
                         ReadinessCheck readiness)
    : addr_(std::move(addr)),
      registry_(std::move(registry)),
      readiness_(std::move(readiness)),
      process_(*registry_) {
  server_.Get("/healthz", [](const httplib::Request&, httplib::Response& res) {
    res.set_content(R"({"status":"ok"})", "application/json");
  });
  server_.Get("/readyz", [this](const httplib::Request&, httplib::Response& res) {
    const std::string problem = readiness_ ? readiness_() : std::string{};
    JsonWriter w;
    w.begin_object();
    if (problem.empty()) {
      w.field("status", "ready");
    } else {
      res.status = 503;
      w.field("status", "not_ready").field("reason", problem);
    }
    w.end_object();
    res.set_content(w.str(), "application/json");
  });
  server_.Get("/metrics", [this](const httplib::Request&, httplib::Response& res) {
    process_.update();
    prometheus::TextSerializer serializer;
    res.set_content(serializer.Serialize(registry_->Collect()), "text/plain; version=0.0.4");
  });
}

ServiceHttp::~ServiceHttp() { stop(); }

void ServiceHttp::start() {
  const auto [host, port] = parse_host_port(addr_, "STE_HTTP_ADDR");
  if (port == 0) {
    port_ = server_.bind_to_any_port(host);
  } else {
    port_ = server_.bind_to_port(host, port) ? port : -1;
  }
  if (port_ < 0) throw std::runtime_error("cannot listen on " + addr_ + " (STE_HTTP_ADDR)");
  thread_ = std::thread([this] { server_.listen_after_bind(); });
  log::info("http listening", {{"addr", host + ":" + std::to_string(port_)}});
}

void ServiceHttp::stop() {
  if (thread_.joinable()) {
    server_.stop();
    thread_.join();
  }
}

}  // namespace ste
