#include "common/pg_connection.hpp"

#include <fmt/format.h>
#include <poll.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <mutex>

#include "common/log.hpp"

namespace ste {

namespace {
std::string trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

/// libpq's default prints server notices raw on stderr, which breaks the one-JSON-object-per-line
/// log (a terminated idle backend's FATAL arrived that way); they go through the log instead.
void log_server_message(void*, const PGresult* r) {
  const char* severity = PQresultErrorField(r, PG_DIAG_SEVERITY_NONLOCALIZED);
  const char* sqlstate = PQresultErrorField(r, PG_DIAG_SQLSTATE);
  const std::string message = trim(PQresultErrorMessage(r));
  const std::string_view sev = severity ? severity : "";
  const log::Fields fields{{"severity", sev},
                           {"sqlstate", std::string_view(sqlstate ? sqlstate : "")},
                           {"message", std::string_view(message)}};
  if (server_message_is_warning(sev)) {
    log::warn("postgres server message", fields);
  } else {
    log::debug("postgres server message", fields);
  }
}
}  // namespace

namespace {
std::mutex g_timeouts_mu;
PgTimeouts g_timeouts;  // guarded by g_timeouts_mu
}  // namespace

std::chrono::milliseconds client_deadline(const PgTimeouts& t) {
  if (t.statement.count() <= 0) return std::chrono::milliseconds{0};
  return t.statement + kClientDeadlineMargin;
}

void set_default_pg_timeouts(const PgTimeouts& t) {
  std::lock_guard lock(g_timeouts_mu);
  g_timeouts = t;
}

PgTimeouts default_pg_timeouts() {
  std::lock_guard lock(g_timeouts_mu);
  return g_timeouts;
}

bool pg_error_is_environmental(std::string_view sqlstate, bool connection_lost) {
  if (connection_lost) return true;
  if (sqlstate.size() != 5) return false;
  const auto cls = sqlstate.substr(0, 2);
  for (const char* env : {"08", "40", "42", "53", "55", "57", "58"}) {
    if (cls == env) return true;
  }
  return false;
}

bool server_message_is_warning(std::string_view severity) {
  return severity == "WARNING" || severity == "ERROR" || severity == "FATAL" || severity == "PANIC";
}

std::int64_t PgResult::int64(int row, int col) const {
  const auto t = text(row, col);
  std::int64_t v = 0;
  auto [p, ec] = std::from_chars(t.data(), t.data() + t.size(), v);
  if (ec != std::errc{} || p != t.data() + t.size()) {
    throw PgError(fmt::format("column {} is not an integer: '{}'", col, t), "", false);
  }
  return v;
}

double PgResult::float8(int row, int col) const {
  const auto t = text(row, col);
  if (t == "NaN") return std::nan("");
  if (t == "Infinity") return INFINITY;
  if (t == "-Infinity") return -INFINITY;
  double v = 0;
  auto [p, ec] = std::from_chars(t.data(), t.data() + t.size(), v);
  if (ec != std::errc{})
    throw PgError(fmt::format("column {} is not a number: '{}'", col, t), "", false);
  return v;
}

std::int64_t PgResult::affected() const {
  const char* n = PQcmdTuples(r_.get());
  return (n && *n) ? std::stoll(n) : 0;
}

namespace {
PGconn* connect_params(const std::string& conninfo, const PgTimeouts& t) {
  // connect_timeout comes first so that one in the URL/conninfo (expanded from dbname) wins.
  const std::string timeout = std::to_string(std::max<std::int64_t>(t.connect.count(), 1));
  const char* keys[] = {"connect_timeout", "dbname", nullptr};
  const char* values[] = {timeout.c_str(), conninfo.c_str(), nullptr};
  return PQconnectdbParams(keys, values, 1);
}
}  // namespace

PgConnection::PgConnection(std::string conninfo, PgTimeouts timeouts)
    : conninfo_(std::move(conninfo)),
      timeouts_(timeouts),
      conn_(connect_params(conninfo_, timeouts_), &PQfinish) {
  if (!conn_ || PQstatus(conn_.get()) != CONNECTION_OK) {
    throw PgError(fmt::format("cannot connect to PostgreSQL: {}",
                              conn_ ? trim(PQerrorMessage(conn_.get())) : "out of memory"),
                  "08001", true);
  }
  PQsetNoticeReceiver(conn_.get(), &log_server_message, nullptr);  // kept across PQreset
  setup();
}

void PgConnection::setup() {
  // Non-blocking sends: a statement never blocks past its deadline in a full socket buffer.
  PQsetnonblocking(conn_.get(), 1);
  // Every timestamp we read or truncate (minute buckets) is UTC, whatever the server's default.
  exec(
      fmt::format("SET TimeZone = 'UTC'; SET statement_timeout = {}; "
                  "SET idle_in_transaction_session_timeout = {}",
                  std::max<std::int64_t>(timeouts_.statement.count(), 0),
                  std::max<std::int64_t>(timeouts_.idle_in_transaction.count(), 0)));
}

bool PgConnection::healthy() {
  PGconn* c = conn_.get();
  // Two reads at most, neither of which blocks: the first takes what the server sent (the FATAL
  // of a terminated backend), the second then sees the EOF behind it and marks the connection
  // bad. Not while a command is in progress: its result is not ours to read here.
  for (int i = 0; i < 2 && PQstatus(c) == CONNECTION_OK; ++i) {
    if (PQtransactionStatus(c) == PQTRANS_ACTIVE || PQconsumeInput(c) == 0) break;
  }
  return PQstatus(c) == CONNECTION_OK;
}

void PgConnection::reconnect() {
  PQreset(conn_.get());  // the same parameters, connect_timeout included
  if (PQstatus(conn_.get()) != CONNECTION_OK) {
    throw PgError(
        fmt::format("cannot reconnect to PostgreSQL: {}", trim(PQerrorMessage(conn_.get()))),
        "08001", true);
  }
  setup();
}

PgResult PgConnection::check(PGresult* r, std::string_view sql) {
  PgResult res(r);
  const auto st = r ? PQresultStatus(r) : PGRES_FATAL_ERROR;
  if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK) return res;
  const char* state = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : nullptr;
  const bool lost = PQstatus(conn_.get()) != CONNECTION_OK;
  std::string msg = trim(r ? PQresultErrorMessage(r) : PQerrorMessage(conn_.get()));
  if (msg.empty()) msg = trim(PQerrorMessage(conn_.get()));
  const auto head = sql.substr(0, std::min<size_t>(sql.size(), 60));
  throw PgError(fmt::format("{} (statement: {}...)", msg, head),
                state ? state : (lost ? "08006" : ""), lost);
}

PgConnection::Deadline PgConnection::deadline_from_now() {
  const auto d = client_deadline(timeouts_);
  budget_ = d;
  return d.count() > 0 ? std::chrono::steady_clock::now() + d : Deadline::max();
}

void PgConnection::wait_socket(short events, Deadline deadline, std::string_view sql) {
  PGconn* c = conn_.get();
  const int fd = PQsocket(c);
  if (fd < 0) return;  // no socket: the next libpq call reports the broken connection
  for (;;) {
    int wait_ms = -1;
    if (deadline != Deadline::max()) {
      const auto left =
          std::chrono::ceil<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
      wait_ms = static_cast<int>(std::clamp<std::int64_t>(left.count(), 0, 1 << 30));
    }
    if (wait_ms == 0) break;
    pollfd pfd{fd, events, 0};
    const int n = poll(&pfd, 1, wait_ms);
    if (n > 0) return;
    if (n < 0 && errno != EINTR) return;  // let libpq find the error
  }
  // The server did not answer in time (frozen, or a network that drops packets): drop the
  // connection, so it is never reused mid-statement, and tell the caller it is lost.
  ::shutdown(fd, SHUT_RDWR);
  PQconsumeInput(c);  // sees the EOF: the connection is now CONNECTION_BAD
  const auto head = sql.substr(0, std::min<size_t>(sql.size(), 60));
  throw PgError(fmt::format("PostgreSQL did not answer within {} ms (client deadline); "
                            "connection dropped (statement: {}...)",
                            budget_.count(), head),
                "08006", true);
}

void PgConnection::flush_until(Deadline deadline, std::string_view sql) {
  PGconn* c = conn_.get();
  for (;;) {
    const int f = PQflush(c);
    if (f == 0) return;
    if (f < 0) check(nullptr, sql);  // throws with libpq's message
    wait_socket(POLLOUT | POLLIN, deadline, sql);
    if (PQconsumeInput(c) == 0) check(nullptr, sql);
  }
}

PGresult* PgConnection::collect(Deadline deadline, std::string_view sql) {
  PGconn* c = conn_.get();
  PGresult* keep = nullptr;
  for (;;) {
    while (PQisBusy(c)) {
      wait_socket(POLLIN, deadline, sql);
      if (PQconsumeInput(c) == 0) break;  // lost: PQgetResult reports it
    }
    PGresult* r = PQgetResult(c);
    if (!r) break;
    const auto st = PQresultStatus(r);
    if (st == PGRES_COPY_IN || st == PGRES_COPY_OUT || st == PGRES_COPY_BOTH) {
      if (keep) PQclear(keep);
      return r;  // the caller continues the COPY
    }
    if (keep && PQresultStatus(keep) != PGRES_COMMAND_OK &&
        PQresultStatus(keep) != PGRES_TUPLES_OK) {
      PQclear(r);  // the first error is the one to report
    } else {
      if (keep) PQclear(keep);
      keep = r;
    }
    if (PQstatus(c) != CONNECTION_OK) break;
  }
  return keep;
}

PgResult PgConnection::exec_until(std::string_view sql, Deadline deadline) {
  const std::string s(sql);
  if (PQsendQuery(conn_.get(), s.c_str()) != 1) check(nullptr, sql);
  flush_until(deadline, sql);
  return check(collect(deadline, sql), sql);
}

PgResult PgConnection::exec(std::string_view sql) { return exec_until(sql, deadline_from_now()); }

PgResult PgConnection::exec_within(std::string_view sql, std::chrono::milliseconds deadline) {
  budget_ = deadline;
  return exec_until(sql, std::chrono::steady_clock::now() + deadline);
}

PgResult PgConnection::exec(const std::string& sql, const std::vector<PgParam>& params) {
  std::vector<const char*> values;
  values.reserve(params.size());
  for (const auto& p : params) values.push_back(p ? p->c_str() : nullptr);
  const auto deadline = deadline_from_now();
  if (PQsendQueryParams(conn_.get(), sql.c_str(), static_cast<int>(values.size()), nullptr,
                        values.data(), nullptr, nullptr, 0) != 1) {
    check(nullptr, sql);
  }
  flush_until(deadline, sql);
  return check(collect(deadline, sql), sql);
}

std::int64_t PgConnection::copy_in(const std::string& copy_sql, std::string_view data) {
  PGconn* c = conn_.get();
  const auto deadline = deadline_from_now();  // one deadline for the whole COPY
  if (PQsendQuery(c, copy_sql.c_str()) != 1) check(nullptr, copy_sql);
  flush_until(deadline, copy_sql);
  PGresult* start = collect(deadline, copy_sql);
  if (!start || PQresultStatus(start) != PGRES_COPY_IN) {
    check(start, copy_sql);  // throws on an error result
    throw PgError(fmt::format("not a COPY FROM STDIN statement: {}", copy_sql), "", false);
  }
  PQclear(start);
  // Streamed in pieces: PQputCopyData takes an int length. Non-blocking: 0 means "buffers
  // full, wait until the socket takes more".
  constexpr size_t kChunk = 1 << 20;
  const char* failure = nullptr;
  for (size_t off = 0; off < data.size() && !failure;) {
    const size_t n = std::min(kChunk, data.size() - off);
    const int r = PQputCopyData(c, data.data() + off, static_cast<int>(n));
    if (r == 1) {
      off += n;
    } else if (r == 0) {
      wait_socket(POLLOUT | POLLIN, deadline, copy_sql);
      PQconsumeInput(c);  // the server may be talking (a notice, an early error)
    } else {
      failure = "COPY data";
    }
  }
  for (;;) {
    const int r = PQputCopyEnd(c, failure);
    if (r == 1) break;
    if (r < 0) {
      if (!failure) failure = "COPY end";
      break;
    }
    wait_socket(POLLOUT | POLLIN, deadline, copy_sql);
    PQconsumeInput(c);
  }
  if (PQstatus(c) == CONNECTION_OK) flush_until(deadline, copy_sql);
  PgResult res = check(collect(deadline, copy_sql), copy_sql);
  if (failure) throw PgError(fmt::format("sending {} failed", failure), "08006", !healthy());
  return res.affected();
}

void PgArrayBuilder::add(std::int64_t v) {
  sep();
  fmt::format_to(std::back_inserter(body_), "{}", v);
}
void PgArrayBuilder::add(double v) {
  sep();
  fmt::format_to(std::back_inserter(body_), "{}", v);
}
void PgArrayBuilder::add(std::string_view s) {
  sep();
  body_.push_back('"');
  for (char c : s) {
    if (c == '"' || c == '\\') body_.push_back('\\');
    body_.push_back(c);
  }
  body_.push_back('"');
}
void PgArrayBuilder::add_null() {
  sep();
  body_ += "NULL";
}

std::string pg_quote_ident(std::string_view ident) {
  std::string out = "\"";
  for (char c : ident) {
    if (c == '"') out.push_back('"');
    out.push_back(c);
  }
  out.push_back('"');
  return out;
}

}  // namespace ste
