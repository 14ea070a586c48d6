#include "evaluator/evaluation/rule.hpp"

#include <array>
#include <utility>

namespace ste::eval {

namespace {

constexpr std::array<std::pair<Condition, std::string_view>, 4> kConditions = {{
    {Condition::above_threshold, "above_threshold"},
    {Condition::below_threshold, "below_threshold"},
    {Condition::deviation_from_mean, "deviation_from_mean"},
    {Condition::no_data, "no_data"},
}};

constexpr std::array<std::pair<Severity, std::string_view>, 3> kSeverities = {{
    {Severity::info, "info"},
    {Severity::warning, "warning"},
    {Severity::critical, "critical"},
}};

}  // namespace

std::string_view condition_name(Condition c) {
  for (const auto& [value, name] : kConditions) {
    if (value == c) return name;
  }
  return "unknown";
}

std::optional<Condition> parse_condition(std::string_view s) {
  for (const auto& [value, name] : kConditions) {
    if (name == s) return value;
  }
  return std::nullopt;
}

std::string_view severity_name(Severity s) {
  for (const auto& [value, name] : kSeverities) {
    if (value == s) return name;
  }
  return "unknown";
}

std::optional<Severity> parse_severity(std::string_view s) {
  for (const auto& [value, name] : kSeverities) {
    if (name == s) return value;
  }
  return std::nullopt;
}

RuleSet::RuleSet(std::vector<Rule> rules) {
  for (auto& rule : rules) {
    if (!rule.enabled || rule.condition == Condition::no_data) continue;
    auto key = std::pair<std::int64_t, std::string>(rule.tenant_id, rule.metric);
    by_key_[std::move(key)].push_back(std::move(rule));
    ++count_;
  }
}

std::vector<const Rule*> RuleSet::matching(std::int64_t tenant_id, std::string_view metric,
                                           std::string_view device) const {
  std::vector<const Rule*> out;
  const auto it = by_key_.find(std::pair<std::int64_t, std::string_view>(tenant_id, metric));
  if (it == by_key_.end()) return out;
  for (const Rule& rule : it->second) {
    if (!rule.device || *rule.device == device) out.push_back(&rule);
  }
  return out;
}

}  // namespace ste::eval
