#pragma once
/// An alert rule (docs/DESIGN.md §5) and the in-memory RuleSet the evaluator matches summary
/// tuples against, indexed by (tenant, metric). RuleSet is immutable once built: the RuleCache
/// swaps whole sets, so readers need no lock.
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace ste::eval {

/// no_data (docs/ALERTING.md §4) is decided by the episode timer from received times, never from
/// a summary: RuleSet leaves it out.
enum class Condition { above_threshold, below_threshold, deviation_from_mean, no_data };
enum class Severity { info, warning, critical };

std::string_view condition_name(Condition c);
std::optional<Condition> parse_condition(std::string_view s);
std::string_view severity_name(Severity s);
std::optional<Severity> parse_severity(std::string_view s);

struct Rule {
  std::string id;  ///< UUID
  std::int64_t tenant_id = 0;
  std::string name;
  std::string metric;                 ///< "*" only for no_data: any metric of the device
  std::optional<std::string> device;  ///< device key; nullopt = every device of the tenant
  Condition condition = Condition::above_threshold;
  double threshold = 0;     ///< not for no_data (stored NULL, 0 here)
  int window_minutes = 60;  ///< deviation only
  int cooldown_minutes = 15;
  Severity severity = Severity::warning;
  bool enabled = true;
  // The episode lifecycle (docs/ALERTING.md §1).
  int for_minutes = 0;                    ///< the condition holds this long before firing
  std::optional<double> clear_threshold;  ///< threshold rules; nullopt = threshold
  int clear_for_minutes = 0;              ///< readings clear this long before resolving
  int renotify_minutes = 0;               ///< repeat a firing notification; 0 = never
  int silent_minutes = 0;                 ///< no_data only (1..10080): silent this long fires
  std::int64_t updated_us = 0;  ///< updated_at (epoch µs): which definition an evaluator holds
};

class RuleSet {
 public:
  RuleSet() = default;
  /// Disabled rules and no_data rules (not evaluated on summaries) are left out.
  explicit RuleSet(std::vector<Rule> rules);
  /// Enabled rules of `tenant_id` for `metric` that apply to `device` (device-specific rules only
  /// for that device key; tenant-wide rules for every device).
  std::vector<const Rule*> matching(std::int64_t tenant_id, std::string_view metric,
                                    std::string_view device) const;
  std::size_t size() const { return count_; }

 private:
  /// Transparent (tenant, metric) order, so matching() looks up a string_view metric without
  /// building a std::string (std::less<> cannot compare pairs of different types).
  struct KeyLess {
    using is_transparent = void;
    template <class A, class B>
    bool operator()(const A& a, const B& b) const {
      return std::pair<std::int64_t, std::string_view>(a.first, a.second) <
             std::pair<std::int64_t, std::string_view>(b.first, b.second);
    }
  };
  std::map<std::pair<std::int64_t, std::string>, std::vector<Rule>, KeyLess> by_key_;
  std::size_t count_ = 0;
};

}  // namespace ste::eval
