#pragma once
/// Thin RAII adapter over one libpq connection. Failures throw PgError (typed: a lost connection is
/// distinguishable from a statement error) and the caller's loop boundary decides what to do.
/// Not thread-safe: one connection per thread (or per pool checkout).
#include <libpq-fe.h>

#include <chrono>
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace ste {

class PgError : public std::runtime_error {
 public:
  PgError(const std::string& what, std::string sqlstate, bool connection_lost)
      : std::runtime_error(what),
        sqlstate_(std::move(sqlstate)),
        connection_lost_(connection_lost) {}
  const std::string& sqlstate() const { return sqlstate_; }
  bool connection_lost() const { return connection_lost_; }

 private:
  std::string sqlstate_;
  bool connection_lost_;
};

/// Time limits every connection gets (docs/limits.md "Database timeouts"). A frozen server (e.g.
/// SIGSTOP, a hung storage device) does not enforce its own statement_timeout, so each statement
/// also has a client-side deadline: `client_deadline` after it was sent the connection is dropped
/// and PgError(connection_lost) names the timeout.
struct PgTimeouts {
  std::chrono::seconds connect{5};                       ///< STE_DB_CONNECT_TIMEOUT_S (libpq >= 2)
  std::chrono::milliseconds statement{30000};            ///< STE_DB_STATEMENT_TIMEOUT_MS; 0 = none
  std::chrono::milliseconds idle_in_transaction{60000};  ///< STE_DB_IDLE_IN_TRANSACTION_TIMEOUT_MS
};
/// How long past the server's statement_timeout the client waits before it gives up on the
/// server: long enough that a live server answers with its own timeout error first.
inline constexpr std::chrono::milliseconds kClientDeadlineMargin{5000};
/// The client-side deadline of one statement: statement + margin; zero (none) when the statement
/// timeout is off. Pure.
std::chrono::milliseconds client_deadline(const PgTimeouts& t);
/// The process-wide timeouts new connections take (set once from the settings, before threads
/// start; the defaults otherwise).
void set_default_pg_timeouts(const PgTimeouts& t);
PgTimeouts default_pg_timeouts();

/// Whether a database error is the environment's doing rather than the statement's data: a lost
/// or unreachable connection, or SQLSTATE class 08 (connection), 40 (transaction rollback:
/// serialization, deadlock), 42 (schema: statements are fixed text, so a missing table is a
/// deployment problem), 53 (insufficient resources), 55 (object not in prerequisite state: lock
/// not available), 57 (operator intervention: statement timeout, shutdown) or 58 (system/I-O
/// error). Everything else (data exceptions, constraint violations, raised exceptions) may be the
/// data's fault. Pure.
bool pg_error_is_environmental(std::string_view sqlstate, bool connection_lost);
inline bool pg_error_is_environmental(const PgError& e) {
  return pg_error_is_environmental(e.sqlstate(), e.connection_lost());
}

/// A statement parameter in text format; nullopt is SQL NULL.
using PgParam = std::optional<std::string>;

/// Owns one PGresult.
class PgResult {
 public:
  explicit PgResult(PGresult* r) : r_(r, &PQclear) {}
  int rows() const { return PQntuples(r_.get()); }
  int cols() const { return PQnfields(r_.get()); }
  bool is_null(int row, int col) const { return PQgetisnull(r_.get(), row, col) != 0; }
  std::string_view text(int row, int col) const {
    return {PQgetvalue(r_.get(), row, col), static_cast<size_t>(PQgetlength(r_.get(), row, col))};
  }
  std::int64_t int64(int row, int col) const;
  double float8(int row, int col) const;
  bool boolean(int row, int col) const { return text(row, col) == "t"; }
  std::optional<std::string> opt_text(int row, int col) const {
    if (is_null(row, col)) return std::nullopt;
    return std::string(text(row, col));
  }
  std::int64_t affected() const;

 private:
  std::unique_ptr<PGresult, void (*)(PGresult*)> r_;
};

class PgConnection {
 public:
  /// Connects (within the timeouts' connect limit) and sets the session's statement and
  /// idle-in-transaction timeouts; throws PgError(connection_lost=true) when the server cannot be
  /// reached. Statements are sent without blocking and waited for up to client_deadline().
  explicit PgConnection(std::string conninfo, PgTimeouts timeouts = default_pg_timeouts());
  PgConnection(const PgConnection&) = delete;
  PgConnection& operator=(const PgConnection&) = delete;

  /// Runs SQL without parameters (may hold several statements).
  PgResult exec(std::string_view sql);
  /// Runs one statement with text parameters.
  PgResult exec(const std::string& sql, const std::vector<PgParam>& params);
  PgResult exec(const std::string& sql, std::initializer_list<PgParam> params) {
    return exec(sql, std::vector<PgParam>(params));
  }

  /// Runs `COPY ... FROM STDIN` (the statement in `copy_sql`) and streams `data` to it; returns
  /// the number of rows copied. Throws PgError like exec().
  std::int64_t copy_in(const std::string& copy_sql, std::string_view data);

  /// Runs SQL like exec(sql) but gives up after `deadline` (dropping the connection) instead of
  /// the usual client deadline: for probes that must answer quickly.
  PgResult exec_within(std::string_view sql, std::chrono::milliseconds deadline);

  /// True when the connection is usable as far as can be told without a round trip. It reads
  /// what the server already sent, so a connection whose backend went away while it sat idle
  /// (pg_terminate_backend, a database restart) is recognised here, before a statement is sent
  /// on it: callers then reconnect instead of failing one statement first. (Over SSL libpq cannot
  /// tell EOF apart without a read that may block, so such a connection still fails once.)
  bool healthy();
  /// Re-establishes a broken connection; throws PgError if the server is still unreachable.
  void reconnect();
  PGconn* raw() { return conn_.get(); }
  const std::string& conninfo() const { return conninfo_; }

 private:
  using Deadline = std::chrono::steady_clock::time_point;
  PgResult check(PGresult* r, std::string_view sql);
  void setup();
  Deadline deadline_from_now();  ///< also records budget_
  /// Sends what libpq has queued; throws on failure or when the deadline passes.
  void flush_until(Deadline deadline, std::string_view sql);
  /// Waits until the socket is ready for `events` (POLLIN/POLLOUT); on the deadline drops the
  /// connection and throws PgError(connection_lost) naming the timeout.
  void wait_socket(short events, Deadline deadline, std::string_view sql);
  /// Collects the results of the statement in flight, like PQexec: the first error, else the
  /// last result; stops early at a COPY IN result.
  PGresult* collect(Deadline deadline, std::string_view sql);
  PgResult exec_until(std::string_view sql, Deadline deadline);
  std::string conninfo_;
  PgTimeouts timeouts_;
  std::chrono::milliseconds budget_{0};  ///< the deadline of the statement in flight
  std::unique_ptr<PGconn, void (*)(PGconn*)> conn_;
};

/// Whether a message the server sends outside a statement's result (a notice, or the FATAL of a
/// terminated backend) is logged as a warning: WARNING, ERROR, FATAL and PANIC are; NOTICE,
/// INFO, LOG and DEBUG are debug lines. `severity` is the non-localized severity field.
bool server_message_is_warning(std::string_view severity);

/// Builds a PostgreSQL array literal (`{1,2,3}`, `{"a","b\"c",NULL}`) for unnest-style batches.
class PgArrayBuilder {
 public:
  void add(std::int64_t v);
  void add(double v);
  void add(std::string_view s);
  void add_null();
  void add(const std::optional<std::string>& s) { s ? add(std::string_view{*s}) : add_null(); }
  std::string finish() const { return body_.empty() ? "{}" : "{" + body_ + "}"; }
  void reserve(size_t n) { body_.reserve(n); }

 private:
  void sep() {
    if (!body_.empty()) body_.push_back(',');
  }
  std::string body_;
};

/// Quotes an identifier for SQL text (used only for names we generate, e.g. partitions).
std::string pg_quote_ident(std::string_view ident);

}  // namespace ste
