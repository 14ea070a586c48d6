#pragma once
/// A device's status as the API shows it (docs/ALERTING.md §4): `never_seen` without any received
/// reading, `offline` when the last one was received longer than the tenant's
/// device_offline_minutes ago, else `online`. Pure: "now" is passed in (the API passes the
/// database's clock, the clock the ingester stamps received times with).
///
/// The decision has one home, offline_cutoff() and device_status(); device_status_sql() is its
/// one SQL form, for the queries that filter or count by status.
#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include "common/clock.hpp"
#include "evaluator/api/api_error.hpp"

namespace ste::api {

enum class DeviceStatus { online, offline, never_seen };

std::string_view device_status_name(DeviceStatus s);

/// Received before this instant = offline.
TimePoint offline_cutoff(TimePoint now, std::chrono::minutes offline_after);

DeviceStatus device_status(std::optional<TimePoint> last_received, TimePoint cutoff);

/// The same decision from "now": silent for longer than `offline_after` = offline.
DeviceStatus device_status(std::optional<TimePoint> last_received, TimePoint now,
                           std::chrono::minutes offline_after);

/// device_status() as a SQL expression yielding device_status_name(): `column` the received time,
/// `cutoff_param` the placeholder ("$7") bound to offline_cutoff()'s time.
std::string device_status_sql(std::string_view column, std::string_view cutoff_param);

/// Which statuses a `?status=` filter lets through; all of them without a filter.
struct DeviceStatusFilter {
  bool online = true;
  bool offline = true;
  bool never_seen = true;
  bool accepts(DeviceStatus s) const;
};

/// `?status=online|offline|never_seen`, or a comma list of them; absent = every status. Anything
/// else (an empty item, an unknown name) is a 422 naming `status`.
std::variant<DeviceStatusFilter, ApiError> parse_device_status_filter(
    const std::optional<std::string>& param);

}  // namespace ste::api
