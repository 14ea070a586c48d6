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

inline std::string header_of(const Received& r, const std::string& name) {
  auto it = r.headers.find(name);
  return it == r.headers.end() ? "<none>" : it->second;
}

}  // namespace ste::test
