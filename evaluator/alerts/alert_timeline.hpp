#pragma once
/// AlertTimeline: reading an episode's append-only timeline (`alert_events`, docs/ALERTING.md
/// §2) and its JSON, for GET /api/alerts/{id}/events and the comment a POST answers with. The
/// writes are episode_log.hpp's append_event(). Thin adapter over libpq; the JSON is pure.
#include <optional>
#include <string>
#include <vector>

#include "common/clock.hpp"
#include "common/json_writer.hpp"
#include "common/pg_connection.hpp"

namespace ste::eval {

/// One timeline entry. `detail` is the stored jsonb as PostgreSQL prints it: valid JSON text.
struct TimelineEntry {
  int seq = 0;
  std::string kind;  ///< opened, fired, acked, unacked, comment, resolved, ...
  TimePoint at{};    ///< server time
  std::optional<TimePoint> data_ts;
  std::string actor;  ///< "evaluator" or an API key's name
  std::string detail = "{}";
};

/// The timeline of `alert_id` of `tenant_id` in seq order (empty for an unknown alert: the
/// caller checks the alert exists). Throws PgError.
std::vector<TimelineEntry> load_timeline(PgConnection& db, std::int64_t tenant_id,
                                         const std::string& alert_id);

/// The entry `seq` of the timeline, nullopt when there is none. Throws PgError.
std::optional<TimelineEntry> load_timeline_entry(PgConnection& db, std::int64_t tenant_id,
                                                 const std::string& alert_id, int seq);

/// `{"seq", "kind", "at", "data_ts", "actor", "detail"}`; times RFC 3339 UTC with milliseconds.
void write_timeline_entry(JsonWriter& w, const TimelineEntry& e);

}  // namespace ste::eval
