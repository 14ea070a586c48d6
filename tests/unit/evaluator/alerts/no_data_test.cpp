#include "evaluator/alerts/no_data.hpp"

#include <catch2/catch.hpp>

using ste::TimePoint;
using ste::eval::Activity;
using ste::eval::decide_no_data;
using ste::eval::is_silent;
using ste::eval::minutes_silent;
using ste::eval::no_data_guard;
using ste::eval::NoDataHold;
using ste::eval::NoDataHoldLog;
using ste::eval::NoDataStep;
using ste::eval::silent_since;
using ste::eval::watched_since;
using namespace std::chrono_literals;

namespace {
const TimePoint kNow{std::chrono::seconds{1'800'000'000}};
}  // namespace

TEST_CASE("silence counts from the last received reading", "[no_data]") {
  const Activity a{kNow - 10min, kNow - 30 * 24h, kNow - 24h};
  CHECK(silent_since(a) == kNow - 10min);
  CHECK(is_silent(a, kNow, 9min));
  CHECK_FALSE(is_silent(a, kNow, 10min));  // exactly silent_minutes: not yet
  CHECK_FALSE(is_silent(a, kNow, 11min));
}

TEST_CASE("a device never heard from is silent since it or the rule was created, the later",
          "[no_data]") {
  // Registered a week ago, rule created an hour ago: silent for an hour, not a week.
  const Activity a{std::nullopt, kNow - 7 * 24h, kNow - 1h};
  CHECK(silent_since(a) == kNow - 1h);
  CHECK(is_silent(a, kNow, 59min));
  CHECK_FALSE(is_silent(a, kNow, 61min));
  // Registered after the rule: from its own registration.
  const Activity b{std::nullopt, kNow - 5min, kNow - 24h};
  CHECK(silent_since(b) == kNow - 5min);
  CHECK_FALSE(is_silent(b, kNow, 10min));
}

TEST_CASE("a reading received just now is not silence, whatever its device timestamp",
          "[no_data]") {
  // last_received is the server's receive time: a batch of hour-old readings arriving now
  // counts as now.
  const Activity a{kNow, kNow - 24h, kNow - 24h};
  CHECK_FALSE(is_silent(a, kNow, 1min));
}

TEST_CASE("no no-data episode fires before no-data has been watched for silent_minutes",
          "[no_data]") {
  const auto g = no_data_guard(4min, 5min, 0, 1000);
  CHECK(g.hold == NoDataHold::starting);
  CHECK(g.reason.find("silent_minutes (5)") != std::string::npos);
  CHECK(no_data_guard(5min, 5min, 0, 1000).hold == NoDataHold::none);
}

TEST_CASE("a SENSORS backlog above the limit, or an unknown one, holds no-data episodes back",
          "[no_data]") {
  CHECK(no_data_guard(1h, 5min, 1000, 1000).hold == NoDataHold::none);  // at the limit: fine
  const auto over = no_data_guard(1h, 5min, 1001, 1000);
  CHECK(over.hold == NoDataHold::backlog);
  CHECK(over.reason.find("1001 messages") != std::string::npos);
  CHECK(no_data_guard(1h, 5min, std::nullopt, 1000).hold == NoDataHold::backlog);
  CHECK(no_data_guard(1h, 5min, std::nullopt, 0).hold == NoDataHold::none);  // guard off
  CHECK(no_data_guard(1h, 5min, 1'000'000, 0).hold == NoDataHold::none);
}

TEST_CASE("no-data episodes fire when silent and not held", "[no_data]") {
  const Activity silent{kNow - 31min, kNow - 24h, kNow - 24h};
  const Activity fresh{kNow - 1min, kNow - 24h, kNow - 24h};
  CHECK(decide_no_data(std::nullopt, silent, kNow, 30min, NoDataHold::none) == NoDataStep::fire);
  CHECK(decide_no_data(std::nullopt, silent, kNow, 30min, NoDataHold::starting) ==
        NoDataStep::nothing);
  CHECK(decide_no_data(std::nullopt, silent, kNow, 30min, NoDataHold::backlog) ==
        NoDataStep::nothing);
  CHECK(decide_no_data(std::nullopt, silent, kNow, 31min, NoDataHold::none) ==
        NoDataStep::nothing);  // exactly silent_minutes: not yet
  CHECK(decide_no_data(std::nullopt, fresh, kNow, 30min, NoDataHold::none) == NoDataStep::nothing);
}

TEST_CASE("an open no-data episode resolves once a reading was received after its silence began",
          "[no_data]") {
  const TimePoint began = kNow - 40min;
  // Still nothing since: stays open, whatever the guards.
  const Activity quiet{began, kNow - 24h, kNow - 24h};
  CHECK(decide_no_data(began, quiet, kNow, 30min, NoDataHold::none) == NoDataStep::nothing);
  // A reading arrived: resolved even while held (a reading is never in doubt).
  const Activity heard{kNow - 10s, kNow - 24h, kNow - 24h};
  CHECK(decide_no_data(began, heard, kNow, 30min, NoDataHold::backlog) == NoDataStep::resolve);
  CHECK(decide_no_data(began, heard, kNow, 30min, NoDataHold::starting) == NoDataStep::resolve);
  // A reading arrived, then silence again for longer than silent_minutes (the timer was away):
  // this episode resolves; the next run opens a new one.
  const Activity heard_long_ago{began + 1min, kNow - 24h, kNow - 24h};
  CHECK(decide_no_data(began, heard_long_ago, kNow, 30min, NoDataHold::none) ==
        NoDataStep::resolve);
  // Never heard from, episode open since the device was registered: a first reading resolves.
  const TimePoint registered = kNow - 2h;
  const Activity never{std::nullopt, registered, kNow - 3h};
  CHECK(decide_no_data(registered, never, kNow, 30min, NoDataHold::none) == NoDataStep::nothing);
  const Activity first{kNow - 5s, registered, kNow - 3h};
  CHECK(decide_no_data(registered, first, kNow, 30min, NoDataHold::none) == NoDataStep::resolve);
}

TEST_CASE("minutes silent is the alert's value", "[no_data]") {
  CHECK(minutes_silent({kNow - 90s, kNow - 24h, kNow - 24h}, kNow) == 1.5);
  CHECK(minutes_silent({std::nullopt, kNow - 2h, kNow - 3h}, kNow) == 120.0);
}

TEST_CASE("no-data is watched since the first run after a gap longer than allowed", "[no_data]") {
  const auto gap = std::chrono::seconds{60};
  CHECK(watched_since(std::nullopt, std::nullopt, kNow, gap) == kNow);  // the first run ever
  CHECK(watched_since(kNow - 2h, kNow - 15s, kNow, gap) == kNow - 2h);  // runs continue
  CHECK(watched_since(kNow - 2h, kNow - 60s, kNow, gap) == kNow - 2h);  // the gap itself: fine
  CHECK(watched_since(kNow - 2h, kNow - 61s, kNow, gap) == kNow);       // an outage: again
  CHECK(watched_since(kNow - 2h, kNow - 30min, kNow, gap) == kNow);
}

TEST_CASE("a hold's reason is logged once per change", "[no_data]") {
  NoDataHoldLog log;
  CHECK_FALSE(log.update(NoDataHold::none));
  CHECK(log.update(NoDataHold::starting));
  CHECK_FALSE(log.update(NoDataHold::starting));
  CHECK(log.update(NoDataHold::backlog));
  CHECK(log.update(NoDataHold::none));
  CHECK_FALSE(log.update(NoDataHold::none));
}
