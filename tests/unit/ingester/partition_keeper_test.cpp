#include "ingester/partition_keeper.hpp"

#include <algorithm>
#include <catch2/catch.hpp>
#include <chrono>
#include <cstdint>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "common/clock.hpp"
#include "common/time_format.hpp"

using ste::days_from_civil;
using ste::TimePoint;
using ste::ingest::partition_name;
using ste::ingest::PartitionPlan;
using ste::ingest::plan_partitions;
using namespace std::chrono_literals;

namespace {

TimePoint at(std::string_view rfc3339) {
  const auto t = ste::parse_rfc3339(rfc3339);
  REQUIRE(t.has_value());
  return *t;
}

std::vector<std::string> created_names(const PartitionPlan& plan) {
  std::vector<std::string> out;
  for (const auto& p : plan.create) out.push_back(p.name);
  return out;
}

bool creates(const PartitionPlan& plan, std::string_view name) {
  const auto names = created_names(plan);
  return std::find(names.begin(), names.end(), name) != names.end();
}

bool drops(const PartitionPlan& plan, std::string_view name) {
  return std::find(plan.drop.begin(), plan.drop.end(), name) != plan.drop.end();
}

}  // namespace

TEST_CASE("partition names are readings_pYYYYMMDD of the UTC day", "[partition_keeper]") {
  CHECK(partition_name(0) == "readings_p19700101");
  CHECK(partition_name(days_from_civil(2026, 11, 28)) == "readings_p20261128");
  CHECK(partition_name(days_from_civil(2028, 2, 29)) == "readings_p20280229");
  CHECK(partition_name(days_from_civil(2026, 12, 31) + 1) == "readings_p20270101");
  CHECK(partition_name(-1) == "readings_p19691231");
}

TEST_CASE("every day from the oldest accepted reading's day to days_ahead after today is created",
          "[partition_keeper]") {
  const TimePoint now = at("2026-03-10T12:00:00Z");
  const auto plan = plan_partitions(now, 30, 3, {});

  // now - 30 days = 2026-02-08T12:00Z; today + 3 = 2026-03-13.
  const auto first = days_from_civil(2026, 2, 8);
  const auto last = days_from_civil(2026, 3, 13);
  REQUIRE(plan.create.size() == static_cast<std::size_t>(last - first + 1));
  for (std::size_t i = 0; i < plan.create.size(); ++i) {
    CHECK(plan.create[i].day == first + static_cast<std::int64_t>(i));
    CHECK(plan.create[i].name == partition_name(first + static_cast<std::int64_t>(i)));
  }
  CHECK(plan.create.front().name == "readings_p20260208");
  CHECK(plan.create.back().name == "readings_p20260313");
  CHECK_FALSE(creates(plan, "readings_p20260207"));
  CHECK_FALSE(creates(plan, "readings_p20260314"));
  CHECK(plan.drop.empty());
}

TEST_CASE("existing partitions are not created again", "[partition_keeper]") {
  const TimePoint now = at("2026-03-10T12:00:00Z");
  std::set<std::string> existing;
  for (const auto& p : plan_partitions(now, 30, 3, {}).create) existing.insert(p.name);

  const auto again = plan_partitions(now, 30, 3, existing);
  CHECK(again.create.empty());
  CHECK(again.drop.empty());

  // A day later only the new leading day is missing, and the oldest one has fallen out.
  const auto next_day = plan_partitions(now + 24h, 30, 3, existing);
  CHECK(created_names(next_day) == std::vector<std::string>{"readings_p20260314"});
  CHECK(next_day.drop == std::vector<std::string>{"readings_p20260208"});
}

TEST_CASE("only partitions older than the accepted range are dropped", "[partition_keeper]") {
  const TimePoint now = at("2026-03-10T12:00:00Z");
  const std::set<std::string> existing = {
      "readings_p20260101", "readings_p20260207",  // entirely older than now - 30 days
      "readings_p20260208",                        // contains now - 30 days: still accepted
      "readings_p20260310",                        // today
      "readings_p20260320", "readings_p20270101",  // future, beyond days_ahead
  };
  const auto plan = plan_partitions(now, 30, 3, existing);

  CHECK(plan.drop.size() == 2);
  CHECK(drops(plan, "readings_p20260101"));
  CHECK(drops(plan, "readings_p20260207"));
  CHECK_FALSE(drops(plan, "readings_p20260208"));
  CHECK_FALSE(drops(plan, "readings_p20260310"));
  CHECK_FALSE(drops(plan, "readings_p20260320"));
  CHECK_FALSE(drops(plan, "readings_p20270101"));
  CHECK_FALSE(creates(plan, "readings_p20260208"));
  CHECK(creates(plan, "readings_p20260209"));
}

TEST_CASE("at exactly midnight UTC the day of now - retention is kept and the one before dropped",
          "[partition_keeper]") {
  const std::set<std::string> existing = {"readings_p20260207", "readings_p20260208"};

  const auto at_midnight = plan_partitions(at("2026-03-10T00:00:00Z"), 30, 0, existing);
  CHECK(drops(at_midnight, "readings_p20260207"));
  CHECK_FALSE(drops(at_midnight, "readings_p20260208"));
  CHECK(created_names(at_midnight).front() == "readings_p20260209");
  CHECK(created_names(at_midnight).back() == "readings_p20260310");

  // One millisecond before midnight, now - 30 days still falls on Feb 7: keep it.
  const auto just_before = plan_partitions(at("2026-03-09T23:59:59.999Z"), 30, 0, existing);
  CHECK(just_before.drop.empty());
  CHECK(created_names(just_before).front() == "readings_p20260209");
  CHECK(created_names(just_before).back() == "readings_p20260309");
}

TEST_CASE("today's partition and the days ahead exist just before and after midnight",
          "[partition_keeper]") {
  const auto before = plan_partitions(at("2026-12-31T23:59:59.999999Z"), 1, 1, {});
  CHECK(created_names(before) ==
        std::vector<std::string>{"readings_p20261230", "readings_p20261231", "readings_p20270101"});
  const auto after = plan_partitions(at("2027-01-01T00:00:00Z"), 1, 1, {});
  CHECK(created_names(after) ==
        std::vector<std::string>{"readings_p20261231", "readings_p20270101", "readings_p20270102"});
}

TEST_CASE("a reading five minutes in the future just before midnight has a partition",
          "[partition_keeper]") {
  const TimePoint now = at("2026-06-30T23:58:00Z");
  const auto plan = plan_partitions(now, 30, 3, {});
  const auto future_day = partition_name(days_from_civil(2026, 7, 1));
  CHECK(creates(plan, future_day));
}

TEST_CASE("partitions are planned across a leap day", "[partition_keeper]") {
  const auto plan = plan_partitions(at("2028-03-01T06:00:00Z"), 2, 0, {});
  CHECK(created_names(plan) ==
        std::vector<std::string>{"readings_p20280228", "readings_p20280229", "readings_p20280301"});
}

// partition_keeper.cpp:44 drops every existing child of `readings` whose name sorts before
// partition_name(first), whatever its name: "readings_default" < "readings_p..." because
// 'd' < 'p', so an operator-attached DEFAULT partition (or readings_archive, readings_2025, ...)
// would be dropped with its rows on the next hourly run. Only readings_pYYYYMMDD names should be
// candidates for dropping.
TEST_CASE("partitions that are not daily readings_pYYYYMMDD partitions are never dropped",
          "[partition_keeper]") {
  const std::set<std::string> existing = {"readings_default", "readings_archive", "readings_p2026",
                                          "readings_p20260101"};
  const auto plan = plan_partitions(at("2026-03-10T12:00:00Z"), 30, 3, existing);
  CHECK(plan.drop == std::vector<std::string>{"readings_p20260101"});
}
