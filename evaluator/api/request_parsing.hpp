#pragma once
/// Parsing and validation of API request bodies (query parameters: query_parsing.hpp). Pure:
/// values in, a typed result or an ApiError out. Bodies are parsed with simdjson; unknown fields
/// are rejected (422 naming the field); each invalid field gives a 422 whose message names the
/// field and the rule it broke; malformed JSON or a non-object body gives 400.
#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "common/api_keys.hpp"
#include "common/clock.hpp"
#include "evaluator/api/api_error.hpp"
#include "evaluator/evaluation/rule.hpp"

namespace ste::api {

/// A rule as the API accepts it (POST and PUT). Required: name (1-200 chars), metric
/// ([A-Za-z0-9_.:-]{1,128}, or "*" on a no_data rule), condition, and threshold (finite number)
/// or, for no_data, silent_minutes (1..10080) and no threshold. Optional with defaults: device
/// (null or [A-Za-z0-9_-]{1,128}; null = every device), window_minutes (integer 1..1440, default
/// 60), cooldown_minutes (integer 0..10080, default 15), severity (info|warning|critical,
/// default warning), enabled (boolean, default true), the lifecycle periods.
struct RuleInput {
  std::string name;
  std::string metric;
  std::optional<std::string> device;
  eval::Condition condition = eval::Condition::above_threshold;
  double threshold = 0;
  int window_minutes = 60;
  int cooldown_minutes = 15;
  eval::Severity severity = eval::Severity::warning;
  bool enabled = true;
  int for_minutes = 0;
  std::optional<double> clear_threshold;  ///< threshold rules only; nullopt = threshold
  int clear_for_minutes = 0;
  int renotify_minutes = 0;
  std::optional<int> silent_minutes;  ///< no_data rules only (and required there)
  int flap_changes = 6;               ///< 0 = never flapping, else 2..1000 (ALERTING.md §5)
  int flap_window_minutes = 30;
};
/// Also checks across fields, 422 naming the field: clear_threshold only on threshold rules and
/// not beyond the threshold (above: <=, below: >=); a no_data rule has silent_minutes, no
/// threshold, no for/clear periods; silent_minutes and metric "*" only on no_data rules.
Parsed<RuleInput> parse_rule_body(std::string_view body);

/// PUT /api/integrations: every field optional; absent = unchanged, null = cleared.
/// URLs must be http:// or https:// and at most 2048 chars; key/secret 1..256 chars.
struct Field {
  bool present = false;
  std::optional<std::string> value;  ///< nullopt with present = cleared
};
struct IntegrationsInput {
  Field notification_hub_url, notification_hub_api_key, workflow_engine_url, workflow_engine_secret;
};
Parsed<IntegrationsInput> parse_integrations_body(std::string_view body);

/// PUT /api/settings: a tenant's settings; every field optional, absent = unchanged.
/// device_offline_minutes: integer 1..10080 (a week); a device silent for longer is offline.
inline constexpr int kMinOfflineMinutes = 1;
inline constexpr int kMaxOfflineMinutes = 10080;
struct SettingsInput {
  std::optional<int> device_offline_minutes;
};
Parsed<SettingsInput> parse_settings_body(std::string_view body);

/// POST /admin/tenants: slug ([a-z0-9-]{1,63}, required), name (1-200 chars, default = slug).
struct TenantInput {
  std::string slug;
  std::string name;
};
Parsed<TenantInput> parse_tenant_body(std::string_view body);

/// POST /api/keys: name (ident::kApiKeyNameRule, required) and role (operator|viewer, required).
struct KeyInput {
  std::string name;
  admin::KeyRole role = admin::KeyRole::viewer;
};
Parsed<KeyInput> parse_key_body(std::string_view body);

/// POST /api/devices: `{"devices": ["k1", ...]}`, 1..kMaxDevicesPerRequest device keys
/// ([A-Za-z0-9_-]{1,128}); the 422 for a bad key names the first one and its index.
inline constexpr std::size_t kMaxDevicesPerRequest = 10000;
struct DevicesInput {
  std::vector<std::string> devices;
};
Parsed<DevicesInput> parse_devices_body(std::string_view body);

}  // namespace ste::api
