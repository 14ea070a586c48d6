#pragma once
/// An EvaluationStore for unit tests: answers window statistics from a table and open episodes
/// from a set, records every apply() with a scripted or default outcome, and can be told to fail
/// like a database. The default outcome of a crossing is an episode that opens, fires and
/// notifies (a "created" notice); of anything else, nothing. Not thread-safe (neither is the real
/// one: one per summary being evaluated).
#include <deque>
#include <functional>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "common/pg_connection.hpp"
#include "evaluator/alerts/alert.hpp"
#include "evaluator/evaluation/evaluation_store.hpp"

namespace ste::testing {

/// One apply() call.
struct ApplyCall {
  eval::Rule rule;
  eval::Tuple tuple;
  eval::TupleVerdict verdict;
  std::optional<eval::Firing> firing;
  eval::TupleOutcome outcome;
};

class FakeEvaluationStore final : public eval::EvaluationStore {
 public:
  std::vector<eval::WindowStats> window_stats(
      const std::vector<eval::StatsRequest>& requests) override {
    stats_calls.push_back(requests);
    if (window_stats_error) throw *window_stats_error;
    return std::vector<eval::WindowStats>(requests.size(), stats);
  }

  std::vector<bool> open_episodes(const std::vector<eval::FingerprintKey>& keys) override {
    open_calls.push_back(keys);
    if (open_error) throw *open_error;
    std::vector<bool> out;
    for (const auto& k : keys) out.push_back(open.count(key(k.rule_id, k.device_id)) > 0);
    return out;
  }

  eval::TupleOutcome apply(const eval::EpisodeInput& in) override {
    if (apply_error) throw *apply_error;
    eval::TupleOutcome out;
    if (!outcomes.empty()) {
      out = outcomes.front();
      outcomes.pop_front();
    } else if (in.verdict.any_crosses) {
      using K = eval::EpisodeEvent::Kind;
      out.events = {{K::opened, in.verdict.crossing_ts}, {K::fired, in.verdict.crossing_ts}};
      eval::Alert a;
      a.id = "alert-" + std::to_string(calls.size() + 1);
      a.rule_id = in.rule->id;
      a.tenant = in.tuple->tenant;
      a.device = in.tuple->device;
      a.metric = in.tuple->metric;
      a.value = in.firing ? in.firing->value : in.tuple->last;
      a.status = eval::EpisodeStatus::firing;
      a.notified = true;
      out.notices.push_back({"created", a});
      out.notified = 1;
    }
    if (on_apply) on_apply();
    calls.push_back({*in.rule, *in.tuple, in.verdict, in.firing, out});
    return out;
  }

  /// The calls whose default outcome fired (a crossing, nothing scripted).
  std::vector<ApplyCall> fired() const {
    std::vector<ApplyCall> out;
    for (const auto& c : calls)
      if (!c.outcome.notices.empty() && c.outcome.notices[0].event == "created") out.push_back(c);
    return out;
  }

  static std::string key(const std::string& rule_id, std::int64_t device_id) {
    return rule_id + "/" + std::to_string(device_id);
  }

  eval::WindowStats stats{};                  ///< the answer to every window statistics request
  std::set<std::string> open;                 ///< key(rule, device) of open episodes
  std::optional<PgError> window_stats_error;  ///< window_stats() throws it when set
  std::optional<PgError> open_error;          ///< open_episodes() throws it when set
  std::optional<PgError> apply_error;         ///< apply() throws it when set (nothing applied)
  std::deque<eval::TupleOutcome> outcomes;    ///< outcomes of the next calls; then the default
  std::function<void()> on_apply;             ///< runs inside apply(), before it returns
  std::vector<std::vector<eval::StatsRequest>> stats_calls;   ///< every window_stats() call
  std::vector<std::vector<eval::FingerprintKey>> open_calls;  ///< every open_episodes() call
  std::vector<ApplyCall> calls;                               ///< every apply() that did not throw
};

}  // namespace ste::testing
