#include "ingester/batch_summary.hpp"

#include <map>
#include <string_view>
#include <tuple>

#include "common/json_writer.hpp"
#include "common/time_format.hpp"

namespace ste::ingest {

BatchSummary build_summary(const std::vector<BufferedReading>& readings, std::string batch_id,
                           TimePoint flushed_at, const DeviceLabels& labels) {
  using Key = std::tuple<std::int64_t, std::int64_t, std::string_view>;
  std::map<Key, SummaryTuple> by_key;
  for (const auto& br : readings) {
    const auto& r = br.reading;
    auto [it, inserted] = by_key.try_emplace(Key{br.tenant_id, br.device_id, r.metric});
    SummaryTuple& t = it->second;
    if (inserted) {
      t = SummaryTuple{br.tenant_id, br.device_id, {},   {},      r.metric, r.value,
                       r.ts,         r.value,      r.ts, r.value, r.ts,     1};
      if (auto l = labels.find(br.device_id); l != labels.end()) {
        t.tenant = l->second.tenant;
        t.device = l->second.device;
      }
      continue;
    }
    ++t.count;
    if (r.ts >= t.last_ts) {
      t.last = r.value;
      t.last_ts = r.ts;
    }
    if (r.value < t.min) {
      t.min = r.value;
      t.min_ts = r.ts;
    }
    if (r.value > t.max) {
      t.max = r.value;
      t.max_ts = r.ts;
    }
  }
  BatchSummary out;
  out.batch_id = std::move(batch_id);
  out.flushed_at = flushed_at;
  out.readings = static_cast<std::int64_t>(readings.size());
  out.tuples.reserve(by_key.size());
  for (auto& [key, tuple] : by_key) out.tuples.push_back(std::move(tuple));
  return out;
}

std::string summary_to_json(const BatchSummary& s) {
  JsonWriter w;
  w.begin_object();
  w.field("batch_id", s.batch_id);
  w.field("flushed_at", format_rfc3339_ms(s.flushed_at));
  w.field("readings", s.readings);
  w.key("tuples").begin_array();
  for (const auto& t : s.tuples) {
    w.begin_object();
    w.field("tenant_id", t.tenant_id).field("device_id", t.device_id);
    // Extension to the contract's tuple: the names, so consumers need no lookup.
    w.field("tenant", t.tenant).field("device", t.device).field("metric", t.metric);
    // Microsecond timestamps: the evaluator finds the reading's own minute and compares with
    // stored rows, so the value must round-trip exactly.
    w.field("last", t.last).field("last_ts", format_rfc3339_us(t.last_ts));
    w.field("min", t.min).field("min_ts", format_rfc3339_us(t.min_ts));
    w.field("max", t.max).field("max_ts", format_rfc3339_us(t.max_ts));
    w.field("count", t.count);
    w.end_object();
  }
  w.end_array();
  w.end_object();
  return w.take();
}

}  // namespace ste::ingest
