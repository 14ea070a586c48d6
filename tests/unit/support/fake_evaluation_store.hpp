#pragma once
/// An EvaluationStore for unit tests: answers window statistics from a table, stores firings as
/// alerts in memory with a chosen outcome, and can be told to fail like a database.
/// Not thread-safe (neither is the real one: one per summary being evaluated).
#include <deque>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "common/pg_connection.hpp"
#include "evaluator/evaluation/evaluation_store.hpp"

namespace ste::testing {

/// One store_alert() call.
struct StoreCall {
  eval::Rule rule;
  eval::Tuple tuple;
  eval::Firing firing;
  eval::StoreOutcome outcome;
};

class FakeEvaluationStore final : public eval::EvaluationStore {
 public:
  std::vector<eval::WindowStats> window_stats(
      const std::vector<eval::StatsRequest>& requests) override {
    stats_calls.push_back(requests);
    if (window_stats_error) throw *window_stats_error;
    return std::vector<eval::WindowStats>(requests.size(), stats);
  }

  eval::StoreResult store_alert(const eval::Rule& rule, const eval::Tuple& tuple,
                                const eval::Firing& firing) override {
    if (store_error) throw *store_error;
    eval::StoreOutcome outcome = eval::StoreOutcome::stored;
    if (!outcomes.empty()) {
      outcome = outcomes.front();
      outcomes.pop_front();
    }
    if (on_store) on_store();
    calls.push_back({rule, tuple, firing, outcome});
    if (outcome != eval::StoreOutcome::stored) return {outcome, std::nullopt};
    eval::Alert a = eval::alert_for(rule, tuple, firing);
    a.id = "alert-" + std::to_string(calls.size());
    a.created_at = firing.reading_ts;
    return {outcome, a};
  }

  /// The calls whose alert was stored (committed).
  std::vector<StoreCall> stored() const {
    std::vector<StoreCall> out;
    for (const auto& c : calls)
      if (c.outcome == eval::StoreOutcome::stored) out.push_back(c);
    return out;
  }

  eval::WindowStats stats{};                  ///< the answer to every window statistics request
  std::optional<PgError> window_stats_error;  ///< window_stats() throws it when set
  std::optional<PgError> store_error;         ///< store_alert() throws it when set (nothing stored)
  std::deque<eval::StoreOutcome> outcomes;    ///< outcomes of the next calls; then `stored`
  std::function<void()> on_store;             ///< runs inside store_alert(), before it returns
  std::vector<std::vector<eval::StatsRequest>> stats_calls;  ///< every window_stats() call
  std::vector<StoreCall> calls;  ///< every store_alert() that did not throw
};

}  // namespace ste::testing
