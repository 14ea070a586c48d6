// EpisodeMachine: pending → firing → resolved, pending → cancelled, decided from summary tuples
// (docs/ALERTING.md §1). Times are data times; a tuple knows its min, max and newest reading.
#include "evaluator/alerts/episode_machine.hpp"

#include <catch2/catch.hpp>

using namespace ste;
using namespace ste::eval;
using namespace std::chrono_literals;
using Kind = EpisodeEvent::Kind;

namespace {

const TimePoint T0 = TimePoint{} + std::chrono::hours{24 * 20000};

TimePoint at(std::chrono::seconds s) { return T0 + s; }

/// A tuple whose readings all cross (e.g. above: min > threshold), from `from` to `to`.
TupleVerdict all_crossing(TimePoint from, TimePoint to) {
  TupleVerdict v;
  v.any_crosses = v.all_cross = v.last_crosses = true;
  v.first_ts = v.crossing_ts = from;
  v.last_ts = to;
  return v;
}

/// Every reading clears (e.g. above: max <= clear_threshold).
TupleVerdict all_clearing(TimePoint from, TimePoint to) {
  TupleVerdict v;
  v.all_clear = v.last_clears = true;
  v.first_ts = from;
  v.last_ts = to;
  return v;
}

/// Readings between clear_threshold and threshold: neither fire nor clear.
TupleVerdict in_between(TimePoint from, TimePoint to) {
  TupleVerdict v;
  v.first_ts = from;
  v.last_ts = to;
  return v;
}

/// A crossing at `spike`, and a newest reading at `last` that `last_state` describes.
TupleVerdict spike_then(TimePoint from, TimePoint spike, TimePoint last, bool last_crosses,
                        bool last_clears) {
  TupleVerdict v;
  v.any_crosses = true;
  v.first_ts = from;
  v.crossing_ts = spike;
  v.last_ts = last;
  v.last_crosses = last_crosses;
  v.last_clears = last_clears;
  return v;
}

const EpisodeTiming kImmediate{0min, 0min};

/// Feeds tuples in order, carrying the state as the store would.
struct Fingerprint {
  FingerprintState state;
  EpisodeTiming timing;
  EpisodeStep feed(const TupleVerdict& v) {
    EpisodeStep step = step_episode(state, v, timing);
    state.open = step.open;
    if (!step.stale) state.seen_until = v.last_ts;
    return step;
  }
};

}  // namespace

TEST_CASE("for_minutes 0: the first crossing opens and fires an episode", "[episode]") {
  Fingerprint f{{}, kImmediate};
  CHECK(f.feed(in_between(at(0s), at(10s))).events.empty());
  const auto step = f.feed(all_crossing(at(20s), at(30s)));
  CHECK(step.events == std::vector<EpisodeEvent>{{Kind::opened, at(20s)}, {Kind::fired, at(20s)}});
  REQUIRE(step.open);
  CHECK(step.open->status == EpisodeStatus::firing);
  CHECK(step.open->started_at == at(20s));
  CHECK(step.open->last_reading_ts == at(30s));
  // Still crossing: nothing new, no second firing.
  CHECK(f.feed(all_crossing(at(40s), at(50s))).events.empty());
  CHECK(f.state.open->status == EpisodeStatus::firing);
}

TEST_CASE(
    "A spike followed by a normal reading in one tuple fires, and resolves at once with "
    "clear_for_minutes 0",
    "[episode]") {
  Fingerprint f{{}, kImmediate};
  const auto step = f.feed(spike_then(at(0s), at(5s), at(10s), false, true));
  CHECK(step.events == std::vector<EpisodeEvent>{{Kind::opened, at(5s)},
                                                 {Kind::fired, at(5s)},
                                                 {Kind::resolved, at(10s)}});
  CHECK_FALSE(step.open);
}

TEST_CASE("With clear_for_minutes the clear period starts at the clearing reading", "[episode]") {
  Fingerprint f{{}, {0min, 10min}};
  auto step = f.feed(spike_then(at(0s), at(5s), at(10s), false, true));
  CHECK(step.events == std::vector<EpisodeEvent>{{Kind::opened, at(5s)}, {Kind::fired, at(5s)}});
  REQUIRE(step.open);
  CHECK(step.open->clear_since == at(10s));
  // Clear for 9 min 50 s: still firing.
  CHECK(f.feed(all_clearing(at(60s), at(600s))).events.empty());
  CHECK(f.state.open->clear_since == at(10s));
  // Ten minutes after the clearing reading: resolved.
  step = f.feed(all_clearing(at(605s), at(610s)));
  CHECK(step.events == std::vector<EpisodeEvent>{{Kind::resolved, at(610s)}});
  CHECK_FALSE(step.open);
}

TEST_CASE(
    "A value between clear_threshold and threshold keeps the episode firing and restarts "
    "the clear period",
    "[episode]") {
  Fingerprint f{{}, {0min, 5min}};
  f.feed(all_crossing(at(0s), at(10s)));
  f.feed(all_clearing(at(20s), at(100s)));
  CHECK(f.state.open->clear_since == at(20s));
  CHECK(f.feed(in_between(at(110s), at(120s))).events.empty());
  REQUIRE(f.state.open);
  CHECK(f.state.open->status == EpisodeStatus::firing);
  CHECK_FALSE(f.state.open->clear_since);
  // Hours of in-between values never clear it.
  CHECK(f.feed(in_between(at(130s), at(4h))).events.empty());
  CHECK(f.state.open->status == EpisodeStatus::firing);
  // A tuple that wobbles but ends clear starts the clear period at its newest reading.
  auto wobble = in_between(at(4h + 10s), at(4h + 20s));
  wobble.last_clears = true;
  CHECK(f.feed(wobble).events.empty());
  CHECK(f.state.open->clear_since == at(4h + 20s));
}

TEST_CASE("for_minutes: pending until the condition held that long, then firing", "[episode]") {
  Fingerprint f{{}, {5min, 0min}};
  auto step = f.feed(all_crossing(at(0s), at(120s)));
  CHECK(step.events == std::vector<EpisodeEvent>{{Kind::opened, at(0s)}});
  REQUIRE(step.open);
  CHECK(step.open->status == EpisodeStatus::pending);
  CHECK(f.feed(all_crossing(at(130s), at(299s))).events.empty());
  CHECK(f.state.open->status == EpisodeStatus::pending);
  step = f.feed(all_crossing(at(300s), at(310s)));
  CHECK(step.events == std::vector<EpisodeEvent>{{Kind::fired, at(300s)}});
  CHECK(step.open->status == EpisodeStatus::firing);
  CHECK(step.open->started_at == at(0s));
}

TEST_CASE("for_minutes: one tuple that holds long enough opens and fires", "[episode]") {
  Fingerprint f{{}, {5min, 0min}};
  const auto step = f.feed(all_crossing(at(0s), at(400s)));
  CHECK(step.events == std::vector<EpisodeEvent>{{Kind::opened, at(0s)}, {Kind::fired, at(300s)}});
}

TEST_CASE("for_minutes: a reading that breaks the condition cancels the pending episode",
          "[episode]") {
  Fingerprint f{{}, {5min, 0min}};
  f.feed(all_crossing(at(0s), at(60s)));
  SECTION("and the tuple ends below: nothing pending afterwards") {
    const auto step = f.feed(spike_then(at(70s), at(75s), at(80s), false, true));
    CHECK(step.events == std::vector<EpisodeEvent>{{Kind::cancelled, at(80s)}});
    CHECK_FALSE(step.open);
  }
  SECTION("and its newest reading crosses again: a new pending period starts there") {
    const auto step = f.feed(spike_then(at(70s), at(75s), at(80s), true, false));
    CHECK(step.events ==
          std::vector<EpisodeEvent>{{Kind::cancelled, at(80s)}, {Kind::opened, at(80s)}});
    REQUIRE(step.open);
    CHECK(step.open->status == EpisodeStatus::pending);
    CHECK(step.open->started_at == at(80s));
    // The new period counts from 80 s.
    CHECK(f.feed(all_crossing(at(90s), at(370s))).events.empty());
    CHECK(f.feed(all_crossing(at(380s), at(380s))).events ==
          std::vector<EpisodeEvent>{{Kind::fired, at(380s)}});
  }
}

TEST_CASE("for_minutes: a crossing that a later reading of the same tuple breaks opens nothing",
          "[episode]") {
  Fingerprint f{{}, {5min, 0min}};
  const auto step = f.feed(spike_then(at(0s), at(5s), at(10s), false, false));
  CHECK(step.events.empty());
  CHECK_FALSE(step.open);
}

TEST_CASE("Resolved, then crossing again: a new episode", "[episode]") {
  Fingerprint f{{}, kImmediate};
  f.feed(all_crossing(at(0s), at(10s)));
  CHECK(f.feed(all_clearing(at(20s), at(30s))).events ==
        std::vector<EpisodeEvent>{{Kind::resolved, at(30s)}});
  const auto step = f.feed(all_crossing(at(40s), at(50s)));
  CHECK(step.events == std::vector<EpisodeEvent>{{Kind::opened, at(40s)}, {Kind::fired, at(40s)}});
  CHECK(step.open->started_at == at(40s));
}

TEST_CASE("A tuple not newer than what the fingerprint has seen changes nothing", "[episode]") {
  Fingerprint f{{}, {0min, 0min}};
  const auto crossing = all_crossing(at(0s), at(10s));
  f.feed(crossing);
  SECTION("the same summary redelivered") {
    const auto step = f.feed(crossing);
    CHECK(step.stale);
    CHECK(step.events.empty());
    REQUIRE(step.open);
    CHECK(step.open->status == EpisodeStatus::firing);
  }
  SECTION("an older batch evaluated after a newer one cannot resolve it") {
    const auto step = f.feed(all_clearing(at(-60s), at(5s)));
    CHECK(step.stale);
    CHECK(step.events.empty());
    CHECK(f.state.open->status == EpisodeStatus::firing);
  }
  SECTION("after the episode resolved, an older crossing opens no new one") {
    f.feed(all_clearing(at(20s), at(30s)));
    REQUIRE_FALSE(f.state.open);
    const auto step = f.feed(all_crossing(at(12s), at(25s)));
    CHECK(step.stale);
    CHECK(step.events.empty());
    CHECK_FALSE(step.open);
  }
}
