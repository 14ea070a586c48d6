#include "common/db_probe.hpp"

#include <catch2/catch.hpp>

using namespace std::chrono_literals;
using ste::DbProbeConfig;
using ste::DbProbeState;

namespace {
const DbProbeState::Time t0{std::chrono::seconds{1000}};
const DbProbeConfig config{1000ms, 1500ms};

DbProbeState answered(DbProbeState::Time at) {
  DbProbeState s;
  s.ever_ok = true;
  s.last_ok = at;
  return s;
}
}  // namespace

TEST_CASE("a database that answered recently is ready", "[db_probe]") {
  CHECK(ste::db_probe_verdict(answered(t0), t0 + 500ms, config).empty());
  auto s = answered(t0);
  s.in_flight = true;
  s.in_flight_since = t0 + 1000ms;
  CHECK(ste::db_probe_verdict(s, t0 + 2400ms, config).empty());  // probing, within its deadline
}

TEST_CASE("a probe waiting longer than its deadline reports a database that does not answer",
          "[db_probe]") {
  auto s = answered(t0);
  s.in_flight = true;
  s.in_flight_since = t0 + 1000ms;
  CHECK(ste::db_probe_verdict(s, t0 + 2501ms, config) == "database does not answer within 1500 ms");
}

TEST_CASE("a failed probe reports its error until one succeeds", "[db_probe]") {
  auto s = answered(t0);
  s.last_error = "cannot connect to PostgreSQL: refused";
  CHECK(ste::db_probe_verdict(s, t0 + 1s, config) ==
        "database: cannot connect to PostgreSQL: refused");
}

TEST_CASE("no probe yet, or none for a long time, is not ready", "[db_probe]") {
  CHECK(ste::db_probe_verdict(DbProbeState{}, t0, config) == "database not checked yet");
  CHECK(ste::db_probe_verdict(answered(t0), t0 + 5001ms, config) == "database probe stalled");
  CHECK(ste::db_probe_verdict(answered(t0), t0 + 5000ms, config).empty());
}
