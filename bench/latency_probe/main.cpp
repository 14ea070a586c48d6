// ste-latency-probe (benchmark scenario 3): a black-box probe beside a background load. It
// publishes a trickle of "probe" readings with JetStream, watches `ste.batches.flushed` for the
// summary that carries each one (committed) and `ste.alerts.<tenant>` for its alert, and reports,
// as one JSON line on stdout, publish→committed and committed→alert latency percentiles.
// It needs a running ste-ingester and ste-evaluator, tenant --tenant, and an above_threshold rule
// on metric `probe` with a threshold below --value and cooldown 0 (the bench creates both), so
// every probe reading fires exactly one alert. The matching and statistics are in latency_stats.
#include <fmt/format.h>
#include <simdjson.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <iostream>
#include <mutex>
#include <string>
#include <thread>
#include <variant>
#include <vector>

#include "bench/latency_probe/latency_stats.hpp"
#include "common/json_writer.hpp"
#include "common/log.hpp"
#include "common/nats_client.hpp"
#include "common/settings.hpp"
#include "common/time_format.hpp"
#include "evaluator/evaluation/summary_parser.hpp"

namespace {

using SteadyClock = std::chrono::steady_clock;
using namespace std::chrono_literals;
using ste::bench::LatencyMatcher;
using ste::bench::ReadingKey;

constexpr std::string_view kProbeMetric = "probe";

std::atomic<int> g_signals{0};
static_assert(std::atomic<int>::is_always_lock_free, "signal handler needs a lock-free counter");

extern "C" void on_signal(int) { g_signals.fetch_add(1, std::memory_order_relaxed); }

struct Options {
  ste::CommonSettings common;
  std::string tenant = "probe";
  std::uint32_t devices = 100;
  double rate = 20.0;
  double duration_s = 30.0;
  double value = 150.0;
  double settle_s = 5.0;
};

/// Everything the NATS callbacks touch. cnats runs each subscription's callbacks on its own
/// thread, so `mu` guards every member below it; the receive time is read before taking the lock
/// so waiting for it never inflates a sample.
struct Observed {
  explicit Observed(std::string t) : tenant(std::move(t)) {}
  const std::string tenant;

  std::mutex mu;
  LatencyMatcher matcher;
  ste::eval::SummaryParser summary_parser;
  simdjson::ondemand::parser alert_parser;
  std::uint64_t summaries = 0;
  std::uint64_t probe_tuples = 0;
  std::uint64_t alerts = 0;
  std::uint64_t bad_summaries = 0;
  std::uint64_t bad_alerts = 0;
  std::uint64_t rejected = 0;
  std::string first_rejection;
};

void on_summary(natsConnection*, natsSubscription*, natsMsg* m, void* closure) {
  const ste::TimePoint received = ste::SysClock::now();
  auto& o = *static_cast<Observed*>(closure);
  const std::string_view body(natsMsg_GetData(m), static_cast<size_t>(natsMsg_GetDataLength(m)));
  {
    std::lock_guard lock(o.mu);
    auto parsed = o.summary_parser.parse(body);
    if (auto* s = std::get_if<ste::eval::Summary>(&parsed)) {
      ++o.summaries;
      for (const auto& t : s->tuples) {
        if (t.tenant != o.tenant || t.metric != kProbeMetric) continue;
        ++o.probe_tuples;
        // last_ts is the reading the brief names; min_ts and max_ts are readings of the same
        // committed batch too (they differ when a batch holds several readings of one device),
        // and max_ts is the one an above_threshold alert reports.
        for (const ste::TimePoint ts : {t.last_ts, t.min_ts, t.max_ts}) {
          o.matcher.on_commit(ReadingKey{t.device, ste::to_epoch_ms(ts)}, received);
        }
      }
    } else {
      ++o.bad_summaries;
    }
  }
  natsMsg_Destroy(m);
}

void on_alert(natsConnection*, natsSubscription*, natsMsg* m, void* closure) {
  const ste::TimePoint received = ste::SysClock::now();
  auto& o = *static_cast<Observed*>(closure);
  const simdjson::padded_string body(natsMsg_GetData(m),
                                     static_cast<size_t>(natsMsg_GetDataLength(m)));
  natsMsg_Destroy(m);
  std::lock_guard lock(o.mu);
  ++o.alerts;
  std::string_view device, metric, reading_ts;
  auto doc = o.alert_parser.iterate(body);
  if (doc.error() || doc["device"].get_string().get(device) ||
      doc["metric"].get_string().get(metric) || doc["reading_ts"].get_string().get(reading_ts)) {
    ++o.bad_alerts;
    return;
  }
  if (metric != kProbeMetric) return;  // another rule of the tenant
  const auto ts = ste::parse_rfc3339(reading_ts);
  if (!ts) {
    ++o.bad_alerts;
    return;
  }
  o.matcher.on_alert(ReadingKey{std::string(device), ste::to_epoch_ms(*ts)}, received);
}

void on_rejected(natsConnection*, natsSubscription*, natsMsg* m, void* closure) {
  auto& o = *static_cast<Observed*>(closure);
  {
    std::lock_guard lock(o.mu);
    if (o.rejected++ == 0) {
      o.first_rejection.assign(natsMsg_GetData(m), static_cast<size_t>(natsMsg_GetDataLength(m)));
    }
  }
  natsMsg_Destroy(m);
}

natsSubscription* subscribe(ste::NatsClient& client, const std::string& subject,
                            natsMsgHandler handler, Observed& observed) {
  natsSubscription* sub = nullptr;
  ste::nats_check(
      natsConnection_Subscribe(&sub, client.conn(), subject.c_str(), handler, &observed),
      "subscribe " + subject);
  // A busy ste.batches.flushed carries large summaries; never drop one for a pending limit.
  ste::nats_check(natsSubscription_SetPendingLimits(sub, -1, -1), "pending limits " + subject);
  return sub;
}

/// Drains (every message already received is handed to its callback) and waits, so no callback
/// runs after this returns and the results can be read without racing one.
void drain(natsSubscription* sub) {
  if (natsSubscription_Drain(sub) == NATS_OK) {
    natsSubscription_WaitForDrainCompletion(sub, 5000);
  }
  natsSubscription_Destroy(sub);
}

void write_summary(ste::JsonWriter& w, std::string_view key, const ste::bench::LatencySummary& s) {
  const auto r3 = [](double ms) { return std::round(ms * 1000.0) / 1000.0; };  // to the µs
  w.key(key)
      .begin_object()
      .field("count", static_cast<std::uint64_t>(s.count))
      .field("p50_ms", r3(s.p50_ms))
      .field("p99_ms", r3(s.p99_ms))
      .field("max_ms", r3(s.max_ms))
      .end_object();
}

int run(const Options& o) {
  ste::NatsSettings ns = o.common.nats;
  ns.name = "ste-latency-probe";
  Observed observed(o.tenant);  // outlives the client: callbacks hold a pointer to it
  ste::NatsClient client(ns);
  client.ensure_stream(ste::kSensorsStream);  // as ste-loadgen: capture even before an ingester

  std::vector<natsSubscription*> subs{
      subscribe(client, ste::kBatchesSubject, on_summary, observed),
      subscribe(client, "ste.alerts." + o.tenant, on_alert, observed),
      subscribe(client, "ste.rejected." + o.tenant, on_rejected, observed)};
  client.flush(5s);  // the server knows the subscriptions before the first probe is published

  std::vector<std::string> subjects, devices;
  for (std::uint32_t d = 0; d < o.devices; ++d) {
    devices.push_back(fmt::format("probe-{:04}", d));
    subjects.push_back(fmt::format("sensors.{}.{}", o.tenant, devices.back()));
  }
  std::vector<std::int64_t> last_ts_ms(o.devices, 0);

  ste::log::info("latency probe started", {{"tenant", o.tenant},
                                           {"devices", static_cast<std::uint64_t>(o.devices)},
                                           {"rate", o.rate},
                                           {"duration_s", o.duration_s},
                                           {"value", o.value}});
  const auto start = SteadyClock::now();
  const auto deadline = start + std::chrono::duration_cast<SteadyClock::duration>(
                                    std::chrono::duration<double>(o.duration_s));
  const auto interval = std::chrono::duration_cast<SteadyClock::duration>(
      std::chrono::duration<double>(1.0 / o.rate));
  auto next_log = start + 5s;
  std::uint64_t failed = 0;

  for (std::uint64_t i = 0; g_signals.load(std::memory_order_relaxed) == 0; ++i) {
    const auto due = start + interval * static_cast<std::int64_t>(i);
    if (due >= deadline) break;
    // Sleep in slices so a signal stops the probe promptly. A late publish (a slow ack) is not
    // made up with a burst beyond what the schedule says is due.
    while (SteadyClock::now() < due && g_signals.load(std::memory_order_relaxed) == 0) {
      std::this_thread::sleep_for(std::min<SteadyClock::duration>(due - SteadyClock::now(), 100ms));
    }
    if (g_signals.load(std::memory_order_relaxed) != 0) break;

    const std::uint32_t d = static_cast<std::uint32_t>(i % o.devices);
    const ste::TimePoint sent = ste::SysClock::now();
    // Strictly increasing per device: the ingester keeps the first of two readings with the same
    // (tenant, device, metric, ts), and the key must name exactly one reading.
    const std::int64_t ts_ms = std::max(ste::to_epoch_ms(sent), last_ts_ms[d] + 1);
    last_ts_ms[d] = ts_ms;
    ste::JsonWriter w;
    w.begin_object()
        .field("metric", kProbeMetric)
        .field("value", o.value)
        .field("ts", ste::format_rfc3339_ms(ste::from_epoch_ms(ts_ms)))
        .end_object();
    try {
      client.js_publish(subjects[d], w.str());
      // Recorded after the ack; a commit seen meanwhile is matched in any order.
      std::lock_guard lock(observed.mu);
      observed.matcher.on_publish(ReadingKey{devices[d], ts_ms}, sent);
    } catch (const ste::NatsError& e) {
      if (failed++ < 5) ste::log::warn("probe publish failed", {{"error", e.what()}});
    }

    const auto now = SteadyClock::now();
    if (now >= next_log) {
      next_log = now + 5s;
      std::lock_guard lock(observed.mu);
      ste::log::info("progress", {{"published", observed.matcher.published()},
                                  {"summaries", observed.summaries},
                                  {"probe_tuples", observed.probe_tuples},
                                  {"alerts", observed.alerts}});
    }
  }

  // Stragglers: wait up to --settle for the last commits and alerts, less if all are in.
  const auto settle_until = SteadyClock::now() + std::chrono::duration_cast<SteadyClock::duration>(
                                                     std::chrono::duration<double>(o.settle_s));
  while (SteadyClock::now() < settle_until && g_signals.load(std::memory_order_relaxed) < 2) {
    {
      std::lock_guard lock(observed.mu);
      if (observed.matcher.missing_commits() == 0 && observed.matcher.missing_alerts() == 0) break;
    }
    std::this_thread::sleep_for(100ms);
  }
  for (natsSubscription* s : subs) drain(s);

  // Drained: no callback runs any more. The lock costs nothing and keeps the guarded-by rule.
  std::lock_guard lock(observed.mu);
  const LatencyMatcher& m = observed.matcher;
  const auto committed = ste::bench::summarize(m.commit_latencies_ms());
  const auto alerted = ste::bench::summarize(m.alert_latencies_ms());
  ste::JsonWriter w;
  w.begin_object().field("published", static_cast<std::uint64_t>(m.published()));
  write_summary(w, "committed", committed);
  write_summary(w, "alerted", alerted);
  w.field("missing_commits", static_cast<std::uint64_t>(m.missing_commits()))
      .field("missing_alerts", static_cast<std::uint64_t>(m.missing_alerts()))
      .end_object();
  std::cout << w.str() << std::endl;

  ste::log::info("probe done", {{"summaries", observed.summaries},
                                {"probe_tuples", observed.probe_tuples},
                                {"alerts", observed.alerts},
                                {"unmatched_commits", m.unmatched_commits()},
                                {"unmatched_alerts", m.unmatched_alerts()},
                                {"bad_summaries", observed.bad_summaries},
                                {"bad_alerts", observed.bad_alerts},
                                {"rejected", observed.rejected},
                                {"publish_failed", failed}});
  if (observed.rejected > 0) {
    ste::log::warn("the ingester rejected probe readings",
                   {{"rejected", observed.rejected}, {"first", observed.first_rejection}});
  }
  if (m.published() == 0) {
    ste::log::error("no probe reading was acknowledged by JetStream");
    return 1;
  }
  if (observed.probe_tuples == 0 && observed.rejected > 0) {
    ste::log::error("the ingester rejected the probe readings (see the first rejection above)",
                    {{"tenant", o.tenant}});
    return 1;
  }
  if (observed.summaries == 0) {
    ste::log::error(
        "no batch summary arrived on ste.batches.flushed: is ste-ingester running against this "
        "NATS server and database?");
    return 1;
  }
  if (observed.probe_tuples == 0) {
    ste::log::error("summaries arrived but none carried a probe reading: does the tenant exist?",
                    {{"tenant", o.tenant}});
    return 1;
  }
  if (alerted.count == 0) {
    ste::log::error(
        "no alert matched a committed probe reading: is ste-evaluator running, and is there an "
        "above_threshold rule on metric probe with a threshold below --value and cooldown 0?",
        {{"tenant", o.tenant}, {"value", o.value}});
    return 1;
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  CLI::App app{
      "ste-latency-probe: publishes probe readings and reports publish->committed and "
      "committed->alert latency as one JSON line"};
  app.get_formatter()->column_width(40);
  ste::add_common_options(app, o.common);
  app.add_option("--tenant", o.tenant, "tenant slug (subject sensors.<tenant>.<device>)")
      ->capture_default_str();
  app.add_option("--devices", o.devices, "probe devices, keys probe-0000, probe-0001, ...")
      ->check(CLI::Range(1u, 100'000u))
      ->capture_default_str();
  app.add_option("--rate", o.rate, "probe readings per second")
      ->check(CLI::Range(0.01, 10'000.0))
      ->capture_default_str();
  app.add_option("--duration", o.duration_s, "seconds to publish for")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  app.add_option("--value", o.value, "value of every probe reading (above the probe rule)")
      ->capture_default_str();
  app.add_option("--settle", o.settle_s, "seconds to wait for stragglers after the last publish")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  CLI11_PARSE(app, argc, argv);

  try {
    ste::log::init("ste-latency-probe", o.common.log_format, o.common.log_level);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "ste-latency-probe: %s\n", e.what());
    return 2;
  }
  std::signal(SIGINT, on_signal);
  std::signal(SIGTERM, on_signal);
  try {
    return run(o);
  } catch (const std::exception& e) {
    ste::log::error("ste-latency-probe failed", {{"error", e.what()}});
    return 1;
  }
}
