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

#include "common/clock.hpp"

namespace ste::eval {

struct Tuple {
  std::int64_t tenant_id = 0;
  std::int64_t device_id = 0;
  std::string tenant;
  std::string device;
  std::string metric;
  double last = 0;
  TimePoint last_ts{};
  double min = 0;
  TimePoint min_ts{};
  double max = 0;
  TimePoint max_ts{};
  std::int64_t count = 0;
};

struct Summary {
  std::string batch_id;
  TimePoint flushed_at{};
  std::int64_t readings = 0;
  std::vector<Tuple> tuples;
};

struct SummaryError {
  std::string message;  ///< names the field that was missing or malformed
};

class SummaryParser {
 public:
  /// Every field is required (tenant and device may be empty strings); unknown fields are
  /// ignored. Errors read "tuples[3].max_ts: not an RFC 3339 timestamp", "readings: missing",
  /// or "summary is not valid JSON". The input is copied into a reused padded buffer.
  std::variant<Summary, SummaryError> parse(std::string_view json);

 private:
  simdjson::ondemand::parser parser_;
  simdjson::padded_string buffer_;
};

}  // namespace ste::eval
