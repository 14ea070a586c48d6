#include "evaluator/evaluation/rule.hpp"

#include <catch2/catch.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

using ste::eval::Condition;
using ste::eval::Rule;
using ste::eval::RuleSet;
using ste::eval::Severity;

namespace {

Rule rule(std::string id, std::int64_t tenant, std::string metric,
          std::optional<std::string> device = std::nullopt, bool enabled = true) {
  Rule r;
  r.id = std::move(id);
  r.tenant_id = tenant;
  r.metric = std::move(metric);
  r.device = std::move(device);
  r.enabled = enabled;
  return r;
}

std::vector<std::string> ids(const std::vector<const Rule*>& rules) {
  std::vector<std::string> out;
  for (const Rule* r : rules) out.push_back(r->id);
  return out;
}

}  // namespace

TEST_CASE("conditions are named as in the contract and parse back", "[rule]") {
  const auto [condition, name] = GENERATE(table<Condition, std::string_view>({
      {Condition::above_threshold, "above_threshold"},
      {Condition::below_threshold, "below_threshold"},
      {Condition::deviation_from_mean, "deviation_from_mean"},
      {Condition::no_data, "no_data"},
  }));
  CHECK(ste::eval::condition_name(condition) == name);
  CHECK(ste::eval::parse_condition(name) == condition);
}

TEST_CASE("severities are named as in the contract and parse back", "[rule]") {
  const auto [severity, name] = GENERATE(table<Severity, std::string_view>({
      {Severity::info, "info"},
      {Severity::warning, "warning"},
      {Severity::critical, "critical"},
  }));
  CHECK(ste::eval::severity_name(severity) == name);
  CHECK(ste::eval::parse_severity(name) == severity);
}

TEST_CASE("unknown condition and severity names are rejected", "[rule]") {
  const std::string_view s = GENERATE("", "above", "Above_threshold", "above_threshold ",
                                      " warning", "WARNING", "error", "deviation");
  CHECK_FALSE(ste::eval::parse_condition(s).has_value());
  CHECK_FALSE(ste::eval::parse_severity(s).has_value());
}

TEST_CASE("a rule set leaves disabled rules out", "[rule]") {
  const RuleSet set({rule("on", 1, "temperature"), rule("off", 1, "temperature", {}, false),
                     rule("off-device", 1, "temperature", "boiler-7", false)});
  CHECK(set.size() == 1);
  CHECK(ids(set.matching(1, "temperature", "boiler-7")) == std::vector<std::string>{"on"});
}

TEST_CASE("a rule set leaves no_data rules out: they are not evaluated on summaries", "[rule]") {
  Rule silent = rule("silent", 1, "temperature");
  silent.condition = Condition::no_data;
  silent.silent_minutes = 5;
  const RuleSet set({rule("hot", 1, "temperature"), silent});
  CHECK(set.size() == 1);
  CHECK(ids(set.matching(1, "temperature", "boiler-7")) == std::vector<std::string>{"hot"});
}

TEST_CASE("a device-specific rule matches only its own device", "[rule]") {
  const RuleSet set({rule("boiler", 1, "temperature", "boiler-7")});
  CHECK(ids(set.matching(1, "temperature", "boiler-7")) == std::vector<std::string>{"boiler"});
  CHECK(set.matching(1, "temperature", "boiler-8").empty());
  CHECK(set.matching(1, "temperature", "boiler-70").empty());
  CHECK(set.matching(1, "temperature", "").empty());
}

TEST_CASE("a tenant-wide rule matches every device of its tenant", "[rule]") {
  const RuleSet set({rule("wide", 1, "temperature"), rule("boiler", 1, "temperature", "boiler-7")});
  CHECK(ids(set.matching(1, "temperature", "boiler-7")) ==
        std::vector<std::string>{"wide", "boiler"});
  CHECK(ids(set.matching(1, "temperature", "pump-1")) == std::vector<std::string>{"wide"});
  CHECK(ids(set.matching(1, "temperature", "")) == std::vector<std::string>{"wide"});
}

TEST_CASE("rules of one tenant never match another tenant's devices", "[rule]") {
  const RuleSet set({rule("t1", 1, "temperature"), rule("t2", 2, "temperature", "boiler-7")});
  CHECK(ids(set.matching(1, "temperature", "boiler-7")) == std::vector<std::string>{"t1"});
  CHECK(ids(set.matching(2, "temperature", "boiler-7")) == std::vector<std::string>{"t2"});
  CHECK(set.matching(3, "temperature", "boiler-7").empty());
}

TEST_CASE("a rule's metric must match the tuple's metric exactly", "[rule]") {
  const RuleSet set({rule("temp", 1, "temperature")});
  const std::string_view other =
      GENERATE("temp", "Temperature", "temperature2", "temperature ", "");
  CHECK(set.matching(1, other, "boiler-7").empty());
  // A view into a larger buffer, as the summary parser's metric is.
  const std::string buffer = "xtemperaturex";
  CHECK(ids(set.matching(1, std::string_view(buffer).substr(1, 11), "boiler-7")) ==
        std::vector<std::string>{"temp"});
}

TEST_CASE("an empty rule set matches nothing", "[rule]") {
  const RuleSet set;
  CHECK(set.size() == 0);
  CHECK(set.matching(1, "temperature", "boiler-7").empty());
}
