#include "ingester/partition_keeper.hpp"

#include <fmt/format.h>

#include "common/time_format.hpp"

namespace ste::ingest {

namespace {
constexpr std::int64_t kSecondsPerDay = 86400;
constexpr std::int64_t kPartitionLockKey = 0x5354'4550'4152;  // "STEPAR"

std::int64_t day_of(TimePoint t) {
  const auto s = std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count();
  return s >= 0 ? s / kSecondsPerDay : (s - kSecondsPerDay + 1) / kSecondsPerDay;
}

std::string day_start_literal(std::int64_t day) {
  return format_rfc3339_ms(TimePoint{std::chrono::seconds{day * kSecondsPerDay}});
}
}  // namespace

std::string partition_name(std::int64_t day) {
  const std::string iso = day_start_literal(day);  // YYYY-MM-DDT...
  return fmt::format("readings_p{}{}{}", iso.substr(0, 4), iso.substr(5, 2), iso.substr(8, 2));
}

std::optional<std::int64_t> partition_day(std::string_view name) {
  constexpr std::string_view kPrefix = "readings_p";
  if (name.size() != kPrefix.size() + 8 || name.substr(0, kPrefix.size()) != kPrefix)
    return std::nullopt;
  int y = 0, m = 0, d = 0;
  for (size_t i = kPrefix.size(); i < name.size(); ++i) {
    if (name[i] < '0' || name[i] > '9') return std::nullopt;
  }
  y = std::stoi(std::string(name.substr(kPrefix.size(), 4)));
  m = std::stoi(std::string(name.substr(kPrefix.size() + 4, 2)));
  d = std::stoi(std::string(name.substr(kPrefix.size() + 6, 2)));
  if (m < 1 || m > 12 || d < 1 || d > 31) return std::nullopt;
  return days_from_civil(y, static_cast<unsigned>(m), static_cast<unsigned>(d));
}

PartitionPlan plan_partitions(TimePoint now, int retention_days, int days_ahead,
                              const std::set<std::string>& existing) {
  PartitionPlan plan;
  const TimePoint oldest_accepted = now - std::chrono::hours{24} * retention_days;
  const std::int64_t first = day_of(oldest_accepted);
  const std::int64_t last = day_of(now) + days_ahead;
  std::set<std::string> wanted;
  for (std::int64_t d = first; d <= last; ++d) {
    auto name = partition_name(d);
    wanted.insert(name);
    if (!existing.contains(name)) plan.create.push_back({name, d});
  }
  for (const auto& name : existing) {
    // Only our own daily partitions older than the accepted range are dropped: never future
    // ones, and never a partition an operator attached under another name.
    const auto day = partition_day(name);
    if (day && *day < first) plan.drop.push_back(name);
  }
  return plan;
}

PartitionPlan PartitionKeeper::run(PgConnection& db, TimePoint now) {
  db.exec(fmt::format("SELECT pg_advisory_lock({})", kPartitionLockKey));
  PartitionPlan plan;
  try {
    auto r = db.exec(
        "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
        "WHERE i.inhparent = 'readings'::regclass");
    std::set<std::string> existing;
    for (int i = 0; i < r.rows(); ++i) existing.emplace(r.text(i, 0));
    plan = plan_partitions(now, retention_days_, days_ahead_, existing);
    for (const auto& p : plan.create) {
      db.exec(fmt::format(
          "CREATE TABLE IF NOT EXISTS {} PARTITION OF readings FOR VALUES FROM ('{}') TO ('{}')",
          pg_quote_ident(p.name), day_start_literal(p.day), day_start_literal(p.day + 1)));
    }
    for (const auto& name : plan.drop) {
      db.exec(fmt::format("DROP TABLE IF EXISTS {}", pg_quote_ident(name)));
    }
    const TimePoint oldest = now - std::chrono::hours{24} * retention_days_;
    db.exec("DELETE FROM readings_1m WHERE bucket < $1::timestamptz", {format_rfc3339_us(oldest)});
  } catch (...) {
    db.exec(fmt::format("SELECT pg_advisory_unlock({})", kPartitionLockKey));
    throw;
  }
  db.exec(fmt::format("SELECT pg_advisory_unlock({})", kPartitionLockKey));
  return plan;
}

}  // namespace ste::ingest
