#include "evaluator/api/device_status.hpp"

#include <fmt/format.h>

namespace ste::api {

std::string_view device_status_name(DeviceStatus s) {
  switch (s) {
    case DeviceStatus::online:
      return "online";
    case DeviceStatus::offline:
      return "offline";
    case DeviceStatus::never_seen:
      return "never_seen";
  }
  return "never_seen";
}

TimePoint offline_cutoff(TimePoint now, std::chrono::minutes offline_after) {
  return now - offline_after;
}

DeviceStatus device_status(std::optional<TimePoint> last_received, TimePoint cutoff) {
  if (!last_received) return DeviceStatus::never_seen;
  return *last_received < cutoff ? DeviceStatus::offline : DeviceStatus::online;
}

DeviceStatus device_status(std::optional<TimePoint> last_received, TimePoint now,
                           std::chrono::minutes offline_after) {
  return device_status(last_received, offline_cutoff(now, offline_after));
}

bool DeviceStatusFilter::accepts(DeviceStatus s) const {
  switch (s) {
    case DeviceStatus::online:
      return online;
    case DeviceStatus::offline:
      return offline;
    case DeviceStatus::never_seen:
      return never_seen;
  }
  return false;
}

std::variant<DeviceStatusFilter, ApiError> parse_device_status_filter(
    const std::optional<std::string>& param) {
  if (!param) return DeviceStatusFilter{};
  DeviceStatusFilter f{false, false, false};
  std::string_view rest = *param;
  while (true) {
    const auto comma = rest.find(',');
    const std::string_view item = rest.substr(0, comma);
    if (item == "online") {
      f.online = true;
    } else if (item == "offline") {
      f.offline = true;
    } else if (item == "never_seen") {
      f.never_seen = true;
    } else {
      return invalid_field("status must be online, offline or never_seen, or a comma list of them");
    }
    if (comma == std::string_view::npos) break;
    rest.remove_prefix(comma + 1);
  }
  return f;
}

std::string device_status_sql(std::string_view column, std::string_view cutoff_param) {
  return fmt::format(
      "(CASE WHEN {0} IS NULL THEN '{2}' WHEN {0} >= {1}::timestamptz THEN '{3}' "
      "ELSE '{4}' END)",
      column, cutoff_param, device_status_name(DeviceStatus::never_seen),
      device_status_name(DeviceStatus::online), device_status_name(DeviceStatus::offline));
}

}  // namespace ste::api
