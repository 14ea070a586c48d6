/// libFuzzer target for parse_rule_body (POST/PUT rule bodies, docs/DESIGN.md §7). Aborts when an
/// accepted rule breaks a promise of the validation (request_parsing.hpp), when an error is not a
/// well-formed 400/422, or when an accepted rule, written back as JSON, does not parse to itself.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include "evaluator/alerts/tuple_verdict.hpp"
#include "evaluator/api/request_parsing.hpp"
#include "evaluator/evaluation/rule.hpp"
#include "tests/fuzz/api_error_check.hpp"

using namespace ste::fuzz;
using namespace ste::api;

namespace {

std::string to_json(const RuleInput& r) {
  const bool no_data = r.condition == ste::eval::Condition::no_data;
  char threshold[64] = "null";
  if (!no_data) std::snprintf(threshold, sizeof threshold, "%.17g", r.threshold);
  char clear_text[64] = "null";
  if (r.clear_threshold) std::snprintf(clear_text, sizeof clear_text, "%.17g", *r.clear_threshold);
  const std::string clear = clear_text;
  return "{\"name\":" + quote(r.name) + ",\"metric\":" + quote(r.metric) +
         ",\"device\":" + nullable(r.device) +
         ",\"condition\":" + quote(ste::eval::condition_name(r.condition)) +
         ",\"threshold\":" + threshold + ",\"window_minutes\":" + std::to_string(r.window_minutes) +
         ",\"cooldown_minutes\":" + std::to_string(r.cooldown_minutes) +
         ",\"severity\":" + quote(ste::eval::severity_name(r.severity)) +
         ",\"enabled\":" + (r.enabled ? "true" : "false") +
         ",\"for_minutes\":" + std::to_string(r.for_minutes) + ",\"clear_threshold\":" + clear +
         ",\"clear_for_minutes\":" + std::to_string(r.clear_for_minutes) +
         ",\"renotify_minutes\":" + std::to_string(r.renotify_minutes) +
         ",\"silent_minutes\":" + (r.silent_minutes ? std::to_string(*r.silent_minutes) : "null") +
         ",\"flap_changes\":" + std::to_string(r.flap_changes) +
         ",\"flap_window_minutes\":" + std::to_string(r.flap_window_minutes) + "}";
}

void check_rule(const RuleInput& r) {
  EXPECT(is_plain_text(r.name, 200));
  const bool no_data = r.condition == ste::eval::Condition::no_data;
  // "*" (any metric) only on a no_data rule; silent_minutes exactly on no_data rules, whose
  // threshold, clearing and for periods are unset.
  EXPECT(is_metric(r.metric) || (no_data && r.metric == "*"));
  if (r.device) EXPECT(is_device_key(*r.device));
  EXPECT(std::isfinite(r.threshold));
  EXPECT(r.silent_minutes.has_value() == no_data);
  if (r.silent_minutes) EXPECT(*r.silent_minutes >= 1 && *r.silent_minutes <= 10080);
  EXPECT(r.flap_changes == 0 || (r.flap_changes >= 2 && r.flap_changes <= 1000));
  EXPECT(r.flap_window_minutes >= 1 && r.flap_window_minutes <= 1440);
  if (no_data) {
    EXPECT(r.threshold == 0 && !r.clear_threshold && r.for_minutes == 0 &&
           r.clear_for_minutes == 0);
  }
  EXPECT(r.window_minutes >= 1 && r.window_minutes <= 1440);
  EXPECT(r.cooldown_minutes >= 0 && r.cooldown_minutes <= 10080);
  for (int m : {r.for_minutes, r.clear_for_minutes, r.renotify_minutes}) {
    EXPECT(m >= 0 && m <= 10080);
  }
  if (r.clear_threshold) {
    EXPECT(std::isfinite(*r.clear_threshold));
    EXPECT(r.condition != ste::eval::Condition::deviation_from_mean);
    EXPECT(ste::eval::clear_threshold_valid(r.condition, r.threshold, *r.clear_threshold));
  }
  EXPECT(ste::eval::parse_condition(ste::eval::condition_name(r.condition)) == r.condition);
  EXPECT(ste::eval::parse_severity(ste::eval::severity_name(r.severity)) == r.severity);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view body(reinterpret_cast<const char*>(data), size);
  const auto parsed = parse_rule_body(body);
  if (const auto* e = std::get_if<ApiError>(&parsed)) {
    check_api_error(*e);
    return 0;
  }
  const RuleInput& r = std::get<RuleInput>(parsed);
  check_rule(r);

  const std::string again_json = to_json(r);
  const auto again = parse_rule_body(again_json);
  const auto* a = std::get_if<RuleInput>(&again);
  EXPECT(a != nullptr);
  EXPECT(a->name == r.name && a->metric == r.metric && a->device == r.device &&
         a->condition == r.condition && a->threshold == r.threshold &&
         a->window_minutes == r.window_minutes && a->cooldown_minutes == r.cooldown_minutes &&
         a->severity == r.severity && a->enabled == r.enabled && a->for_minutes == r.for_minutes &&
         a->clear_threshold == r.clear_threshold && a->clear_for_minutes == r.clear_for_minutes &&
         a->renotify_minutes == r.renotify_minutes && a->silent_minutes == r.silent_minutes &&
         a->flap_changes == r.flap_changes && a->flap_window_minutes == r.flap_window_minutes);
  return 0;
}
