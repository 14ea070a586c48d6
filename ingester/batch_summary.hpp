#pragma once
/// The "batch flushed" summary published on `ste.batches.flushed` after each committed batch
/// (docs/DESIGN.md §4): one tuple per (tenant, device, metric) with last, min, max and count.
/// Carrying min and max means a spike inside one batch is never hidden by a later normal reading.
/// Pure functions.
#include <cstdint>
#include <string>
#include <vector>

#include "common/clock.hpp"
#include "ingester/batch_buffer.hpp"

namespace ste::ingest {

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

struct BatchSummary {
  std::string batch_id;
  TimePoint flushed_at{};
  std::int64_t readings = 0;
  std::vector<SummaryTuple> tuples;  ///< ordered by (tenant_id, device_id, metric)
};

/// `last` is the reading with the latest timestamp (on a tie, the later one in the batch); `min`
/// and `max` keep the timestamp of their first occurrence.
BatchSummary build_summary(const std::vector<BufferedReading>& readings, std::string batch_id,
                           TimePoint flushed_at, const DeviceLabels& labels = {});

std::string summary_to_json(const BatchSummary& summary);

}  // namespace ste::ingest
