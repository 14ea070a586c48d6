#pragma once
/// The "batch flushed" summary published on `ste.batches.flushed` after each committed batch
/// (docs/DESIGN.md §4): one tuple per (tenant, device, metric) with last, min, max and count.
/// Carrying min and max means a spike inside one batch is never hidden by a later normal reading.
/// Pure functions.
#include <cstddef>
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

/// The summary as one JSON text (`part`/`parts` as in `summary`).
std::string summary_to_json(const BatchSummary& summary);

/// The summary as JSON texts of at most `max_bytes` each, for NATS's max_payload: the tuples in
/// their order, cut into consecutive runs, each run a complete summary with the same batch_id
/// and flushed_at, `"part": k, "parts": n` and `readings` = the sum of its tuples' counts. A
/// tuple is never split; a summary that fits is one part. Throws std::length_error when a tuple
/// does not fit `max_bytes` with a head sized for the largest numbers (a tuple is under 1 KiB:
/// the caller keeps the budget well above that).
std::vector<std::string> summary_parts_json(const BatchSummary& summary, std::size_t max_bytes);

}  // namespace ste::ingest
