#pragma once
/// AlertRow: the one mapping between an `alerts` row (an episode, schema 005) and the Alert
/// object. The API, the delivery outbox and the episode store select kAlertColumns and read the
/// result with alert_from_row(), so a field cannot be read one way in a webhook and another in
/// the API.
#include "common/pg_connection.hpp"
#include "evaluator/alerts/alert.hpp"

namespace ste::eval {

/// The columns alert_from_row() reads, for `FROM alerts a JOIN tenants t ON t.id = a.tenant_id`.
/// Column 0 is the id, column 1 created_at in epoch microseconds (keyset cursors use both).
extern const char* const kAlertColumns;
/// How many columns kAlertColumns has: a query may select more after them.
inline constexpr int kAlertColumnCount = 32;

/// True for an episode `a` (alias) whose notifications are muted now: an active silence of its
/// tenant matches it, or its device has a firing whole-device no-data episode (inhibition).
extern const char* const kAlertMutedSql;

/// The alert of row `i`. A condition, severity or status the evaluator does not know (only a row
/// written by hand) reads as above_threshold, warning and pending rather than failing the read.
Alert alert_from_row(const PgResult& r, int i);

/// The alert with `id` of `tenant_id`, nullopt when there is none. Throws PgError.
std::optional<Alert> load_alert(PgConnection& db, std::int64_t tenant_id, const std::string& id);

}  // namespace ste::eval
