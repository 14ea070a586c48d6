#include "evaluator/evaluation/deviation_stats.hpp"

namespace ste::eval {

namespace {
constexpr const char* kStatsSql = R"SQL(
SELECT q.i, count(b.avg), coalesce(avg(b.avg), 0), coalesce(stddev_samp(b.avg), 0)
FROM unnest($1::int[], $2::bigint[], $3::bigint[], $4::text[], $5::bigint[], $6::int[])
     AS q(i, tenant_id, device_id, metric, m_us, win)
CROSS JOIN LATERAL (SELECT timestamptz 'epoch' + q.m_us * interval '1 microsecond' AS m) mm
LEFT JOIN LATERAL (
  SELECT r.sum / r.n AS avg
  FROM readings_1m r
  WHERE r.tenant_id = q.tenant_id AND r.device_id = q.device_id AND r.metric = q.metric
    AND r.bucket >= mm.m - q.win * interval '1 minute' AND r.bucket < mm.m
) b ON true
GROUP BY q.i
)SQL";
}  // namespace

std::vector<WindowStats> query_window_stats(PgConnection& db,
                                            const std::vector<StatsRequest>& requests) {
  std::vector<WindowStats> out(requests.size());
  if (requests.empty()) return out;
  PgArrayBuilder idx, tenants, devices, metrics, minutes, windows;
  for (size_t i = 0; i < requests.size(); ++i) {
    const auto& r = requests[i];
    idx.add(static_cast<std::int64_t>(i));
    tenants.add(r.tenant_id);
    devices.add(r.device_id);
    metrics.add(std::string_view{r.metric});
    minutes.add(static_cast<std::int64_t>(to_epoch_us(r.minute)));
    windows.add(static_cast<std::int64_t>(r.window_minutes));
  }
  auto res = db.exec(kStatsSql, {idx.finish(), tenants.finish(), devices.finish(), metrics.finish(),
                                 minutes.finish(), windows.finish()});
  for (int row = 0; row < res.rows(); ++row) {
    const auto i = static_cast<size_t>(res.int64(row, 0));
    if (i >= out.size()) continue;
    out[i] = WindowStats{res.int64(row, 1), res.float8(row, 2), res.float8(row, 3)};
  }
  return out;
}

}  // namespace ste::eval
