#pragma once
/// Turns one NATS message payload into validated readings and per-reading rejections, exactly as
/// docs/DESIGN.md §3 specifies. Uses simdjson (ondemand) on a reused padded buffer.
/// Errors are values: nothing here throws for bad input.
/// Not thread-safe: one ReadingParser per thread (it owns the simdjson parser and buffer).
#include <simdjson.h>

#include <chrono>
#include <string_view>
#include <vector>

#include "common/clock.hpp"
#include "common/identifiers.hpp"
#include "ingester/reading.hpp"
#include "ingester/reject_reason.hpp"

namespace ste::ingest {

struct ParseLimits {
  std::size_t max_payload_bytes = 64 * 1024;
  std::size_t max_readings = 1000;
  /// Not a knob: the contract's metric-name rule (common/identifiers.hpp), fixed.
  static constexpr std::size_t max_metric_len = ident::kMaxMetricNameLength;
  std::size_t max_unit_chars = 32;
  std::chrono::milliseconds max_future{std::chrono::minutes{5}};
};

/// What the parser needs to know about the message besides its bytes.
struct MessageContext {
  std::string_view device;  ///< the subject's device key (a reading's `device` must match it)
  TimePoint now;            ///< the ingester's clock, for future/too-old checks
  TimePoint default_ts;  ///< used when `ts` is absent: the JetStream stored time (or receive time)
  std::chrono::hours retention{24 * 30};  ///< readings older than now - retention are too_old
};

struct ParsedMessage {
  std::vector<Reading> readings;      ///< accepted readings, in message order
  std::vector<Rejection> rejections;  ///< whole-message rejection (index empty) or per element
};

class ReadingParser {
 public:
  explicit ReadingParser(ParseLimits limits = {});
  ParsedMessage parse(std::string_view payload, const MessageContext& ctx);

 private:
  ParseLimits limits_;
  simdjson::ondemand::parser parser_;
  simdjson::padded_string buffer_;
};

}  // namespace ste::ingest
