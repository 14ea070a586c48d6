#include "ingester/batch_summary.hpp"

#include <algorithm>
#include <map>
#include <stdexcept>
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
      t.tenant_id = br.tenant_id;
      t.device_id = br.device_id;
      t.metric = r.metric;
      if (auto l = labels.find(br.device_id); l != labels.end()) {
        t.tenant = l->second.tenant;
        t.device = l->second.device;
      }
    }
    add_reading(t, r.value, r.ts);
  }
  BatchSummary out;
  out.batch_id = std::move(batch_id);
  out.flushed_at = flushed_at;
  out.readings = static_cast<std::int64_t>(readings.size());
  out.tuples.reserve(by_key.size());
  for (auto& [key, tuple] : by_key) out.tuples.push_back(std::move(tuple));
  return out;
}

namespace {

void write_tuple(JsonWriter& w, const SummaryTuple& t) {
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

/// Everything before the tuples' first byte: `{"batch_id":...,"tuples":[`.
std::string head(const BatchSummary& s, std::int64_t readings, std::int64_t part,
                 std::int64_t parts) {
  JsonWriter w;
  w.begin_object();
  w.field("batch_id", s.batch_id);
  w.field("flushed_at", format_rfc3339_ms(s.flushed_at));
  w.field("readings", readings);
  w.field("part", part).field("parts", parts);
  w.key("tuples");
  std::string out = w.take();
  out += '[';
  return out;
}

constexpr std::string_view kTail = "]}";

}  // namespace

std::string summary_to_json(const BatchSummary& s) {
  std::string out = head(s, s.readings, s.part, s.parts);
  JsonWriter w;
  w.begin_array();
  for (const auto& t : s.tuples) write_tuple(w, t);
  w.end_array();
  const std::string& tuples = w.str();
  out.append(tuples, 1, tuples.size() - 2);  // without the array's own brackets
  out += kTail;
  return out;
}

std::vector<std::string> summary_parts_json(const BatchSummary& s, std::size_t max_bytes) {
  // Every tuple is written once into one text; `ends[i]` is where tuple i ends in it (tuple i
  // starts after ends[i-1] and its separating comma).
  JsonWriter w;
  w.begin_array();
  std::vector<std::size_t> ends;
  ends.reserve(s.tuples.size());
  for (const auto& t : s.tuples) {
    write_tuple(w, t);
    ends.push_back(w.str().size());
  }
  const std::string& text = w.str();
  auto start_of = [&](std::size_t i) { return i == 0 ? std::size_t{1} : ends[i - 1] + 1; };

  // The common case: the whole summary fits, one part.
  const std::size_t body = text.size() - 1;  // the tuples without the array's '['
  {
    std::string whole = head(s, s.readings, 1, 1);
    if (whole.size() + body + kTail.size() <= max_bytes) {
      whole.append(text, 1, body);
      whole += kTail;
      return {std::move(whole)};
    }
  }

  // A part's head is never longer than with the whole batch's numbers: readings, part and parts
  // of a part are at most the batch's readings and its tuple count.
  std::int64_t counted = 0;
  for (const auto& t : s.tuples) counted += t.count;
  const auto widest = static_cast<std::int64_t>(std::max<std::size_t>(1, s.tuples.size()));
  const std::size_t overhead =
      head(s, std::max({s.readings, counted, std::int64_t{0}}), widest, widest).size() +
      kTail.size();
  if (overhead > max_bytes) throw std::length_error("summary head exceeds the payload budget");

  // Greedy: consecutive tuples while they fit; [first, last) per part.
  std::vector<std::pair<std::size_t, std::size_t>> runs;
  std::size_t first = 0, size = overhead;
  for (std::size_t i = 0; i < s.tuples.size(); ++i) {
    const std::size_t len = ends[i] - start_of(i);
    const std::size_t add = len + (i == first ? 0 : 1);
    if (size + add <= max_bytes) {
      size += add;
      continue;
    }
    if (i == first || overhead + len > max_bytes) {
      throw std::length_error("a summary tuple exceeds the payload budget");
    }
    runs.emplace_back(first, i);
    first = i;
    size = overhead + len;
  }
  runs.emplace_back(first, s.tuples.size());

  std::vector<std::string> out;
  out.reserve(runs.size());
  const auto parts = static_cast<std::int64_t>(runs.size());
  for (std::size_t p = 0; p < runs.size(); ++p) {
    const auto [a, b] = runs[p];
    std::int64_t readings = 0;
    for (std::size_t i = a; i < b; ++i) readings += s.tuples[i].count;
    std::string part = head(s, readings, static_cast<std::int64_t>(p) + 1, parts);
    if (a < b) part.append(text, start_of(a), ends[b - 1] - start_of(a));
    part += kTail;
    out.push_back(std::move(part));
  }
  return out;
}

}  // namespace ste::ingest
