// ste-webhook-sink: a tiny local receiver for webhook deliveries (docs/DESIGN.md §6), for the demo
// and for manual testing. It accepts POST on any path, checks the Workflow Engine signature
// (X-Hub-Signature-256) and the Notification Hub key (X-API-Key) when given them, can fail every
// Nth request with 503 to show retries, logs one JSON line per request and counts what it saw
// (GET /stats). Never logs the secret or the API key.
#include <httplib.h>
#include <simdjson.h>

#include <CLI/CLI.hpp>
#include <atomic>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <exception>
#include <limits>
#include <string>
#include <string_view>
#include <thread>

#include "common/api_key.hpp"
#include "common/event_loop.hpp"
#include "common/json_writer.hpp"
#include "common/log.hpp"
#include "common/settings.hpp"
#include "evaluator/delivery/webhook_signer.hpp"

namespace {

constexpr std::size_t kMaxBody = 1 << 20;

struct Options {
  std::string listen = "127.0.0.1:8099";
  std::string secret;
  std::string api_key;
  std::uint64_t fail_every = 0;
  std::string log_format = "json";
  std::string log_level = "info";
};

/// What the log line shows of a delivery body (either shape of §6).
struct BodyInfo {
  bool parsed = false;
  std::string event;     ///< event_type / event
  std::string event_id;  ///< Notification Hub's event_id (the alert id)
  std::string device;
  std::string metric;
  double value = std::numeric_limits<double>::quiet_NaN();  ///< logged as null when absent
  std::string message;
};

std::string string_field(simdjson::dom::object obj, std::string_view key) {
  std::string_view v;
  if (obj[key].get_string().get(v) != simdjson::SUCCESS) return {};
  return std::string(v);
}

/// `{"event_type","event_id","payload":<alert>}` (Notification Hub) or `{"event","alert":<alert>}`
/// (Workflow Engine). Anything missing stays empty.
BodyInfo parse_body(const std::string& body) {
  thread_local simdjson::dom::parser parser;
  BodyInfo info;
  simdjson::dom::object root;
  if (parser.parse(body).get_object().get(root) != simdjson::SUCCESS) return info;
  info.parsed = true;
  info.event = string_field(root, "event_type");
  if (info.event.empty()) info.event = string_field(root, "event");
  info.event_id = string_field(root, "event_id");
  simdjson::dom::object alert;
  if (root["payload"].get_object().get(alert) != simdjson::SUCCESS &&
      root["alert"].get_object().get(alert) != simdjson::SUCCESS) {
    return info;
  }
  info.device = string_field(alert, "device");
  info.metric = string_field(alert, "metric");
  info.message = string_field(alert, "message");
  double v = 0;
  if (alert["value"].get_double().get(v) == simdjson::SUCCESS) info.value = v;
  return info;
}

bool ends_with(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

std::string error_body(std::string_view msg) {
  ste::JsonWriter w;
  w.begin_object().field("error", msg).end_object();
  return w.take();
}

class Sink {
 public:
  explicit Sink(const Options& o) : o_(o) {}

  void handle(const httplib::Request& req, httplib::Response& res) {
    const std::uint64_t seq = received_.fetch_add(1, std::memory_order_relaxed) + 1;
    const bool hub_path = ends_with(req.path, "/api/events");

    // Signature: verified whenever one is sent and a secret is configured; required (with a
    // secret) on everything but Notification Hub requests, which carry X-API-Key instead.
    std::string_view signature = "absent";
    bool sig_ok = true;
    if (req.has_header("X-Hub-Signature-256")) {
      if (o_.secret.empty()) {
        signature = "unchecked";
      } else {
        const std::string expected = ste::eval::signature_header_value(o_.secret, req.body);
        sig_ok = ste::constant_time_equal(expected, req.get_header_value("X-Hub-Signature-256"));
        signature = sig_ok ? "valid" : "invalid";
        if (sig_ok) valid_signatures_.fetch_add(1, std::memory_order_relaxed);
      }
    } else if (!o_.secret.empty() && !hub_path) {
      sig_ok = false;
    }

    std::string_view key_check = "unchecked";
    bool key_ok = true;
    if (!o_.api_key.empty() && hub_path) {
      if (!req.has_header("X-API-Key")) {
        key_check = "absent";
        key_ok = false;
      } else {
        key_ok = ste::constant_time_equal(o_.api_key, req.get_header_value("X-API-Key"));
        key_check = key_ok ? "valid" : "invalid";
      }
    }

    const BodyInfo body = parse_body(req.body);
    if (!sig_ok || !key_ok) {
      rejected_.fetch_add(1, std::memory_order_relaxed);
      res.status = 401;
      std::string_view why;
      if (!sig_ok) {
        why = signature == "absent" ? "missing X-Hub-Signature-256" : "invalid signature";
      } else {
        why = key_check == "absent" ? "missing X-API-Key" : "invalid API key";
      }
      res.set_content(error_body(why), "application/json");
    } else if (!body.parsed) {
      rejected_.fetch_add(1, std::memory_order_relaxed);
      res.status = 400;
      res.set_content(error_body("body is not a JSON object"), "application/json");
    } else if (o_.fail_every > 0 && seq % o_.fail_every == 0) {
      res.status = 503;
      res.set_content(error_body("simulated failure (--fail-every)"), "application/json");
    } else {
      res.status = 200;
      res.set_content("{}", "application/json");
    }

    std::string event = req.get_header_value("X-STE-Event");
    if (event.empty()) event = body.event;
    std::string delivery = req.get_header_value("X-STE-Delivery");
    if (delivery.empty()) delivery = body.event_id;
    ste::log::write(res.status == 200 ? ste::log::Level::info : ste::log::Level::warn,
                    "webhook received",
                    {{"seq", seq},
                     {"path", req.path},
                     {"event", event},
                     {"delivery", delivery},
                     {"device", body.device},
                     {"metric", body.metric},
                     {"value", body.value},
                     {"message", body.message},
                     {"signature", signature},
                     {"api_key_check", key_check},
                     {"status", res.status}});
  }

  struct Stats {
    std::uint64_t received, valid_signatures, rejected;
  };
  Stats stats() const { return {received_.load(), valid_signatures_.load(), rejected_.load()}; }

  std::string stats_json() const {
    const Stats s = stats();
    ste::JsonWriter w;
    w.begin_object()
        .field("received", s.received)
        .field("valid_signatures", s.valid_signatures)
        .field("rejected", s.rejected)
        .end_object();
    return w.take();
  }

 private:
  const Options& o_;
  std::atomic<std::uint64_t> received_{0};
  std::atomic<std::uint64_t> valid_signatures_{0};
  std::atomic<std::uint64_t> rejected_{0};
};

int run(const Options& o) {
  const auto [host, port] = ste::parse_host_port(o.listen, "--listen");
  Sink sink(o);
  httplib::Server server;
  server.set_payload_max_length(kMaxBody);
  server.Post(R"(.*)", [&sink](const httplib::Request& req, httplib::Response& res) {
    sink.handle(req, res);
  });
  server.Get("/stats", [&sink](const httplib::Request&, httplib::Response& res) {
    res.set_content(sink.stats_json(), "application/json");
  });
  if (!server.bind_to_port(host, port)) {
    ste::log::error("cannot listen", {{"addr", o.listen}});
    return 1;
  }

  ste::EventLoop loop;
  loop.on_shutdown_signal([&](int sig) {
    ste::log::info("signal received: stopping", {{"signal", sig}});
    server.stop();
    loop.stop();
  });
  std::thread http([&] {
    server.listen_after_bind();
    loop.stop_from_any_thread();  // the server ended on its own: stop too
  });
  ste::log::info("webhook sink listening", {{"addr", o.listen},
                                            {"signature_check", !o.secret.empty()},
                                            {"api_key_check", !o.api_key.empty()},
                                            {"fail_every", o.fail_every}});
  loop.run();
  server.stop();
  http.join();
  const auto stats = sink.stats();
  ste::log::info("webhook sink stopped", {{"received", stats.received},
                                          {"valid_signatures", stats.valid_signatures},
                                          {"rejected", stats.rejected}});
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  CLI::App app{
      "ste-webhook-sink: receives Notification Hub and Workflow Engine deliveries, checks their "
      "signature / API key and logs one JSON line per request"};
  app.get_formatter()->column_width(40);
  app.add_option("--listen", o.listen, "host:port to listen on")->capture_default_str();
  app.add_option("--secret", o.secret,
                 "Workflow Engine secret: verify X-Hub-Signature-256 (required on every request "
                 "except .../api/events)")
      ->envname("STE_WEBHOOK_SINK_SECRET");
  app.add_option("--api-key", o.api_key,
                 "Notification Hub key: require X-API-Key on paths ending in /api/events")
      ->envname("STE_WEBHOOK_SINK_API_KEY");
  app.add_option("--fail-every", o.fail_every, "answer 503 to every Nth request (0 = never)")
      ->capture_default_str();
  app.add_option("--log-format", o.log_format, "json or text")
      ->envname("STE_LOG_FORMAT")
      ->check(CLI::IsMember({"json", "text"}))
      ->capture_default_str();
  app.add_option("--log-level", o.log_level, "debug, info, warn or error")
      ->envname("STE_LOG_LEVEL")
      ->capture_default_str();
  CLI11_PARSE(app, argc, argv);

  try {
    ste::log::init("webhook-sink", o.log_format, o.log_level);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "ste-webhook-sink: %s\n", e.what());
    return 2;
  }
  try {
    return run(o);
  } catch (const std::exception& e) {
    ste::log::error("ste-webhook-sink failed", {{"error", e.what()}});
    return 1;
  }
}
