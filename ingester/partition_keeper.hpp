#pragma once
/// Daily partitions of `readings` (readings_pYYYYMMDD, [day, day+1) UTC). Every reading the
/// validator accepts (ts in [now - retention, now + 5 min]) must have a partition to go to, so
/// partitions exist from the day of (now - retention) to `days_ahead` days after today; those
/// entirely older than the retention period are dropped, and readings_1m buckets with them.
/// plan_partitions is pure; PartitionKeeper::run applies a plan under an advisory lock (safe with
/// several ingesters). Run at start and then hourly from the event loop's timer (off-loop thread).
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "common/clock.hpp"
#include "common/pg_connection.hpp"

namespace ste::ingest {

struct PartitionSpec {
  std::string name;
  std::int64_t day;  ///< days since 1970-01-01 (UTC)
};

struct PartitionPlan {
  std::vector<PartitionSpec> create;
  std::vector<std::string> drop;
};

std::string partition_name(std::int64_t day);
/// The day of a `readings_pYYYYMMDD` name; nullopt for any other name.
std::optional<std::int64_t> partition_day(std::string_view name);

PartitionPlan plan_partitions(TimePoint now, int retention_days, int days_ahead,
                              const std::set<std::string>& existing);

class PartitionKeeper {
 public:
  PartitionKeeper(int retention_days, int days_ahead = 3)
      : retention_days_(retention_days), days_ahead_(days_ahead) {}
  /// Creates and drops partitions as planned; returns the plan that was applied.
  PartitionPlan run(PgConnection& db, TimePoint now);

 private:
  int retention_days_;
  int days_ahead_;
};

}  // namespace ste::ingest
