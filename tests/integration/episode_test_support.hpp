#pragma once
// Helpers for the alert episode integration tests (episode_lifecycle_test, episode_timer_test).
#include <simdjson.h>

#include <string>
#include <vector>

#include "tests/integration/pipeline_fixture.hpp"
#include "tests/integration/webhook_receiver.hpp"

namespace ste::test {

inline std::string status_of(Pipeline& p, const std::string& where = "true") {
  return query_scalar(p.db_url,
                      "SELECT coalesce(string_agg(status, ',' ORDER BY created_at), '') "
                      "FROM alerts WHERE " +
                          where);
}

inline long long events(Pipeline& p, const std::string& kind) {
  return query_count(p.db_url, "SELECT count(*) FROM alert_events WHERE kind = '" + kind + "'");
}

/// The hub requests' event types, in arrival order.
inline std::vector<std::string> hub_events(WebhookReceiver& rx) {
  std::vector<std::string> out;
  for (const auto& r : rx.received()) {
    simdjson::dom::parser parser;
    simdjson::dom::element e = parser.parse(r.body);
    out.emplace_back(std::string_view(e["event_type"]));
  }
  return out;
}

/// An evaluator's environment with the episode timer every second and the hub at `hub`.
inline Process::Env timer_env(WebhookReceiver& hub, const Process::Env& extra = {}) {
  Process::Env env{{"STE_NOTIFICATION_HUB_URL", hub.url("")}, {"STE_NODATA_INTERVAL_S", "1"}};
  for (const auto& [k, v] : extra) env[k] = v;
  return env;
}

/// Waits until `evaluator` has completed `n` more episode-timer runs (each begins with its
/// no-data part and ends with repeats, unmuted notifications and flapping ends).
inline void wait_timer_runs(Pipeline& p, const std::string& evaluator, int n) {
  const auto runs = [&] { return p.evaluator_metric(evaluator, "ste_eval_timer_runs_total"); };
  const double start = runs();
  REQUIRE(eventually([&] { return runs() >= start + n; }, std::chrono::seconds{30}));
}

inline std::string header_of(const Received& r, const std::string& name) {
  auto it = r.headers.find(name);
  return it == r.headers.end() ? "<none>" : it->second;
}

}  // namespace ste::test
