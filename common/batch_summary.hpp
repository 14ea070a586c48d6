#pragma once
/// The "batch flushed" summary (docs/DESIGN.md §4) as a value: the ingester builds and publishes
/// it, the evaluator parses and evaluates it. One definition, shared through common/.
#include <cstdint>
#include <string>
#include <vector>

#include "common/clock.hpp"

namespace ste {

/// One (tenant, device, metric) of a batch with its last, min and max readings.
struct SummaryTuple {
  std::int64_t tenant_id = 0;
  std::int64_t device_id = 0;
  std::string tenant;  ///< slug (empty when no label was known)
  std::string device;  ///< device key (empty when no label was known)
  std::string metric;
  double last = 0;
  TimePoint last_ts{};
  double min = 0;
  TimePoint min_ts{};
  double max = 0;
  TimePoint max_ts{};
  std::int64_t count = 0;
};

/// Adds one reading to a tuple: the one rule for what a tuple keeps, shared by the ingester's
/// summaries and the evaluator's catch-up. `last` is the reading with the latest timestamp (on a
/// tie, the one added later); `min` and `max` keep the timestamp of their first occurrence.
inline void add_reading(SummaryTuple& t, double value, TimePoint ts) {
  if (t.count++ == 0) {
    t.last = t.min = t.max = value;
    t.last_ts = t.min_ts = t.max_ts = ts;
    return;
  }
  if (ts >= t.last_ts) {
    t.last = value;
    t.last_ts = ts;
  }
  if (value < t.min) {
    t.min = value;
    t.min_ts = ts;
  }
  if (value > t.max) {
    t.max = value;
    t.max_ts = ts;
  }
}

/// A batch's summary, or one part of it: a summary too large for one NATS message is split
/// into parts (same batch_id, `part` 1..`parts`), each a complete summary of its own tuples.
struct BatchSummary {
  std::string batch_id;
  TimePoint flushed_at{};
  std::int64_t readings = 0;  ///< readings counted in `tuples` (the sum of their counts)
  std::int64_t part = 1;      ///< 1-based; summaries without the field are part 1 of 1
  std::int64_t parts = 1;
  std::vector<SummaryTuple> tuples;  ///< ordered by (tenant_id, device_id, metric)
};

}  // namespace ste
