#include "common/schema_migrator.hpp"

#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include "common/install_paths.hpp"

namespace ste {

namespace {
constexpr const char* kMigrationsTable =
    "CREATE TABLE IF NOT EXISTS schema_migrations ("
    " version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT "
    "now())";
constexpr std::int64_t kMigrateLockKey = 0x5745'4d49'4752;  // "STEMIGR", arbitrary but fixed

std::string read_all(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read migration " + p.string());
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}
}  // namespace

std::vector<Migration> list_migrations(const std::filesystem::path& dir) {
  if (!std::filesystem::is_directory(dir)) {
    throw std::runtime_error(
        fmt::format("schema directory {} does not exist (use --schema-dir)", dir.string()));
  }
  std::vector<Migration> out;
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    const auto name = e.path().filename().string();
    if (e.path().extension() != ".sql") continue;
    size_t digits = 0;
    while (digits < name.size() && std::isdigit(static_cast<unsigned char>(name[digits]))) ++digits;
    if (digits == 0 || digits >= name.size() || name[digits] != '_') {
      throw std::runtime_error("migration file name must be NNN_name.sql: " + name);
    }
    out.push_back({std::stoi(name.substr(0, digits)), name, e.path()});
  }
  std::sort(out.begin(), out.end(),
            [](const auto& a, const auto& b) { return a.version < b.version; });
  for (size_t i = 1; i < out.size(); ++i) {
    if (out[i].version == out[i - 1].version) {
      throw std::runtime_error("two migrations share version " + std::to_string(out[i].version));
    }
  }
  return out;
}

int schema_version(PgConnection& db) {
  auto exists = db.exec("SELECT to_regclass('public.schema_migrations') IS NOT NULL");
  if (!exists.boolean(0, 0)) return 0;
  auto r = db.exec("SELECT coalesce(max(version), 0) FROM schema_migrations");
  return static_cast<int>(r.int64(0, 0));
}

int apply_migrations(PgConnection& db, const std::filesystem::path& dir) {
  const auto migrations = list_migrations(dir);
  db.exec(fmt::format("SELECT pg_advisory_lock({})", kMigrateLockKey));
  int applied = 0;
  try {
    db.exec(kMigrationsTable);
    const int current = schema_version(db);
    for (const auto& m : migrations) {
      if (m.version <= current) continue;
      db.exec("BEGIN");
      try {
        db.exec(read_all(m.path));
        db.exec("INSERT INTO schema_migrations (version, name) VALUES ($1, $2)",
                {std::to_string(m.version), m.name});
        db.exec("COMMIT");
      } catch (const PgError& e) {
        db.exec("ROLLBACK");
        throw std::runtime_error(fmt::format("migration {} failed: {}", m.name, e.what()));
      }
      ++applied;
    }
  } catch (...) {
    db.exec(fmt::format("SELECT pg_advisory_unlock({})", kMigrateLockKey));
    throw;
  }
  db.exec(fmt::format("SELECT pg_advisory_unlock({})", kMigrateLockKey));
  return applied;
}

void require_schema(PgConnection& db, int needed) {
  const int have = schema_version(db);
  if (have < needed) {
    throw std::runtime_error(fmt::format(
        "database schema is at version {}, this binary needs {}: run `ste-admin migrate` first",
        have, needed));
  }
}

std::filesystem::path default_schema_dir() { return installed_data_dir("schema"); }

}  // namespace ste
