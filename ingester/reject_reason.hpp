#pragma once
/// Why a message or a reading was rejected. The names are part of the contract: they appear in
/// `ste_ingest_rejected_total{reason}`, the logs and `ste.rejected.<tenant>` payloads.
#include <array>
#include <optional>
#include <string>
#include <string_view>

namespace ste::ingest {

enum class RejectReason {
  invalid_subject,
  invalid_json,
  too_large,
  too_many_readings,
  unknown_tenant,
  device_limit,
  device_mismatch,
  missing_metric,
  invalid_metric,
  missing_value,
  invalid_value,
  invalid_ts,
  future_ts,
  too_old,
  invalid_unit,
};

inline constexpr std::array kAllRejectReasons = {
    RejectReason::invalid_subject,   RejectReason::invalid_json,   RejectReason::too_large,
    RejectReason::too_many_readings, RejectReason::unknown_tenant, RejectReason::device_limit,
    RejectReason::device_mismatch,   RejectReason::missing_metric, RejectReason::invalid_metric,
    RejectReason::missing_value,     RejectReason::invalid_value,  RejectReason::invalid_ts,
    RejectReason::future_ts,         RejectReason::too_old,        RejectReason::invalid_unit,
};

constexpr std::string_view reason_name(RejectReason r) {
  switch (r) {
    case RejectReason::invalid_subject:
      return "invalid_subject";
    case RejectReason::invalid_json:
      return "invalid_json";
    case RejectReason::too_large:
      return "too_large";
    case RejectReason::too_many_readings:
      return "too_many_readings";
    case RejectReason::unknown_tenant:
      return "unknown_tenant";
    case RejectReason::device_limit:
      return "device_limit";
    case RejectReason::device_mismatch:
      return "device_mismatch";
    case RejectReason::missing_metric:
      return "missing_metric";
    case RejectReason::invalid_metric:
      return "invalid_metric";
    case RejectReason::missing_value:
      return "missing_value";
    case RejectReason::invalid_value:
      return "invalid_value";
    case RejectReason::invalid_ts:
      return "invalid_ts";
    case RejectReason::future_ts:
      return "future_ts";
    case RejectReason::too_old:
      return "too_old";
    case RejectReason::invalid_unit:
      return "invalid_unit";
  }
  return "unknown";
}

/// A rejection of a whole message (index empty) or of one element of an array (index set).
struct Rejection {
  RejectReason reason;
  std::optional<std::size_t> index;
  std::string payload;  ///< the message (or the element's own JSON text), at most 4096 bytes
  std::string detail;   ///< human-readable, e.g. "value must be a finite number"
};

inline constexpr std::size_t kRejectedPayloadMax = 4096;

}  // namespace ste::ingest
