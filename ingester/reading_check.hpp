#pragma once
/// ReadingCheck: the ingest contract's checks of one reading (docs/DESIGN.md §3), pure. The
/// ReadingParser finds a reading object's known fields (RawFields: what each slot held, before
/// any rule is applied); check_reading() applies the rules in the contract's order and gives the
/// reading's one rejection, or fills the accepted Reading. Kept apart from the JSON reading so
/// the rules read as the contract does.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common/clock.hpp"
#include "ingester/reading.hpp"
#include "ingester/reading_parser.hpp"
#include "ingester/reject_reason.hpp"

namespace ste::ingest {

enum class Slot : std::uint8_t { absent, null, ok, bad };

enum class TsRange : std::int8_t { in_range, far_past, far_future };

/// The known fields of one reading object as found, before the contract's checks are applied.
/// Strings view simdjson's string buffer and are valid until the next parse.
struct RawFields {
  Slot device = Slot::absent;
  Slot metric = Slot::absent;
  Slot value = Slot::absent;
  Slot ts = Slot::absent;
  Slot unit = Slot::absent;
  std::string_view metric_text;
  double value_num = 0;
  TimePoint ts_point;
  TsRange ts_range = TsRange::in_range;
  std::string_view unit_text;
};

struct Verdict {
  RejectReason reason;
  std::string detail;
};

/// Applies the contract's checks in its order (device, metric, value, ts, unit); the first failure
/// is the reading's one rejection (nullopt: accepted, `out` filled). Strings in `raw` are views
/// into the parser's buffer; `out` owns copies.
std::optional<Verdict> check_reading(const RawFields& raw, const MessageContext& ctx,
                                     const ParseLimits& limits, Reading& out);

/// Unicode code points in valid UTF-8: non-continuation bytes.
std::size_t count_code_points(std::string_view s);

/// "412 s" or "300.001 s": whole seconds when exact, else milliseconds.
std::string format_seconds(std::int64_t ms);

}  // namespace ste::ingest
