#include "common/service_runtime.hpp"

#include <csignal>
#include <exception>
#include <thread>

namespace ste {

ServiceRuntime::ServiceRuntime(std::string name) : name_(std::move(name)) {
  std::signal(SIGPIPE, SIG_IGN);
  loop_.on_shutdown_signal([this](int sig) {
    log::info("shutting down", {{"signal", sig}});
    notify_stopping();
    loop_.stop();
  });
}

void ServiceRuntime::on_stop(std::string what, std::function<void()> step) {
  steps_.push_back({std::move(what), std::move(step)});
}

int ServiceRuntime::run(log::Fields started) {
  start_watchdog(loop_);
  notify_ready();
  log::info(name_ + " started", started);
  loop_.run();
  stop_all();
  log::info(name_ + " stopped");
  return 0;
}

void ServiceRuntime::stop_all() {
  while (!steps_.empty()) {
    Step step = std::move(steps_.back());
    steps_.pop_back();
    try {
      step.fn();
    } catch (const std::exception& e) {
      log::error("shutdown step failed", {{"step", step.what}, {"error", e.what()}});
    } catch (...) {
      log::error("shutdown step failed", {{"step", step.what}, {"error", "unknown exception"}});
    }
  }
}

std::unique_ptr<NatsClient> connect_nats(const NatsSettings& settings, std::string client_name) {
  NatsSettings named = settings;
  named.name = std::move(client_name);
  return std::make_unique<NatsClient>(named);
}

std::vector<StreamRetention> setup_jetstream(NatsClient& nats,
                                             const std::vector<StreamSpec>& streams,
                                             const ConsumerSpec& consumer) {
  std::vector<StreamRetention> out;
  retry_jetstream_setup([&] {
    out.clear();
    for (const auto& stream : streams) out.push_back(nats.ensure_stream(stream));
    nats.ensure_pull_consumer(consumer);
  });
  return out;
}

std::unique_ptr<PgConnection> connect_with_patience(const std::string& url,
                                                    std::chrono::milliseconds patience) {
  const auto deadline = MonoClock::now() + patience;
  for (;;) {
    try {
      return std::make_unique<PgConnection>(url);
    } catch (const PgError&) {
      if (MonoClock::now() >= deadline) throw;
      std::this_thread::sleep_for(std::chrono::milliseconds{250});
    }
  }
}

}  // namespace ste
