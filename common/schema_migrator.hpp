#pragma once
/// Numbered SQL migrations (`schema/NNN_name.sql`), applied in order, each in its own
/// transaction, under an advisory lock so concurrent `ste-admin migrate` runs are safe.
/// The applied version is recorded in `schema_migrations`.
#include <filesystem>
#include <string>
#include <vector>

#include "common/pg_connection.hpp"

namespace ste {

/// The schema version this build of the services needs. Bump with every new migration.
inline constexpr int kSchemaVersion = 10;

struct Migration {
  int version;
  std::string name;
  std::filesystem::path path;
};

/// Migrations found in `dir`, sorted by version; throws on a malformed or duplicate name.
std::vector<Migration> list_migrations(const std::filesystem::path& dir);

/// Highest applied version, 0 for an empty database.
int schema_version(PgConnection& db);

/// Applies the missing migrations; returns how many were applied.
int apply_migrations(PgConnection& db, const std::filesystem::path& dir);

/// Throws std::runtime_error with an operator-readable message if the database's schema is
/// behind what this binary needs.
void require_schema(PgConnection& db, int needed = kSchemaVersion);

/// `<dir of executable>/../share/ste/schema`, so any install prefix works.
std::filesystem::path default_schema_dir();

}  // namespace ste
