#pragma once
/// RuleCache: the enabled rules in memory, as an immutable RuleSet swapped whole on reload, so
/// evaluation reads them without a lock or a query. A listener thread holds its own connection
/// with `LISTEN ste_rules_changed` (a trigger on alert_rules notifies on every change, API or
/// SQL) and reloads within a fraction of a second; a periodic reload covers a missed
/// notification, and a lost connection is re-established (with a reload) automatically.
/// Thread-safe: current() from any thread; start()/stop() from the owner.
#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "common/pg_connection.hpp"
#include "evaluator/evaluation/rule.hpp"

namespace ste::eval {

/// The alert_rules columns rule_from_row() reads, for `FROM alert_rules r`.
extern const char* const kRuleColumns;
inline constexpr int kRuleColumnCount = 17;

/// The rule in row `i` of a result selecting kRuleColumns from column `first` on; nullopt for a
/// condition or severity this build does not know (the schema's CHECKs make that unreachable).
std::optional<Rule> rule_from_row(const PgResult& r, int i, int first = 0);

/// Loads every enabled rule (one query).
std::vector<Rule> load_rules(PgConnection& db);

class RuleCache {
 public:
  explicit RuleCache(std::string database_url) : database_url_(std::move(database_url)) {}
  ~RuleCache() { stop(); }

  /// Loads once synchronously (throws if the database is unreachable), then starts listening.
  void start(std::function<void(std::size_t rules)> on_reload = {});
  void stop();
  std::shared_ptr<const RuleSet> current() const;

 private:
  void listen_loop();
  void reload(PgConnection& db);

  std::string database_url_;
  std::function<void(std::size_t)> on_reload_;
  mutable std::mutex mu_;
  std::shared_ptr<const RuleSet> rules_ = std::make_shared<RuleSet>();  // guarded by mu_
  std::atomic<bool> stopping_{false};
  std::thread thread_;
};

}  // namespace ste::eval
