/// libFuzzer target for ste::ingest::ReadingParser (docs/DESIGN.md §3), called the way
/// MessageIntake calls it. Besides "no crash / no sanitizer report" it aborts when a result breaks
/// the contract: accepted readings must be valid, rejections must carry a detail, and parsing is
/// deterministic on a parser that is reused (as it is in production, one per thread).
#include <chrono>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "common/clock.hpp"
#include "ingester/reading_parser.hpp"
#include "tests/fuzz/fuzz_support.hpp"

namespace {

using namespace ste::fuzz;

using namespace ste;
using namespace ste::ingest;

// 2026-11-28T12:00:00Z, the unit tests' "now", so seeds with 2026 timestamps are in range.
const TimePoint kNow{std::chrono::seconds{1'795'867'200}};
const ParseLimits kLimits{};

bool reason_from_parser(RejectReason r) {
  // The parser only ever sees the payload: subject, tenant and device-registry reasons belong
  // to MessageIntake.
  return r != RejectReason::invalid_subject && r != RejectReason::unknown_tenant &&
         r != RejectReason::device_limit && reason_name(r) != "unknown";
}

bool same(const Reading& a, const Reading& b) {
  // Bitwise-equal values (a NaN would already have failed the finiteness check).
  return a.metric == b.metric && a.value == b.value &&
         std::signbit(a.value) == std::signbit(b.value) && a.ts == b.ts && a.unit == b.unit;
}

bool same(const Rejection& a, const Rejection& b) {
  return a.reason == b.reason && a.index == b.index && a.payload == b.payload &&
         a.detail == b.detail;
}

bool same(const ParsedMessage& a, const ParsedMessage& b) {
  if (a.readings.size() != b.readings.size() || a.rejections.size() != b.rejections.size()) {
    return false;
  }
  for (std::size_t i = 0; i < a.readings.size(); ++i) {
    if (!same(a.readings[i], b.readings[i])) return false;
  }
  for (std::size_t i = 0; i < a.rejections.size(); ++i) {
    if (!same(a.rejections[i], b.rejections[i])) return false;
  }
  return true;
}

void check_result(std::string_view payload, const MessageContext& ctx, const ParsedMessage& m) {
  EXPECT(m.readings.size() <= kLimits.max_readings);
  for (const Reading& r : m.readings) {
    EXPECT(std::isfinite(r.value));
    EXPECT(!r.metric.empty() && r.metric.size() <= kLimits.max_metric_len);
    for (const char c : r.metric) EXPECT(is_metric_char(c));
    EXPECT(r.ts <= ctx.now + kLimits.max_future);
    EXPECT(r.ts >= ctx.now - ctx.retention);
    if (r.unit) EXPECT(code_points(*r.unit) <= kLimits.max_unit_chars);
  }
  bool whole = false;
  std::size_t next_index = 0;
  for (const Rejection& j : m.rejections) {
    EXPECT(!j.detail.empty());
    EXPECT(reason_from_parser(j.reason));
    EXPECT(j.payload.size() <= kRejectedPayloadMax);
    if (!j.index) {
      // A whole-message rejection stands alone and carries the message itself (clipped).
      whole = true;
      EXPECT(m.rejections.size() == 1 && m.readings.empty());
      EXPECT(j.payload == payload.substr(0, kRejectedPayloadMax));
    } else {
      // Per-element rejections come in array order, below the readings limit, and carry the
      // element's own (non-empty) text, which is part of the message.
      EXPECT(*j.index >= next_index && *j.index < kLimits.max_readings);
      next_index = *j.index + 1;
      EXPECT(!j.payload.empty());
      EXPECT(payload.find(j.payload) != std::string_view::npos);
      EXPECT(j.reason != RejectReason::too_large && j.reason != RejectReason::too_many_readings);
    }
  }
  if (payload.size() > kLimits.max_payload_bytes) {
    EXPECT(whole && m.rejections.front().reason == RejectReason::too_large);
  }
  // Every message yields something: readings, or at least one reason why not.
  EXPECT(!m.readings.empty() || !m.rejections.empty() ||
         payload.find('[') != std::string_view::npos);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static ReadingParser parser(kLimits);  // reused across inputs, like the ingester's
  const std::string_view payload(reinterpret_cast<const char*>(data), size);
  MessageContext ctx{"dev-1", kNow, kNow - std::chrono::minutes{1}, std::chrono::hours{24 * 30}};

  const ParsedMessage first = parser.parse(payload, ctx);
  check_result(payload, ctx, first);

  // Determinism: the reused buffer and padding hold bytes of this very message now.
  const ParsedMessage second = parser.parse(payload, ctx);
  EXPECT(same(first, second));

  // A single accepted object means the same as a one-element array holding it (depth permitting:
  // the element is one level deeper, so stay far from the nesting cap).
  std::size_t nesting = 0;
  for (const char c : payload) nesting += c == '[' || c == '{';
  if (first.readings.size() == 1 && first.rejections.empty() && nesting < 256 &&
      payload.size() + 2 <= kLimits.max_payload_bytes) {
    std::size_t lead = 0;
    while (lead < payload.size() && (payload[lead] == ' ' || payload[lead] == '\t' ||
                                     payload[lead] == '\n' || payload[lead] == '\r')) {
      ++lead;
    }
    if (lead < payload.size() && payload[lead] == '{') {
      const std::string wrapped = "[" + std::string(payload) + "]";
      const ParsedMessage arr = parser.parse(wrapped, ctx);
      check_result(wrapped, ctx, arr);
      EXPECT(arr.readings.size() == 1 && arr.rejections.empty());
      EXPECT(same(arr.readings.front(), first.readings.front()));
    }
  }
  return 0;
}
