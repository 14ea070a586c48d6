#pragma once
/// Support library for integration tests that talk to REAL servers: throwaway PostgreSQL 15
/// clusters and nats-server (JetStream) instances, child-process management, polling helpers and
/// tiny libpq query helpers for assertions.
///
/// Everything here is for tests only: failures throw std::runtime_error with the relevant log
/// contents so that a failing test shows why a server did not come up.
#include <algorithm>
#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

namespace ste::test {

/// Returns a TCP port that was free on 127.0.0.1 a moment ago (binds port 0, reads the port the
/// kernel chose, closes the socket). Another process may grab it before the caller binds it; tests
/// accept that small race.
int free_tcp_port();

/// Reads a whole file; returns "" when it does not exist or cannot be read (used for logs).
std::string read_file(const std::string& path);

/// A fresh directory under /tmp (mkdtemp), mode 0755 so that the postgres user can traverse it.
/// Lifecycle: created by the constructor, removed recursively by the destructor (errors ignored).
/// Not copyable or movable. Thread-safety: immutable after construction.
class TempDir {
 public:
  /// `prefix` becomes the start of the directory name: /tmp/<prefix>XXXXXX.
  explicit TempDir(const std::string& prefix = "ste-test-");
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

/// A child process started with fork/execve. It inherits the parent's environment plus the given
/// overrides, has stdin on /dev/null and stdout+stderr appended to a log file, and runs in its own
/// process group so that signals reach its children too (kill(-pid)).
///
/// Lifecycle: the constructor spawns the child (throws if argv[0] cannot be found or fork fails; an
/// exec failure shows as exit status 127 and a message in the log). The destructor SIGKILLs the
/// process group and reaps the child if it has not been reaped yet. After the child has been
/// reaped, signal() does nothing (its pid may be reused). Movable, not copyable.
/// Thread-safety: none; use one Process object from one thread at a time.
class Process {
 public:
  using Env = std::map<std::string, std::string>;

  /// argv[0] is looked up in PATH (the overridden PATH if `env` sets one) unless it contains '/'.
  Process(std::vector<std::string> argv, const std::string& log_path, const Env& env = {});
  ~Process();
  Process(Process&& other) noexcept;
  Process& operator=(Process&& other) noexcept;
  Process(const Process&) = delete;
  Process& operator=(const Process&) = delete;

  int pid() const { return pid_; }
  /// Sends `sig` to the child's process group (no-op once the child has been reaped).
  void signal(int sig);
  void kill();       ///< SIGKILL to the process group.
  void terminate();  ///< SIGTERM to the process group.
  /// Polls until the child exits or `timeout` passes. On exit returns true and stores in
  /// `*exit_status` (if non-null) the exit code, or 128 + signal number if a signal killed it.
  /// Returns false on timeout. Calling again after exit returns the same status.
  bool wait_exit(std::chrono::milliseconds timeout, int* exit_status = nullptr);
  /// True until the child has exited (reaps it if it has).
  bool running();

 private:
  void reap_blocking();
  int pid_ = -1;
  bool reaped_ = false;
  int exit_status_ = -1;
};

/// Runs a command to completion (see Process) and returns its exit status; throws if it does not
/// finish within `timeout` (the command is killed first).
int run_command(std::vector<std::string> argv, const std::string& log_path,
                std::chrono::milliseconds timeout = std::chrono::seconds(60),
                const Process::Env& env = {});

/// A throwaway PostgreSQL 15 cluster in its own TempDir: trust authentication for user `postgres`,
/// fsync off, listening on 127.0.0.1 on a port chosen once at construction (kept across restarts),
/// Unix socket inside the directory. When running as root, initdb/pg_ctl run as the `postgres`
/// user through runuser; otherwise they run as the current user.
///
/// Lifecycle: the constructor runs initdb (~0.6 s) and start(); stop()/start() may be repeated;
/// the destructor stops the server (fast, then immediate; errors ignored) and removes the data.
/// Logs: DIR/initdb.log, DIR/pg_ctl.log, DIR/postgres.log (server log).
/// Thread-safety: url()/port() are safe from any thread; start()/stop()/create_database() must not
/// race with each other.
class PgServer {
 public:
  PgServer();
  ~PgServer();
  PgServer(const PgServer&) = delete;
  PgServer& operator=(const PgServer&) = delete;

  void start();  ///< pg_ctl start -w; no-op if running; throws with the logs on failure.
  void stop();   ///< pg_ctl -m fast -w stop; no-op if not running; throws on failure.
  bool running() const { return running_; }
  /// The server's max_connections (default 200), applied from the next start(): a test that
  /// exhausts connection slots restarts the server with a small number. The server keeps its
  /// default superuser_reserved_connections (3), so superusers can still connect when the rest
  /// are taken.
  void set_max_connections(int n) { max_connections_ = n; }

  int port() const { return port_; }
  const std::string& dir() const { return dir_.path(); }
  /// postgresql://postgres@127.0.0.1:PORT/dbname
  std::string url(const std::string& dbname = "postgres") const;
  /// CREATE DATABASE (connected to the `postgres` database); returns url(name).
  std::string create_database(const std::string& name);
  /// Server log contents, for failure messages.
  std::string log() const;

 private:
  std::vector<std::string> as_postgres(std::vector<std::string> argv) const;
  void pg_ctl_stop(const std::string& mode);
  TempDir dir_;
  int port_;
  int max_connections_ = 200;
  bool running_ = false;
};

/// A nats-server with JetStream (file storage in DIR/js) on 127.0.0.1, monitoring disabled.
///
/// Lifecycle: the constructor picks a port and calls start(), which returns once the client port
/// accepts TCP connections (deadline 10 s; throws with the log otherwise). stop() sends SIGTERM and
/// waits (SIGKILL after 10 s); kill() simulates a crash. start() again reuses the same port and the
/// same store directory, so JetStream streams and consumers survive a restart. The destructor kills
/// the server and removes the directory. Log: DIR/nats.log (appended across restarts).
/// Thread-safety: url()/port() are safe from any thread; start()/stop()/kill() must not race.
class NatsServer {
 public:
  NatsServer();
  ~NatsServer();
  NatsServer(const NatsServer&) = delete;
  NatsServer& operator=(const NatsServer&) = delete;

  void start();  ///< No-op if running.
  void stop();   ///< Graceful stop; no-op if not running.
  void kill();   ///< SIGKILL (crash); no-op if not running.
  bool running();

  int port() const { return port_; }
  const std::string& dir() const { return dir_.path(); }
  std::string url() const;  ///< nats://127.0.0.1:PORT
  std::string log() const;

 private:
  TempDir dir_;
  int port_;
  std::unique_ptr<Process> proc_;
};

/// Creates a new, uniquely named database (ste_test_<pid>_<counter>_<random>) and returns its URL.
/// If STE_TEST_PG_URL_BASE is set (e.g. postgresql://postgres@127.0.0.1:5432) the database is
/// created on that server; otherwise one process-wide PgServer is started on first use and kept
/// until process exit. Databases are not dropped. Thread-safe.
std::string fresh_database_url();

/// Polls `pred` every `step` until it returns true or `timeout` passes; returns the last result.
/// `pred` is always evaluated at least once, and once more at the deadline.
template <class F>
bool eventually(F pred, std::chrono::milliseconds timeout,
                std::chrono::milliseconds step = std::chrono::milliseconds(20)) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    if (pred()) return true;
    const auto now = std::chrono::steady_clock::now();
    if (now >= deadline) return false;
    std::this_thread::sleep_for(
        std::min<std::chrono::steady_clock::duration>(step, deadline - now));
  }
}

/// Runs `sql` on a new libpq connection to `url` and returns the first cell of the first row as
/// text ("" when there are no rows or the cell is NULL). Throws std::runtime_error on any error.
std::string query_scalar(const std::string& url, const std::string& sql);

/// query_scalar() parsed as an integer (e.g. SELECT count(*) ...); throws if it is not one.
long long query_count(const std::string& url, const std::string& sql);

/// Runs SQL (may be several statements) for test setup; throws std::runtime_error on error.
void exec_sql(const std::string& url, const std::string& sql);

}  // namespace ste::test
