// ste-loadgen: publishes synthetic sensor readings to `sensors.<tenant>.<device>` at a target rate
// and reports, as one JSON line on stdout, exactly how many readings JetStream acknowledged.
// The plan (devices, metrics, values, spikes, timestamps, pacing) is in load_plan; acknowledgement
// accounting and retries are in js_publisher; this file is flags, the loop and the summary.
#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <atomic>
#include <chrono>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <iostream>
#include <optional>
#include <random>
#include <thread>

#include "bench/loadgen/js_publisher.hpp"
#include "bench/loadgen/load_plan.hpp"
#include "common/json_writer.hpp"
#include "common/log.hpp"
#include "common/nats_client.hpp"
#include "common/settings.hpp"

namespace {

using SteadyClock = std::chrono::steady_clock;
using namespace std::chrono_literals;

std::atomic<int> g_signals{0};
static_assert(std::atomic<int>::is_always_lock_free, "signal handler needs a lock-free counter");

extern "C" void on_signal(int) { g_signals.fetch_add(1, std::memory_order_relaxed); }

struct Options {
  ste::CommonSettings common;
  std::string tenant = "demo";
  std::uint32_t devices = 10;
  std::uint32_t metrics = 2;
  std::vector<std::string> metric_names;
  double rate = 0.0;
  double duration_s = 0.0;
  std::uint64_t count = 10000;
  std::uint32_t batch = 1;
  std::uint64_t spike_every = 0;
  double spike_value = 1000.0;
  ste::loadgen::TsMode ts_mode = ste::loadgen::TsMode::now;
  bool stamp = false;
  bool core = false;
  std::int64_t max_pending = 4096;
  int max_attempts = 10;
  std::int64_t ack_wait_ms = 10000;
  bool count_given = false;
  std::int64_t tick_us = 0;
};

/// A run id makes Nats-Msg-Id values unique across runs inside the stream's duplicate window.
std::string make_run_id() {
  std::random_device rd;
  const std::uint64_t r =
      (static_cast<std::uint64_t>(rd()) << 32) ^ rd() ^
      static_cast<std::uint64_t>(ste::SysClock::now().time_since_epoch().count());
  return fmt::format("{:016x}", r);
}

struct Progress {
  std::uint64_t readings_sent = 0;
  std::uint64_t messages_sent = 0;
};

struct Outcome {
  std::uint64_t published = 0;  ///< readings acknowledged (core: handed to a flushed connection)
  std::uint64_t messages = 0;
  std::uint64_t failed = 0;
};

int run(const Options& o) {
  using namespace ste::loadgen;
  LoadPlanConfig cfg;
  cfg.tenant = o.tenant;
  cfg.devices = o.devices;
  cfg.metrics = o.metric_names.empty() ? default_metric_names(o.metrics) : o.metric_names;
  cfg.batch = o.batch;
  cfg.spike_every = o.spike_every;
  cfg.spike_value = o.spike_value;
  // Only --duration given: unbounded count. Neither: the default count.
  if (o.duration_s <= 0.0 || o.count_given) cfg.count = o.count;
  const LoadPlan plan(cfg);
  const PacingSchedule pacing(o.rate, std::chrono::microseconds{o.tick_us});
  PayloadBuilder builder(plan, o.ts_mode, o.stamp);

  if (o.ts_mode == TsMode::absent && o.batch > cfg.metrics.size()) {
    ste::log::warn(
        "--ts-mode absent with a batch larger than the metric count: readings of one metric in "
        "one message share the stored time and the ingester keeps only the first");
  }

  ste::NatsSettings ns = o.common.nats;
  ns.name = "ste-loadgen";
  ste::NatsClient client(ns);
  std::optional<JsPublisher> js;
  if (!o.core) {
    // So the stream exists (and captures what we send) even when no ingester has started yet.
    client.ensure_stream(ste::kSensorsStream);
    js.emplace(client.conn(), JsPublisherOptions{o.max_pending, o.max_attempts,
                                                 std::chrono::milliseconds{o.ack_wait_ms}});
  }

  std::vector<std::string> subjects;
  subjects.reserve(cfg.devices);
  for (std::uint32_t d = 0; d < cfg.devices; ++d) subjects.push_back(plan.subject_of_device(d));
  const std::string run_id = make_run_id();

  ste::log::info("load generation started",
                 {{"tenant", cfg.tenant},
                  {"devices", static_cast<std::uint64_t>(cfg.devices)},
                  {"metrics", static_cast<std::uint64_t>(cfg.metrics.size())},
                  {"batch", static_cast<std::uint64_t>(cfg.batch)},
                  {"rate", o.rate},
                  {"count", cfg.count ? static_cast<std::int64_t>(*cfg.count) : -1},
                  {"duration_s", o.duration_s},
                  {"mode", o.core ? "core" : "jetstream"},
                  {"run_id", run_id}});

  const auto start = SteadyClock::now();
  const auto deadline = o.duration_s > 0.0
                            ? start + std::chrono::duration_cast<SteadyClock::duration>(
                                          std::chrono::duration<double>(o.duration_s))
                            : SteadyClock::time_point::max();
  auto next_log = start + 1s;
  Progress p;
  bool lead_warned = false;

  auto acked = [&]() -> Outcome {
    if (!js) return {p.readings_sent, p.messages_sent, 0};
    const auto c = js->counters();
    return {c.acked_readings, c.acked_messages, c.failed_readings};
  };
  auto log_progress = [&](SteadyClock::time_point now, std::string_view phase) {
    const Outcome a = acked();
    const double secs = std::chrono::duration<double>(now - start).count();
    ste::log::info("progress",
                   {{"phase", phase},
                    {"sent", p.readings_sent},
                    {"published", a.published},
                    {"failed", a.failed},
                    {"in_flight", js ? static_cast<std::uint64_t>(js->outstanding()) : 0},
                    {"rate", secs > 0 ? std::round(static_cast<double>(a.published) / secs) : 0.0},
                    {"ts_lead_ms", builder.timestamps().max_lead()}});
    if (!lead_warned && builder.timestamps().max_lead() > 60'000) {
      lead_warned = true;
      ste::log::warn(
          "timestamps run more than 60 s ahead of the clock (over 1000 readings/s per series); "
          "the ingester rejects readings 5 min in the future: add devices or metrics, or lower "
          "--rate");
    }
  };

  for (std::uint64_t j = 0; g_signals.load(std::memory_order_relaxed) == 0; ++j) {
    const std::uint32_t n = plan.readings_in_message(j);
    if (n == 0) break;  // counted run complete
    auto now = SteadyClock::now();
    if (now >= deadline) break;
    if (now >= next_log) {
      log_progress(now, "publishing");
      next_log += 1s;
      if (next_log <= now) next_log = now + 1s;
    }
    const auto wait = pacing.wait_before(plan.first_reading_of_message(j), now - start);
    if (wait > 0ns) {
      // Sleep only while ahead of schedule, in slices, so signals and progress stay responsive.
      std::this_thread::sleep_for(std::min<std::chrono::nanoseconds>(wait, 100ms));
      --j;
      continue;
    }
    const std::string payload = builder.build(j, ste::SysClock::now());
    const std::string& subject = subjects[plan.device_of_message(j)];
    if (js) {
      js->resend_due();
      js->publish(subject, payload, n, fmt::format("{}-{}", run_id, j));
    } else {
      client.publish(subject, payload);
    }
    p.readings_sent += n;
    ++p.messages_sent;
  }
  const bool interrupted = g_signals.load() > 0;
  if (interrupted) ste::log::info("signal received: stopping, waiting for outstanding acks");

  Outcome out;
  if (js) {
    for (;;) {
      if (js->settle(100ms)) break;
      if (g_signals.load() > 1) {
        ste::log::warn("second signal: abandoning outstanding messages");
        js->abandon();
        break;
      }
      const auto now = SteadyClock::now();
      if (now >= next_log) {
        log_progress(now, "draining");
        next_log = now + 1s;
      }
    }
    const auto c = js->counters();
    out = {c.acked_readings, c.acked_messages, c.failed_readings};
    if (c.retries > 0) ste::log::info("retries", {{"retries", c.retries}});
  } else {
    try {
      client.flush(10s);
      out = {p.readings_sent, p.messages_sent, 0};
    } catch (const ste::NatsError& e) {
      ste::log::error("final flush failed; core publishes may be lost", {{"error", e.what()}});
      out = {0, 0, p.readings_sent};
    }
  }
  const double seconds = std::chrono::duration<double>(SteadyClock::now() - start).count();
  log_progress(SteadyClock::now(), "done");

  ste::JsonWriter w;
  w.begin_object()
      .field("published", out.published)
      .field("messages", out.messages)
      .field("failed", out.failed)
      .field("seconds", std::round(seconds * 1000.0) / 1000.0)
      .field("rate", seconds > 0 ? std::round(static_cast<double>(out.published) / seconds) : 0.0)
      .end_object();
  std::cout << w.str() << std::endl;

  const std::uint64_t lost = p.readings_sent - std::min(p.readings_sent, out.published);
  if (out.failed > 0 || lost > 0) {
    ste::log::error("readings were not acknowledged",
                    {{"lost", lost}, {"failed", out.failed}, {"sent", p.readings_sent}});
    return 1;
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  CLI::App app{
      "ste-loadgen: publishes synthetic sensor readings to NATS and reports how many "
      "JetStream acknowledged"};
  app.get_formatter()->column_width(40);
  ste::add_common_options(app, o.common);
  app.add_option("--tenant", o.tenant, "tenant slug (subject sensors.<tenant>.<device>)")
      ->capture_default_str();
  app.add_option("--devices", o.devices, "number of devices, keys dev-0000, dev-0001, ...")
      ->check(CLI::Range(1u, 1'000'000u))
      ->capture_default_str();
  app.add_option("--metrics", o.metrics, "metrics per device, named m0, m1, ...")
      ->check(CLI::Range(1u, 10'000u))
      ->capture_default_str();
  app.add_option("--metric-names", o.metric_names, "explicit metric names (overrides --metrics)")
      ->delimiter(',');
  app.add_option("--rate", o.rate, "target readings per second (0 = as fast as possible)")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  app.add_option("--duration", o.duration_s, "stop after this many seconds (alone: no count limit)")
      ->check(CLI::PositiveNumber);
  auto* count = app.add_option("--count", o.count,
                               "stop after this many readings (with --duration: whichever first)")
                    ->check(CLI::PositiveNumber)
                    ->capture_default_str();
  app.add_option("--batch", o.batch, "readings per message (1 = JSON object, >1 = JSON array)")
      ->check(CLI::Range(1u, 1000u))
      ->capture_default_str();
  app.add_option("--spike-every", o.spike_every, "every Nth reading gets --spike-value (0 = off)")
      ->capture_default_str();
  app.add_option("--spike-value", o.spike_value, "value of spike readings")->capture_default_str();
  std::string ts_mode = "now";
  app.add_option("--ts-mode", ts_mode,
                 "now: RFC 3339 ms, strictly increasing per series; absent; epoch-ms")
      ->check(CLI::IsMember({"now", "absent", "epoch-ms"}))
      ->capture_default_str();
  app.add_option(
         "--tick-us", o.tick_us,
         "release readings in bursts: all due within one tick at its start (0 = each on time)")
      ->check(CLI::Range(std::int64_t{0}, std::int64_t{1'000'000}))
      ->capture_default_str();
  app.add_flag("--stamp", o.stamp, "add \"sent_ns\" (epoch ns at publish) to each reading");
  app.add_flag("--core", o.core, "plain core NATS publish instead of JetStream async publish");
  app.add_option("--max-pending", o.max_pending, "JetStream async publishes in flight at most")
      ->check(CLI::Range(std::int64_t{1}, std::int64_t{1'000'000}))
      ->capture_default_str();
  app.add_option("--max-attempts", o.max_attempts,
                 "publish attempts per message before it counts as failed")
      ->check(CLI::Range(1, 1000))
      ->capture_default_str();
  app.add_option("--ack-wait-ms", o.ack_wait_ms, "per-message ack timeout before a retry")
      ->check(CLI::Range(std::int64_t{100}, std::int64_t{600'000}))
      ->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  o.count_given = count->count() > 0;
  o.ts_mode = ts_mode == "absent"     ? ste::loadgen::TsMode::absent
              : ts_mode == "epoch-ms" ? ste::loadgen::TsMode::epoch_ms
                                      : ste::loadgen::TsMode::now;

  try {
    ste::log::init("ste-loadgen", o.common.log_format, o.common.log_level);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "ste-loadgen: %s\n", e.what());
    return 2;
  }
  std::signal(SIGINT, on_signal);
  std::signal(SIGTERM, on_signal);
  try {
    return run(o);
  } catch (const std::exception& e) {
    ste::log::error("ste-loadgen failed", {{"error", e.what()}});
    return 1;
  }
}
