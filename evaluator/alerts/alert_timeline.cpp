#include "evaluator/alerts/alert_timeline.hpp"

#include "common/time_format.hpp"

namespace ste::eval {

namespace {
constexpr const char* kEntrySql =
    "SELECT seq, kind, (extract(epoch FROM at) * 1000000)::bigint, "
    "(extract(epoch FROM data_ts) * 1000000)::bigint, actor, detail::text FROM alert_events "
    "WHERE tenant_id = $1 AND alert_id = $2";

TimelineEntry entry_from_row(const PgResult& r, int i) {
  TimelineEntry e;
  e.seq = static_cast<int>(r.int64(i, 0));
  e.kind = std::string(r.text(i, 1));
  e.at = from_epoch_us(r.int64(i, 2));
  if (!r.is_null(i, 3)) e.data_ts = from_epoch_us(r.int64(i, 3));
  e.actor = std::string(r.text(i, 4));
  e.detail = std::string(r.text(i, 5));
  return e;
}
}  // namespace

std::vector<TimelineEntry> load_timeline(PgConnection& db, std::int64_t tenant_id,
                                         const std::string& alert_id) {
  auto r = db.exec(std::string(kEntrySql) + " ORDER BY seq", {std::to_string(tenant_id), alert_id});
  std::vector<TimelineEntry> out;
  out.reserve(static_cast<std::size_t>(r.rows()));
  for (int i = 0; i < r.rows(); ++i) out.push_back(entry_from_row(r, i));
  return out;
}

std::optional<TimelineEntry> load_timeline_entry(PgConnection& db, std::int64_t tenant_id,
                                                 const std::string& alert_id, int seq) {
  auto r = db.exec(std::string(kEntrySql) + " AND seq = $3",
                   {std::to_string(tenant_id), alert_id, std::to_string(seq)});
  if (r.rows() == 0) return std::nullopt;
  return entry_from_row(r, 0);
}

void write_timeline_entry(JsonWriter& w, const TimelineEntry& e) {
  w.begin_object();
  w.field("seq", static_cast<std::int64_t>(e.seq));
  w.field("kind", e.kind);
  w.field("at", format_rfc3339_ms(e.at));
  w.key("data_ts");
  if (e.data_ts) {
    w.value(format_rfc3339_ms(*e.data_ts));
  } else {
    w.null();
  }
  w.field("actor", e.actor);
  w.key("detail").raw(e.detail);  // jsonb printed by PostgreSQL: valid JSON
  w.end_object();
}

}  // namespace ste::eval
