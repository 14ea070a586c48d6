#include "evaluator/api/request_parsing.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <utility>

#include "common/identifiers.hpp"
#include "evaluator/alerts/tuple_verdict.hpp"
#include "evaluator/api/json_body.hpp"

namespace ste::api {

using namespace json_body;

namespace {

/// Scheme and a non-empty host; printable ASCII only, because the URL is later used verbatim
/// in a request line, where spaces and control characters would corrupt or split it.
bool is_http_url(std::string_view s) {
  std::string_view rest;
  if (s.substr(0, 7) == "http://") {
    rest = s.substr(7);
  } else if (s.substr(0, 8) == "https://") {
    rest = s.substr(8);
  } else {
    return false;
  }
  if (s.size() > 2048 || rest.empty() || rest.front() == '/' || rest.front() == '?' ||
      rest.front() == '#') {
    return false;
  }
  for (const char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (u <= ' ' || u > '~') return false;
  }
  return true;
}

/// Credentials: 1-256 characters without control characters. The hub key travels as the
/// X-API-Key header value, where a CR or LF would inject headers.
bool is_credential(std::string_view s) { return text_of(s, 256); }

// The identifier rules are quoted from common/identifiers.hpp, so a message cannot name another
// rule than the one applied.
const std::array<FieldSpec, 16> kRuleFields = {{
    {"name", true, "name must be a string of 1-200 characters, none of them control characters"},
    {"metric", true,
     fmt::format("metric must be {}, or \"*\" (any metric) on a no_data rule",
                 ident::kMetricNameRule)},
    {"device", false, fmt::format("device must be null or {}", ident::kDeviceKeyRule)},
    {"condition", true,
     "condition must be one of above_threshold, below_threshold, deviation_from_mean, no_data"},
    {"threshold", false, "threshold must be a finite number (null on a no_data rule)"},
    {"window_minutes", false, "window_minutes must be an integer 1..1440"},
    {"cooldown_minutes", false, "cooldown_minutes must be an integer 0..10080"},
    {"severity", false, "severity must be one of info, warning, critical"},
    {"enabled", false, "enabled must be a boolean"},
    {"for_minutes", false, "for_minutes must be an integer 0..10080"},
    {"clear_threshold", false, "clear_threshold must be null or a finite number"},
    {"clear_for_minutes", false, "clear_for_minutes must be an integer 0..10080"},
    {"renotify_minutes", false, "renotify_minutes must be an integer 0..10080"},
    {"silent_minutes", false, "silent_minutes must be null or an integer 1..10080"},
    {"flap_changes", false, "flap_changes must be 0 (never flapping) or an integer 2..1000"},
    {"flap_window_minutes", false, "flap_window_minutes must be an integer 1..1440"},
}};

/// A nullable integer in [lo, hi].
Got read_nullable_int(od::value& v, int lo, int hi, std::optional<int>& out) {
  bool is_null = false;
  if (v.is_null().get(is_null) == SUCCESS && is_null) {
    out.reset();
    return Got::ok;
  }
  int n = 0;
  const Got got = read_int(v, lo, hi, n);
  if (got == Got::ok) out = n;
  return got;
}

/// The checks across fields of a rule (after each field obeyed its own rule).
/// `threshold_given`: the field was there (a number or null); `threshold` its number.
std::optional<ApiError> check_rule(const RuleInput& r, bool threshold_given,
                                   const std::optional<double>& threshold) {
  const bool has_threshold = threshold.has_value();
  using eval::Condition;
  if (r.condition == Condition::no_data) {
    if (!r.silent_minutes) return invalid_field("silent_minutes is required for a no_data rule");
    if (has_threshold) {
      return invalid_field(
          "threshold does not apply to a no_data rule (silent_minutes says how long a device or "
          "series may be silent): leave it out or null");
    }
    // Periods of readings: a no-data episode fires when the silence exceeds silent_minutes and
    // resolves when a reading arrives.
    if (r.for_minutes != 0) {
      return invalid_field(
          "for_minutes does not apply to a no_data rule: silent_minutes is its period");
    }
    if (r.clear_for_minutes != 0) {
      return invalid_field(
          "clear_for_minutes does not apply to a no_data rule: it resolves when a reading arrives");
    }
    if (r.clear_threshold) {
      return invalid_field("clear_threshold applies to threshold rules only");
    }
    return std::nullopt;
  }
  if (r.silent_minutes) {
    return invalid_field(
        fmt::format("silent_minutes applies to no_data rules only, not to {} rules",
                    eval::condition_name(r.condition)));
  }
  if (r.metric == "*") {
    return invalid_field(fmt::format(
        "metric \"*\" (any metric) applies to no_data rules only; {} rules need one metric, {}",
        eval::condition_name(r.condition), ident::kMetricNameRule));
  }
  if (!threshold_given) {
    return invalid_field(
        fmt::format("threshold is required for {} rules", eval::condition_name(r.condition)));
  }
  if (!has_threshold) return invalid_field(kRuleFields[4].invalid);
  if (r.clear_threshold) {
    if (r.condition == Condition::deviation_from_mean) {
      return invalid_field(
          "clear_threshold applies to threshold rules only: a deviation_from_mean rule clears "
          "when the value is back within threshold x stddev of its window's mean");
    }
    if (!eval::clear_threshold_valid(r.condition, r.threshold, *r.clear_threshold)) {
      return invalid_field(fmt::format(
          "clear_threshold must be {} the threshold for {} (got clear_threshold {}, threshold {})",
          r.condition == Condition::above_threshold ? "at most" : "at least",
          eval::condition_name(r.condition), *r.clear_threshold, r.threshold));
    }
  }
  return std::nullopt;
}

const std::array<FieldSpec, 4> kIntegrationFields = {{
    {"notification_hub_url", false,
     "notification_hub_url must be null or an http:// or https:// URL of at most 2048 "
     "characters"},
    {"notification_hub_api_key", false,
     "notification_hub_api_key must be null or a string of 1-256 characters"},
    {"workflow_engine_url", false,
     "workflow_engine_url must be null or an http:// or https:// URL of at most 2048 "
     "characters"},
    {"workflow_engine_secret", false,
     "workflow_engine_secret must be null or a string of 1-256 characters"},
}};

const std::array<FieldSpec, 1> kDevicesFields = {{
    {"devices", true, "devices must be an array of 1-10000 device keys"},
}};

const std::array<FieldSpec, 1> kSettingsFields = {{
    {"device_offline_minutes", false,
     fmt::format("device_offline_minutes must be an integer from {} to {}", kMinOfflineMinutes,
                 kMaxOfflineMinutes)},
}};

const std::array<FieldSpec, 2> kKeyFields = {{
    {"name", true, fmt::format("name must be {}", ident::kApiKeyNameRule)},
    {"role", true, fmt::format("role must be {}", admin::kKeyRoleRule)},
}};

const std::array<FieldSpec, 2> kTenantFields = {{
    {"slug", true, fmt::format("slug must be {}", ident::kTenantSlugRule)},
    {"name", false, "name must be a string of 1-200 characters, none of them control characters"},
}};

}  // namespace

Parsed<RuleInput> parse_rule_body(std::string_view body) {
  RuleInput r;
  std::optional<double> threshold;
  bool threshold_given = false;
  auto err = read_object(body, kRuleFields, [&](std::size_t i, od::value& v) {
    switch (i) {
      case 0: {
        const Got got = read_string(v, r.name);
        return check(got, text_of(r.name, 200));
      }
      case 1: {
        const Got got = read_string(v, r.metric);
        return check(got, r.metric == "*" || ident::is_metric_name(r.metric));
      }
      case 2: {
        const Got got = read_nullable_string(v, r.device);
        return check(got, !r.device || ident::is_device_key(*r.device));
      }
      case 3: {
        std::string s;
        const Got got = read_string(v, s);
        const auto c = eval::parse_condition(s);
        if (c) r.condition = *c;
        return check(got, c.has_value());
      }
      case 4:
        threshold_given = true;
        return read_nullable_double(v, threshold);
      case 5:
        return read_int(v, 1, 1440, r.window_minutes);
      case 6:
        return read_int(v, 0, 10080, r.cooldown_minutes);
      case 7: {
        std::string s;
        const Got got = read_string(v, s);
        const auto sev = eval::parse_severity(s);
        if (sev) r.severity = *sev;
        return check(got, sev.has_value());
      }
      case 8:
        return read_bool(v, r.enabled);
      case 9:
        return read_int(v, 0, 10080, r.for_minutes);
      case 10:
        return read_nullable_double(v, r.clear_threshold);
      case 11:
        return read_int(v, 0, 10080, r.clear_for_minutes);
      case 12:
        return read_int(v, 0, 10080, r.renotify_minutes);
      case 13:
        return read_nullable_int(v, 1, 10080, r.silent_minutes);
      case 14: {
        const Got got = read_int(v, 0, 1000, r.flap_changes);
        return check(got, r.flap_changes != 1);
      }
      case 15:
        return read_int(v, 1, 1440, r.flap_window_minutes);
      default:
        return Got::broken;  // unreachable: read_object passes indexes of kRuleFields
    }
  });
  if (err) return std::move(*err);
  if (threshold) r.threshold = *threshold;
  if (auto e = check_rule(r, threshold_given, threshold)) return std::move(*e);
  return r;
}

Parsed<IntegrationsInput> parse_integrations_body(std::string_view body) {
  IntegrationsInput in;
  const std::array<Field*, 4> fields = {&in.notification_hub_url, &in.notification_hub_api_key,
                                        &in.workflow_engine_url, &in.workflow_engine_secret};
  auto err = read_object(body, kIntegrationFields, [&fields](std::size_t i, od::value& v) {
    Field& f = *fields[i];
    f.present = true;
    const Got got = read_nullable_string(v, f.value);
    const bool is_url = i == 0 || i == 2;
    return check(got, !f.value || (is_url ? is_http_url(*f.value) : is_credential(*f.value)));
  });
  if (err) return std::move(*err);
  return in;
}

Parsed<SettingsInput> parse_settings_body(std::string_view body) {
  SettingsInput in;
  auto err = read_object(body, kSettingsFields, [&in](std::size_t, od::value& v) {
    int minutes = 0;
    const Got got = read_int(v, kMinOfflineMinutes, kMaxOfflineMinutes, minutes);
    if (got == Got::ok) in.device_offline_minutes = minutes;
    return got;
  });
  if (err) return std::move(*err);
  return in;
}

Parsed<TenantInput> parse_tenant_body(std::string_view body) {
  TenantInput t;
  bool has_name = false;
  auto err = read_object(body, kTenantFields, [&](std::size_t i, od::value& v) {
    if (i == 0) {
      const Got got = read_string(v, t.slug);
      return check(got, ident::is_tenant_slug(t.slug));
    }
    has_name = true;
    const Got got = read_string(v, t.name);
    return check(got, text_of(t.name, 200));
  });
  if (err) return std::move(*err);
  if (!has_name) t.name = t.slug;
  return t;
}

Parsed<KeyInput> parse_key_body(std::string_view body) {
  KeyInput k;
  auto err = read_object(body, kKeyFields, [&k](std::size_t i, od::value& v) {
    std::string s;
    const Got got = read_string(v, s);
    if (i == 0) {
      k.name = std::move(s);
      return check(got, ident::is_api_key_name(k.name));
    }
    const auto role = admin::parse_key_role(s);
    if (role) k.role = *role;
    return check(got, role.has_value());
  });
  if (err) return std::move(*err);
  return k;
}

namespace {
/// A rejected key as the error message quotes it: printable ASCII only, at most 64 bytes.
std::string shown_key(std::string_view key) {
  const bool printable = std::all_of(key.begin(), key.end(), [](char c) {
    return static_cast<unsigned char>(c) >= 0x20 && static_cast<unsigned char>(c) < 0x7f;
  });
  if (!printable) return "(not printable)";
  return key.size() > 64 ? std::string(key.substr(0, 64)) + "..." : std::string(key);
}
}  // namespace

Parsed<DevicesInput> parse_devices_body(std::string_view body) {
  DevicesInput in;
  std::optional<ApiError> element_error;
  auto err = read_object(body, kDevicesFields, [&](std::size_t, od::value& v) {
    od::json_type type;
    if (v.type().get(type) != SUCCESS) return Got::broken;
    if (type != od::json_type::array) return wrong_type(v);
    od::array arr;
    if (v.get_array().get(arr) != SUCCESS) return Got::broken;
    std::size_t index = 0;
    for (auto e : arr) {
      od::value elem;
      if (std::move(e).get(elem) != SUCCESS) return Got::broken;
      if (element_error) {  // keep reading: malformed JSON later on still answers 400
        if (skip_value(elem) == Got::broken) return Got::broken;
        ++index;
        continue;
      }
      std::string key;
      const Got got = read_string(elem, key);
      if (got == Got::broken) return Got::broken;
      if (index >= kMaxDevicesPerRequest) {
        element_error = invalid_field(
            fmt::format("devices: at most {} device keys per request", kMaxDevicesPerRequest));
      } else if (got == Got::invalid || !ident::is_device_key(key)) {
        element_error = invalid_field(
            fmt::format("devices[{}] ('{}') must be a device key: {}", index,
                        got == Got::invalid ? std::string("not a string") : shown_key(key),
                        ident::kDeviceKeyRule));
      } else {
        in.devices.push_back(std::move(key));
      }
      ++index;
    }
    if (index == 0 && !element_error) return Got::invalid;
    return Got::ok;
  });
  if (err) return std::move(*err);
  if (element_error) return std::move(*element_error);
  return in;
}

}  // namespace ste::api
