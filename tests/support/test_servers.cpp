#include "tests/support/test_servers.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <libpq-fe.h>
#include <netinet/in.h>
#include <pwd.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <random>
#include <sstream>
#include <stdexcept>
#include <utility>

extern char** environ;

namespace ste::test {

namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

constexpr const char* kPgBin = "/usr/lib/postgresql/15/bin";

std::runtime_error sys_error(const std::string& what) {
  return std::runtime_error(what + ": " + std::strerror(errno));
}

/// Closes a file descriptor on scope exit.
struct FdCloser {
  int fd;
  ~FdCloser() {
    if (fd >= 0) ::close(fd);
  }
};

/// Looks `name` up in the colon-separated `path`; returns "" when not found.
std::string find_in_path(const std::string& name, const std::string& path) {
  if (name.find('/') != std::string::npos) return name;
  std::stringstream ss(path);
  std::string dir;
  while (std::getline(ss, dir, ':')) {
    if (dir.empty()) dir = ".";
    const std::string candidate = dir + "/" + name;
    if (::access(candidate.c_str(), X_OK) == 0) return candidate;
  }
  return "";
}

/// True when something accepts TCP connections on 127.0.0.1:port.
bool port_accepts(int port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  FdCloser closer{fd};
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
}

int decode_wait_status(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return -1;
}

/// Owns one libpq connection (connect timeout 10 s); throws with the libpq message on failure.
class PgConn {
 public:
  explicit PgConn(const std::string& url) {
    const char* keys[] = {"dbname", "connect_timeout", nullptr};
    const char* values[] = {url.c_str(), "10", nullptr};
    conn_ = PQconnectdbParams(keys, values, /*expand_dbname=*/1);
    if (conn_ == nullptr || PQstatus(conn_) != CONNECTION_OK) {
      const std::string msg = conn_ ? PQerrorMessage(conn_) : "out of memory";
      PQfinish(conn_);
      throw std::runtime_error("cannot connect to " + url + ": " + msg);
    }
  }
  ~PgConn() { PQfinish(conn_); }
  PgConn(const PgConn&) = delete;
  PgConn& operator=(const PgConn&) = delete;

  PGconn* get() const { return conn_; }

  /// Runs `sql`; throws unless the result is OK. The caller owns the result (PQclear).
  PGresult* exec(const std::string& sql) {
    PGresult* r = PQexec(conn_, sql.c_str());
    const ExecStatusType st = PQresultStatus(r);
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
      const std::string msg = r ? PQresultErrorMessage(r) : PQerrorMessage(conn_);
      PQclear(r);
      throw std::runtime_error("SQL failed: " + sql + ": " + msg);
    }
    return r;
  }

 private:
  PGconn* conn_ = nullptr;
};

std::string quote_ident(PGconn* conn, const std::string& ident) {
  char* q = PQescapeIdentifier(conn, ident.c_str(), ident.size());
  if (q == nullptr)
    throw std::runtime_error(std::string("PQescapeIdentifier: ") + PQerrorMessage(conn));
  std::string out(q);
  PQfreemem(q);
  return out;
}

void create_database_at(const std::string& admin_url, const std::string& name) {
  PgConn conn(admin_url);
  PQclear(conn.exec("CREATE DATABASE " + quote_ident(conn.get(), name)));
}

/// Replaces the path of a postgresql:// URL (keeping any ?query) with "/dbname".
std::string with_dbname(const std::string& base, const std::string& dbname) {
  const auto scheme = base.find("://");
  const auto authority_start = scheme == std::string::npos ? 0 : scheme + 3;
  const auto authority_end = base.find_first_of("/?", authority_start);
  std::string out = base.substr(0, authority_end) + "/" + dbname;
  if (authority_end != std::string::npos) {
    const auto query = base.find('?', authority_end);
    if (query != std::string::npos) out += base.substr(query);
  }
  return out;
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Free helpers

int free_tcp_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) throw sys_error("socket");
  FdCloser closer{fd};
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = 0;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) throw sys_error("bind");
  socklen_t len = sizeof addr;
  if (::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    throw sys_error("getsockname");
  }
  return ntohs(addr.sin_port);
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return "";
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// ---------------------------------------------------------------------------------------------
// TempDir

TempDir::TempDir(const std::string& prefix) {
  std::string tmpl = "/tmp/" + prefix + "XXXXXX";
  if (::mkdtemp(tmpl.data()) == nullptr) throw sys_error("mkdtemp " + tmpl);
  path_ = tmpl;
  if (::chmod(path_.c_str(), 0755) != 0) throw sys_error("chmod " + path_);
}

TempDir::~TempDir() {
  std::error_code ec;
  fs::remove_all(path_, ec);
}

// ---------------------------------------------------------------------------------------------
// Process

Process::Process(std::vector<std::string> argv, const std::string& log_path, const Env& env) {
  if (argv.empty()) throw std::invalid_argument("Process: empty argv");

  // Build everything the child needs before fork(): after fork only async-signal-safe calls.
  Env merged;
  for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
    const std::string kv(*e);
    const auto eq = kv.find('=');
    if (eq != std::string::npos) merged.emplace(kv.substr(0, eq), kv.substr(eq + 1));
  }
  for (const auto& [k, v] : env) merged[k] = v;
  std::vector<std::string> env_strings;
  env_strings.reserve(merged.size());
  for (const auto& [k, v] : merged) env_strings.push_back(k + "=" + v);

  const auto path_it = merged.find("PATH");
  const std::string exe =
      find_in_path(argv[0], path_it != merged.end() ? path_it->second : "/usr/bin:/bin");
  if (exe.empty()) throw std::runtime_error("Process: executable not found in PATH: " + argv[0]);

  std::vector<char*> c_argv;
  for (auto& a : argv) c_argv.push_back(a.data());
  c_argv.push_back(nullptr);
  std::vector<char*> c_env;
  for (auto& e : env_strings) c_env.push_back(e.data());
  c_env.push_back(nullptr);

  const int log_fd = ::open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (log_fd < 0) throw sys_error("open log " + log_path);
  FdCloser log_closer{log_fd};
  const int null_fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  if (null_fd < 0) throw sys_error("open /dev/null");
  FdCloser null_closer{null_fd};

  const pid_t pid = ::fork();
  if (pid < 0) throw sys_error("fork");
  if (pid == 0) {
    ::setpgid(0, 0);
    // Undo what the test process may have changed: blocked and ignored signals survive exec.
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    for (int s = 1; s < NSIG; ++s) ::signal(s, SIG_DFL);
    ::dup2(null_fd, STDIN_FILENO);
    ::dup2(log_fd, STDOUT_FILENO);
    ::dup2(log_fd, STDERR_FILENO);
    ::execve(exe.c_str(), c_argv.data(), c_env.data());
    static const char msg[] = "Process: execve failed\n";
    [[maybe_unused]] const auto n = ::write(STDERR_FILENO, msg, sizeof msg - 1);
    ::_exit(127);
  }
  // Also set the group from the parent so that signal() works even before the child ran.
  ::setpgid(pid, pid);
  pid_ = pid;
}

Process::~Process() {
  if (pid_ > 0 && !reaped_) {
    kill();
    reap_blocking();
  }
}

Process::Process(Process&& other) noexcept
    : pid_(std::exchange(other.pid_, -1)),
      reaped_(other.reaped_),
      exit_status_(other.exit_status_) {}

Process& Process::operator=(Process&& other) noexcept {
  if (this != &other) {
    if (pid_ > 0 && !reaped_) {
      kill();
      reap_blocking();
    }
    pid_ = std::exchange(other.pid_, -1);
    reaped_ = other.reaped_;
    exit_status_ = other.exit_status_;
  }
  return *this;
}

void Process::signal(int sig) {
  if (pid_ <= 0 || reaped_) return;
  // The unreaped child keeps its pid (and so its group id) reserved, so this cannot hit a stranger.
  if (::kill(-pid_, sig) != 0) ::kill(pid_, sig);
}

void Process::kill() { signal(SIGKILL); }

void Process::terminate() { signal(SIGTERM); }

void Process::reap_blocking() {
  int status = 0;
  pid_t r;
  do {
    r = ::waitpid(pid_, &status, 0);
  } while (r < 0 && errno == EINTR);
  reaped_ = true;
  exit_status_ = r == pid_ ? decode_wait_status(status) : -1;
}

bool Process::wait_exit(std::chrono::milliseconds timeout, int* exit_status) {
  if (pid_ <= 0) return false;
  const bool exited = eventually(
      [this] {
        if (reaped_) return true;
        int status = 0;
        const pid_t r = ::waitpid(pid_, &status, WNOHANG);
        if (r == pid_) {
          reaped_ = true;
          exit_status_ = decode_wait_status(status);
        } else if (r < 0 && errno == ECHILD) {
          reaped_ = true;  // somebody else reaped it; the status is unknown
        }
        return reaped_;
      },
      timeout, 5ms);
  if (exited && exit_status != nullptr) *exit_status = exit_status_;
  return exited;
}

bool Process::running() { return pid_ > 0 && !wait_exit(0ms); }

int run_command(std::vector<std::string> argv, const std::string& log_path,
                std::chrono::milliseconds timeout, const Process::Env& env) {
  const std::string what = argv.empty() ? "" : argv[0];
  Process p(std::move(argv), log_path, env);
  int status = -1;
  if (!p.wait_exit(timeout, &status)) {
    p.kill();
    throw std::runtime_error("command timed out: " + what + "\n" + read_file(log_path));
  }
  return status;
}

// ---------------------------------------------------------------------------------------------
// PgServer

PgServer::PgServer() : dir_("ste-pg-"), port_(free_tcp_port()) {
  if (::geteuid() == 0) {
    const passwd* pw = ::getpwnam("postgres");
    if (pw == nullptr) throw std::runtime_error("PgServer: no 'postgres' user");
    if (::chown(dir().c_str(), pw->pw_uid, pw->pw_gid) != 0) throw sys_error("chown " + dir());
  }
  const std::string log = dir() + "/initdb.log";
  const int rc = run_command(
      as_postgres({std::string(kPgBin) + "/initdb", "-D", dir() + "/data", "-U", "postgres", "-A",
                   "trust", "--no-sync", "--no-instructions", "-E", "UTF8", "--locale=C"}),
      log);
  if (rc != 0) {
    throw std::runtime_error("initdb failed (exit " + std::to_string(rc) + "):\n" + read_file(log));
  }
  start();
}

PgServer::~PgServer() {
  if (!running_) return;
  try {
    pg_ctl_stop("fast");
  } catch (...) {
    try {
      pg_ctl_stop("immediate");
    } catch (...) {  // nothing more we can do; the directory is removed anyway
    }
  }
}

std::vector<std::string> PgServer::as_postgres(std::vector<std::string> argv) const {
  if (::geteuid() != 0) return argv;
  argv.insert(argv.begin(), {"runuser", "-u", "postgres", "--"});
  return argv;
}

void PgServer::start() {
  if (running_) return;
  const std::string opts = "-c port=" + std::to_string(port_) +
                           " -c listen_addresses='127.0.0.1' -c unix_socket_directories='" + dir() +
                           "' -c fsync=off -c max_connections=" + std::to_string(max_connections_);
  const std::string log = dir() + "/pg_ctl.log";
  const int rc =
      run_command(as_postgres({std::string(kPgBin) + "/pg_ctl", "-D", dir() + "/data", "-l",
                               dir() + "/postgres.log", "-w", "-t", "60", "-o", opts, "start"}),
                  log, 90s);
  if (rc != 0) {
    throw std::runtime_error("pg_ctl start failed (exit " + std::to_string(rc) + ") on port " +
                             std::to_string(port_) + ":\n" + read_file(log) + "\n" + this->log());
  }
  running_ = true;
}

void PgServer::pg_ctl_stop(const std::string& mode) {
  const std::string log = dir() + "/pg_ctl.log";
  const int rc = run_command(as_postgres({std::string(kPgBin) + "/pg_ctl", "-D", dir() + "/data",
                                          "-m", mode, "-w", "-t", "60", "stop"}),
                             log, 90s);
  if (rc != 0) {
    throw std::runtime_error("pg_ctl stop failed (exit " + std::to_string(rc) + "):\n" +
                             read_file(log) + "\n" + this->log());
  }
  running_ = false;
}

void PgServer::stop() {
  if (running_) pg_ctl_stop("fast");
}

std::string PgServer::url(const std::string& dbname) const {
  return "postgresql://postgres@127.0.0.1:" + std::to_string(port_) + "/" + dbname;
}

std::string PgServer::create_database(const std::string& name) {
  create_database_at(url("postgres"), name);
  return url(name);
}

std::string PgServer::log() const { return read_file(dir() + "/postgres.log"); }

// ---------------------------------------------------------------------------------------------
// NatsServer

NatsServer::NatsServer() : dir_("ste-nats-"), port_(free_tcp_port()) { start(); }

NatsServer::~NatsServer() = default;  // ~Process SIGKILLs; ~TempDir removes the store

void NatsServer::start() {
  if (running()) return;
  proc_ = std::make_unique<Process>(
      std::vector<std::string>{"nats-server", "-js", "-a", "127.0.0.1", "-p", std::to_string(port_),
                               "-sd", dir() + "/js", "-m", "0"},
      dir() + "/nats.log");
  const bool up =
      eventually([this] { return !proc_->running() || port_accepts(port_); }, 10s, 10ms);
  if (!up || !proc_->running()) {
    proc_.reset();
    throw std::runtime_error("nats-server did not start on port " + std::to_string(port_) + ":\n" +
                             log());
  }
}

void NatsServer::stop() {
  if (!proc_) return;
  proc_->terminate();
  if (!proc_->wait_exit(10s)) proc_->kill();
  proc_.reset();
}

void NatsServer::kill() {
  if (!proc_) return;
  proc_->kill();
  proc_.reset();  // ~Process reaps
}

bool NatsServer::running() { return proc_ && proc_->running(); }

std::string NatsServer::url() const { return "nats://127.0.0.1:" + std::to_string(port_); }

std::string NatsServer::log() const { return read_file(dir() + "/nats.log"); }

// ---------------------------------------------------------------------------------------------
// Shared database server and query helpers

std::string fresh_database_url() {
  static std::mutex mu;
  static std::unique_ptr<PgServer> shared;  // destroyed (cluster stopped) at process exit
  static std::atomic<unsigned> counter{0};

  std::random_device rd;
  std::ostringstream name;
  name << "ste_test_" << ::getpid() << "_" << counter++ << "_" << std::hex << (rd() & 0xffffffu);

  if (const char* base = std::getenv("STE_TEST_PG_URL_BASE"); base != nullptr && *base != '\0') {
    create_database_at(with_dbname(base, "postgres"), name.str());
    return with_dbname(base, name.str());
  }
  std::lock_guard lock(mu);
  if (!shared) shared = std::make_unique<PgServer>();
  return shared->create_database(name.str());
}

std::string query_scalar(const std::string& url, const std::string& sql) {
  PgConn conn(url);
  std::unique_ptr<PGresult, void (*)(PGresult*)> r(conn.exec(sql), &PQclear);
  if (PQntuples(r.get()) == 0 || PQnfields(r.get()) == 0 || PQgetisnull(r.get(), 0, 0)) return "";
  return std::string(PQgetvalue(r.get(), 0, 0), static_cast<size_t>(PQgetlength(r.get(), 0, 0)));
}

long long query_count(const std::string& url, const std::string& sql) {
  const std::string s = query_scalar(url, sql);
  size_t used = 0;
  long long v = 0;
  try {
    v = std::stoll(s, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (s.empty() || used != s.size()) {
    throw std::runtime_error("query_count: not an integer: '" + s + "' from " + sql);
  }
  return v;
}

void exec_sql(const std::string& url, const std::string& sql) {
  PgConn conn(url);
  PQclear(conn.exec(sql));
}

}  // namespace ste::test
