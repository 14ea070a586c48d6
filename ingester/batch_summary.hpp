#pragma once
/// The "batch flushed" summary published on `ste.batches.flushed` after each committed batch
/// (docs/DESIGN.md §4): one tuple per (tenant, device, metric) with last, min, max and count.
/// Carrying min and max means a spike inside one batch is never hidden by a later normal reading.
/// Pure functions.
#include <cstdint>
#include <string>
#include <vector>

#include "common/batch_summary.hpp"
#include "common/clock.hpp"
#include "ingester/batch_buffer.hpp"

namespace ste::ingest {

using ste::BatchSummary;
using ste::SummaryTuple;

/// `last` is the reading with the latest timestamp (on a tie, the later one in the batch); `min`
/// and `max` keep the timestamp of their first occurrence.
BatchSummary build_summary(const std::vector<BufferedReading>& readings, std::string batch_id,
                           TimePoint flushed_at, const DeviceLabels& labels = {});

std::string summary_to_json(const BatchSummary& summary);

}  // namespace ste::ingest
