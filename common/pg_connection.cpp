#include "common/pg_connection.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <cmath>

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

PgConnection::PgConnection(std::string conninfo)
    : conninfo_(std::move(conninfo)), conn_(PQconnectdb(conninfo_.c_str()), &PQfinish) {
  if (!conn_ || PQstatus(conn_.get()) != CONNECTION_OK) {
    throw PgError(fmt::format("cannot connect to PostgreSQL: {}",
                              conn_ ? trim(PQerrorMessage(conn_.get())) : "out of memory"),
                  "08001", true);
  }
  PQsetNoticeReceiver(conn_.get(), &log_server_message, nullptr);  // kept across PQreset
  // Every timestamp we read or truncate (minute buckets) is UTC, whatever the server's default.
  exec("SET TimeZone = 'UTC'");
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
  PQreset(conn_.get());
  if (PQstatus(conn_.get()) != CONNECTION_OK) {
    throw PgError(
        fmt::format("cannot reconnect to PostgreSQL: {}", trim(PQerrorMessage(conn_.get()))),
        "08001", true);
  }
  exec("SET TimeZone = 'UTC'");
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

PgResult PgConnection::exec(std::string_view sql) {
  const std::string s(sql);
  return check(PQexec(conn_.get(), s.c_str()), sql);
}

PgResult PgConnection::exec(const std::string& sql, const std::vector<PgParam>& params) {
  std::vector<const char*> values;
  values.reserve(params.size());
  for (const auto& p : params) values.push_back(p ? p->c_str() : nullptr);
  return check(PQexecParams(conn_.get(), sql.c_str(), static_cast<int>(values.size()), nullptr,
                            values.data(), nullptr, nullptr, 0),
               sql);
}

std::int64_t PgConnection::copy_in(const std::string& copy_sql, std::string_view data) {
  PGconn* c = conn_.get();
  PGresult* start = PQexec(c, copy_sql.c_str());
  if (!start || PQresultStatus(start) != PGRES_COPY_IN) {
    check(start, copy_sql);  // throws on an error result
    throw PgError(fmt::format("not a COPY FROM STDIN statement: {}", copy_sql), "", false);
  }
  PQclear(start);
  // Streamed in pieces: PQputCopyData takes an int length.
  constexpr size_t kChunk = 1 << 20;
  const char* failure = nullptr;
  for (size_t off = 0; off < data.size() && !failure; off += kChunk) {
    const size_t n = std::min(kChunk, data.size() - off);
    if (PQputCopyData(c, data.data() + off, static_cast<int>(n)) != 1) failure = "COPY data";
  }
  if (PQputCopyEnd(c, failure) != 1 && !failure) failure = "COPY end";
  PGresult* fin = PQgetResult(c);
  while (PGresult* extra = PQgetResult(c)) PQclear(extra);  // leave the connection idle
  PgResult res = check(fin, copy_sql);
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
