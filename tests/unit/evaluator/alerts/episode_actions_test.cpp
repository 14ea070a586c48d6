// What a person may do to an episode in each state (docs/ALERTING.md §2), and what a refusal
// or a stale If-Match says.
#include "evaluator/alerts/episode_actions.hpp"

#include <catch2/catch.hpp>

using ste::eval::ActionVerdict;
using ste::eval::AlertAction;
using ste::eval::EpisodeStatus;
namespace eval = ste::eval;

TEST_CASE("Only a firing episode can be acknowledged, and acking it again changes nothing",
          "[episode_actions]") {
  CHECK(eval::decide_action(AlertAction::ack, EpisodeStatus::firing, false) ==
        ActionVerdict::apply);
  CHECK(eval::decide_action(AlertAction::ack, EpisodeStatus::firing, true) ==
        ActionVerdict::unchanged);
  for (auto s : {EpisodeStatus::pending, EpisodeStatus::resolved, EpisodeStatus::cancelled}) {
    CHECK(eval::decide_action(AlertAction::ack, s, false) == ActionVerdict::refused);
    CHECK(eval::decide_action(AlertAction::ack, s, true) == ActionVerdict::refused);
  }
}

TEST_CASE("Only a firing, acknowledged episode is un-acknowledged, and an unacked one is unchanged",
          "[episode_actions]") {
  CHECK(eval::decide_action(AlertAction::unack, EpisodeStatus::firing, true) ==
        ActionVerdict::apply);
  CHECK(eval::decide_action(AlertAction::unack, EpisodeStatus::firing, false) ==
        ActionVerdict::unchanged);
  // A resolved episode keeps the ack it had while firing: history, not to be undone.
  CHECK(eval::decide_action(AlertAction::unack, EpisodeStatus::resolved, true) ==
        ActionVerdict::refused);
  CHECK(eval::decide_action(AlertAction::unack, EpisodeStatus::pending, false) ==
        ActionVerdict::refused);
}

TEST_CASE("Comments are taken in every state, manual resolve only of an open episode",
          "[episode_actions]") {
  for (auto s : {EpisodeStatus::pending, EpisodeStatus::firing, EpisodeStatus::resolved,
                 EpisodeStatus::cancelled}) {
    CHECK(eval::decide_action(AlertAction::comment, s, false) == ActionVerdict::apply);
  }
  CHECK(eval::decide_action(AlertAction::resolve, EpisodeStatus::pending, false) ==
        ActionVerdict::apply);
  CHECK(eval::decide_action(AlertAction::resolve, EpisodeStatus::firing, true) ==
        ActionVerdict::apply);
  CHECK(eval::decide_action(AlertAction::resolve, EpisodeStatus::resolved, false) ==
        ActionVerdict::refused);
  CHECK(eval::decide_action(AlertAction::resolve, EpisodeStatus::cancelled, false) ==
        ActionVerdict::refused);
}

TEST_CASE("A refusal names the state the episode is in", "[episode_actions]") {
  CHECK(eval::refusal_reason(AlertAction::ack, EpisodeStatus::pending) ==
        "the alert is not firing yet (pending); only a firing alert can be acknowledged");
  CHECK(eval::refusal_reason(AlertAction::ack, EpisodeStatus::resolved) ==
        "the alert is resolved; only a firing alert can be acknowledged");
  CHECK(eval::refusal_reason(AlertAction::unack, EpisodeStatus::cancelled) ==
        "the alert is cancelled; only a firing alert can be un-acknowledged");
  CHECK(eval::refusal_reason(AlertAction::resolve, EpisodeStatus::resolved) ==
        "the alert is resolved; only a pending or firing alert can be resolved");
}

TEST_CASE("A stale If-Match is a conflict that gives the current version", "[episode_actions]") {
  CHECK(!eval::version_conflict(std::nullopt, 4));
  CHECK(!eval::version_conflict(4, 4));
  const auto c = eval::version_conflict(3, 4);
  REQUIRE(c);
  CHECK(c->find("version 4, not 3") != std::string::npos);
  CHECK(c->find("If-Match") != std::string::npos);
}
