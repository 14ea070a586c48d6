#include "evaluator/evaluation/rule_cache.hpp"

#include <fmt/format.h>
#include <poll.h>

#include "common/log.hpp"

namespace ste::eval {

namespace {
constexpr auto kPollEvery = std::chrono::milliseconds{200};
constexpr auto kFullReloadEvery = std::chrono::seconds{60};  // safety net for a lost NOTIFY
}  // namespace

const char* const kRuleColumns =
    "r.id, r.tenant_id, r.name, r.metric, r.device_key, r.condition, r.threshold, "
    "r.window_minutes, r.cooldown_minutes, r.severity, r.enabled, r.for_minutes, "
    "r.clear_threshold, r.clear_for_minutes, r.renotify_minutes, "
    "(extract(epoch FROM r.updated_at) * 1000000)::bigint, r.silent_minutes";

std::optional<Rule> rule_from_row(const PgResult& r, int i, int first) {
  const auto c = [first](int k) { return first + k; };
  const auto cond = parse_condition(r.text(i, c(5)));
  const auto sev = parse_severity(r.text(i, c(9)));
  if (!cond || !sev) return std::nullopt;
  Rule rule;
  rule.id = std::string(r.text(i, c(0)));
  rule.tenant_id = r.int64(i, c(1));
  rule.name = std::string(r.text(i, c(2)));
  rule.metric = std::string(r.text(i, c(3)));
  rule.device = r.opt_text(i, c(4));
  rule.condition = *cond;
  if (!r.is_null(i, c(6))) rule.threshold = r.float8(i, c(6));
  rule.window_minutes = static_cast<int>(r.int64(i, c(7)));
  rule.cooldown_minutes = static_cast<int>(r.int64(i, c(8)));
  rule.severity = *sev;
  rule.enabled = r.boolean(i, c(10));
  rule.for_minutes = static_cast<int>(r.int64(i, c(11)));
  if (!r.is_null(i, c(12))) rule.clear_threshold = r.float8(i, c(12));
  rule.clear_for_minutes = static_cast<int>(r.int64(i, c(13)));
  rule.renotify_minutes = static_cast<int>(r.int64(i, c(14)));
  rule.updated_us = r.int64(i, c(15));
  if (!r.is_null(i, c(16))) rule.silent_minutes = static_cast<int>(r.int64(i, c(16)));
  return rule;
}

std::vector<Rule> load_rules(PgConnection& db) {
  auto r = db.exec(fmt::format("SELECT {} FROM alert_rules r WHERE r.enabled", kRuleColumns));
  std::vector<Rule> rules;
  rules.reserve(static_cast<size_t>(r.rows()));
  for (int i = 0; i < r.rows(); ++i) {
    auto rule = rule_from_row(r, i);
    if (!rule) {
      // A bad rule must not stop the rest.
      log::warn("rule skipped: unknown condition or severity", {{"rule_id", r.text(i, 0)}});
      continue;
    }
    rules.push_back(std::move(*rule));
  }
  return rules;
}

void RuleCache::reload(PgConnection& db) {
  auto set = std::make_shared<const RuleSet>(load_rules(db));
  const std::size_t n = set->size();
  {
    std::lock_guard lock(mu_);
    rules_ = std::move(set);
  }
  if (on_reload_) on_reload_(n);
}

std::shared_ptr<const RuleSet> RuleCache::current() const {
  std::lock_guard lock(mu_);
  return rules_;
}

void RuleCache::start(std::function<void(std::size_t)> on_reload) {
  on_reload_ = std::move(on_reload);
  PgConnection db(database_url_);
  reload(db);
  thread_ = std::thread([this] { listen_loop(); });
}

void RuleCache::stop() {
  stopping_ = true;
  if (thread_.joinable()) thread_.join();
}

void RuleCache::listen_loop() {
  std::unique_ptr<PgConnection> db;
  auto last_full = std::chrono::steady_clock::now();
  TimePoint last_warning{};
  while (!stopping_) {
    try {
      if (!db) {
        db = std::make_unique<PgConnection>(database_url_);
        db->exec("LISTEN ste_rules_changed");
        reload(*db);  // changes made while we were not listening
        last_full = std::chrono::steady_clock::now();
      }
      pollfd pfd{PQsocket(db->raw()), POLLIN, 0};
      ::poll(&pfd, 1, static_cast<int>(kPollEvery.count()));
      if (PQconsumeInput(db->raw()) == 0) {
        throw PgError(
            std::string("rule listener lost its connection: ") + PQerrorMessage(db->raw()), "08006",
            true);
      }
      bool changed = false;
      while (PGnotify* n = PQnotifies(db->raw())) {
        changed = true;
        PQfreemem(n);
      }
      if (changed || std::chrono::steady_clock::now() - last_full > kFullReloadEvery) {
        reload(*db);
        last_full = std::chrono::steady_clock::now();
      }
    } catch (const PgError& e) {
      const auto now = SysClock::now();
      if (now - last_warning > std::chrono::seconds{5}) {
        last_warning = now;
        log::warn("rule cache cannot refresh; using the last rules", {{"error", e.what()}});
      }
      db.reset();
      for (int i = 0; i < 5 && !stopping_; ++i) std::this_thread::sleep_for(kPollEvery);
    } catch (const std::exception& e) {  // the firewall: keep the last rules, try again
      log::error("rule cache refresh failed; using the last rules", {{"error", e.what()}});
      db.reset();
      for (int i = 0; i < 5 && !stopping_; ++i) std::this_thread::sleep_for(kPollEvery);
    }
  }
}

}  // namespace ste::eval
