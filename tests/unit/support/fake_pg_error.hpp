#pragma once
/// PgErrors as the database raises them, for unit tests of the error firewalls.
#include <string>

#include "common/pg_connection.hpp"

namespace ste::testing {

/// A PgError with `sqlstate`: e.g. "08006" (connection failure) or "57014" (statement timeout)
/// are the environment's, "23514" (check violation) the data's.
inline PgError pg_error(const std::string& sqlstate, bool connection_lost = false) {
  return PgError("fake database error " + sqlstate, sqlstate, connection_lost);
}

}  // namespace ste::testing
