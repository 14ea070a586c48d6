#pragma once
/// The set-based statistics query for deviation_from_mean: for every (tenant, device, metric,
/// minute m, window) request of one summary, the count, mean and sample standard deviation of
/// the bucket averages (sum/n) of readings_1m buckets in [m - window, m) — complete minutes
/// before the reading's own — in ONE round trip (unnest of the requests joined laterally to
/// readings_1m), never one query per tuple.
#include <cstdint>
#include <string>
#include <vector>

#include "common/clock.hpp"
#include "common/pg_connection.hpp"
#include "evaluator/evaluation/rule_evaluator.hpp"

namespace ste::eval {

struct StatsRequest {
  std::int64_t tenant_id = 0;
  std::int64_t device_id = 0;
  std::string metric;
  TimePoint minute{};  ///< m: the start of the candidate value's minute
  int window_minutes = 60;
};

/// Returns one WindowStats per request, in request order. Throws PgError.
std::vector<WindowStats> query_window_stats(PgConnection& db,
                                            const std::vector<StatsRequest>& requests);

}  // namespace ste::eval
