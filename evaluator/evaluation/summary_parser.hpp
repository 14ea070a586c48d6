#pragma once
/// Parses a `ste.batches.flushed` summary (docs/DESIGN.md §4; tuples also carry `tenant` and
/// `device`, the slug and device key) with simdjson. Errors are values.
/// Not thread-safe: one SummaryParser per thread.
#include <simdjson.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "common/batch_summary.hpp"
#include "common/clock.hpp"

namespace ste::eval {

/// The summary as the ingester publishes it (common/batch_summary.hpp).
using Tuple = ste::SummaryTuple;
using Summary = ste::BatchSummary;

struct SummaryError {
  std::string message;  ///< names the field that was missing or malformed
};

class SummaryParser {
 public:
  /// Every field is required (tenant and device may be empty strings) except `part` and
  /// `parts`, which come together (1 <= part <= parts) or not at all (a whole summary, 1 of 1);
  /// unknown fields are ignored. Errors read "tuples[3].max_ts: not an RFC 3339 timestamp",
  /// "readings: missing", or "summary is not valid JSON". The input is copied into a reused padded
  /// buffer.
  std::variant<Summary, SummaryError> parse(std::string_view json);

 private:
  simdjson::ondemand::parser parser_;
  simdjson::padded_string buffer_;
};

}  // namespace ste::eval
