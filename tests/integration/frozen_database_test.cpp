// A frozen database is noticed (#12 item 5): every PostgreSQL process stopped with SIGSTOP (as a
// hung storage device or a paused VM would leave it: connections accepted by the kernel, never
// answered). Statements and COPY fail at their client-side deadline, /readyz says not ready
// within seconds, and after SIGCONT everything recovers without a restart and nothing is written
// twice.
#include <dirent.h>
#include <signal.h>

#include <fstream>
#include <future>
#include <optional>
#include <set>

#include "common/db_probe.hpp"
#include "common/pg_connection.hpp"
#include "common/pg_copy.hpp"
#include "tests/integration/background_publisher.hpp"
#include "tests/integration/pipeline_fixture.hpp"

using namespace ste;
using namespace ste::test;
using namespace std::chrono_literals;

namespace {

using SteadyClock = std::chrono::steady_clock;

int parent_pid(int pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string stat;
  std::getline(in, stat);
  const auto close = stat.rfind(')');  // the command name may contain spaces
  if (close == std::string::npos) return -1;
  std::istringstream rest(stat.substr(close + 2));
  std::string state;
  int ppid = -1;
  rest >> state >> ppid;
  return ppid;
}

/// SIGSTOPs the postmaster of `pg` and then every process it started; SIGCONTs them all on
/// thaw() or destruction (so a failing test never leaves a stopped server behind).
class Freeze {
 public:
  explicit Freeze(const PgServer& pg) {
    std::ifstream pidfile(pg.dir() + "/data/postmaster.pid");
    int postmaster = -1;
    pidfile >> postmaster;
    REQUIRE(postmaster > 0);
    stop(postmaster);  // first: a stopped postmaster starts no new backends
    DIR* proc = opendir("/proc");
    REQUIRE(proc);
    while (dirent* e = readdir(proc)) {
      const int pid = std::atoi(e->d_name);
      if (pid > 0 && parent_pid(pid) == postmaster) stop(pid);
    }
    closedir(proc);
    REQUIRE(pids_.size() >= 4);  // postmaster, checkpointer, background writer, WAL writer, ...
  }
  ~Freeze() { thaw(); }
  Freeze(const Freeze&) = delete;
  Freeze& operator=(const Freeze&) = delete;
  void thaw() {
    for (int pid : pids_) ::kill(pid, SIGCONT);
    pids_.clear();
  }

 private:
  void stop(int pid) {
    if (::kill(pid, SIGSTOP) == 0) pids_.push_back(pid);
  }
  std::vector<int> pids_;
};

HttpAnswer readyz(int port) {
  return http_get(port, "/readyz", {}, 3);  // readiness must never wait on the database
}

}  // namespace

TEST_CASE(
    "Frozen PostgreSQL: a statement and a COPY fail at their client deadline, a connection attempt "
    "at its connect timeout, the probe says so within seconds, and all recover after SIGCONT",
    "[frozen]") {
  PgServer pg;
  const std::string url = pg.create_database("frozen");
  PgTimeouts t;
  t.connect = 2s;
  t.statement = 1000ms;  // client deadline: 1 s + the 5-s margin
  PgConnection db(url, t);
  PgConnection copier(url, t);
  copier.exec("CREATE TABLE copied (v bigint)");

  // A live server enforces the statement timeout itself; the connection stays usable.
  try {
    db.exec("SELECT pg_sleep(3)");
    FAIL("pg_sleep(3) outlived a 1-s statement_timeout");
  } catch (const PgError& e) {
    CHECK(e.sqlstate() == "57014");
    CHECK_FALSE(e.connection_lost());
  }
  CHECK(db.exec("SHOW idle_in_transaction_session_timeout").text(0, 0) == "1min");
  CHECK(db.exec("SELECT 1").int64(0, 0) == 1);

  DbProbe probe(url);
  probe.start();
  REQUIRE(eventually([&] { return probe.problem().empty(); }, 10s, 50ms));

  Freeze freeze(pg);
  const auto frozen_at = SteadyClock::now();
  auto timed = [](auto f) {
    const auto start = SteadyClock::now();
    std::string error;
    bool lost = false;
    try {
      f();
    } catch (const PgError& e) {
      error = e.what();
      lost = e.connection_lost();
    }
    return std::tuple{SteadyClock::now() - start, error, lost};
  };
  auto select = std::async(std::launch::async, [&] { return timed([&] { db.exec("SELECT 1"); }); });
  auto copy = std::async(std::launch::async, [&] {
    return timed([&] {
      PgCopyBuffer rows;
      for (int i = 0; i < 1000; ++i) {
        rows.begin_row(1);
        rows.add_int64(i);
      }
      copier.copy_in("COPY copied FROM STDIN (FORMAT binary)", rows.finish());
    });
  });
  auto connect =
      std::async(std::launch::async, [&] { return timed([&] { PgConnection fresh(url, t); }); });

  // The probe reports the freeze within its interval (1 s) and deadline (1.5 s).
  REQUIRE(eventually([&] { return !probe.problem().empty(); }, 5s, 50ms));
  CHECK(SteadyClock::now() - frozen_at < 6s);  // 2.5 s plus slack for a loaded machine
  // "does not answer" while the probe waits, "did not answer" once it gave up.
  CHECK(probe.problem().find("answer within 1500 ms") != std::string::npos);

  for (auto* f : {&select, &copy}) {
    const auto [took, error, lost] = f->get();
    INFO(error);
    CHECK(lost);
    CHECK(error.find("did not answer within 6000 ms") != std::string::npos);
    CHECK(took >= 5900ms);
    CHECK(took < 10s);
  }
  const auto [connect_took, connect_error, connect_lost] = connect.get();
  INFO(connect_error);
  CHECK(connect_lost);
  CHECK(connect_error.find("cannot connect") != std::string::npos);
  CHECK(connect_took < 5s);  // connect_timeout 2 s
  CHECK_FALSE(db.healthy());
  CHECK_FALSE(copier.healthy());

  freeze.thaw();
  db.reconnect();
  CHECK(db.exec("SELECT 1").int64(0, 0) == 1);
  copier.reconnect();
  PgCopyBuffer one;
  one.begin_row(1);
  one.add_int64(42);
  CHECK(copier.copy_in("COPY copied FROM STDIN (FORMAT binary)", one.finish()) == 1);
  CHECK(db.exec("SELECT count(*) FROM copied").int64(0, 0) == 1);  // the frozen COPY never landed
  CHECK(eventually([&] { return probe.problem().empty(); }, 10s, 50ms));
  probe.stop();
}

TEST_CASE(
    "PostgreSQL frozen for 45 s under steady load: both services not ready while frozen, recovery "
    "without a restart, exact rows and rollup, no reading written twice",
    "[frozen]") {
  Pipeline p(/*own_pg=*/true);
  p.add_rule("above_threshold", 1e9, "flow", 15);  // evaluated on every summary, never fires
  // A client deadline beyond the freeze (60 s + 5 s): a writer waits the freeze out instead of
  // dropping a COMMIT whose outcome it then cannot know (a retried batch that had committed would
  // count as duplicates). The deadline itself is the first test's subject.
  const Process::Env db_env{{"STE_DB_STATEMENT_TIMEOUT_MS", "60000"}};
  Process::Env ingester_env = db_env;
  ingester_env["STE_BATCH_SIZE"] = "2000";
  p.start_ingester(ingester_env);
  p.start_evaluator("a", db_env);
  const int eval_port = p.evaluators["a"].port;

  constexpr int kRate = 5000;  // readings/s
  BackgroundPublisher pub(p.nats.url(), 10'000'000, kRate);
  REQUIRE(eventually([&] { return p.rows() > 10'000; }, 30s, 100ms));
  REQUIRE(readyz(p.ingester_port).status == 200);
  REQUIRE(readyz(eval_port).status == 200);

  const int published_before = pub.published();
  std::optional<Freeze> freeze;
  freeze.emplace(*p.pg);
  const auto frozen_at = SteadyClock::now();
  auto not_ready = [](int port) {
    const HttpAnswer a = readyz(port);
    return a.status == 503 && a.body.find("does not answer") != std::string::npos;
  };
  const bool ingester_noticed = eventually([&] { return not_ready(p.ingester_port); }, 10s, 100ms);
  const bool evaluator_noticed = eventually([&] { return not_ready(eval_port); }, 10s, 100ms);
  CHECK(ingester_noticed);
  CHECK(evaluator_noticed);
  // ... and it stays not ready for as long as the freeze lasts.
  bool ready_while_frozen = false;
  while (SteadyClock::now() - frozen_at < 45s) {
    ready_while_frozen = ready_while_frozen || readyz(p.ingester_port).status == 200 ||
                         readyz(eval_port).status == 200;
    std::this_thread::sleep_for(500ms);
  }
  CHECK_FALSE(ready_while_frozen);
  const int published_while_frozen = pub.published() - published_before;
  freeze.reset();  // SIGCONT

  REQUIRE(eventually(
      [&] { return pub.published() >= published_before + published_while_frozen + 2 * kRate; },
      30s));
  pub.stop();
  pub.join();
  const long long expected = pub.published();
  p.require_stored_exactly(expected, 90s);
  CHECK(published_while_frozen > 30 * kRate);  // the load really went on
  CHECK(Pipeline::metric(p.ingester_port, "ste_ingest_readings_duplicate_total") == 0);
  CHECK(p.ingester->running());
  CHECK(p.evaluators["a"].proc->running());
  CHECK(eventually([&] { return readyz(p.ingester_port).status == 200; }, 10s, 100ms));
  CHECK(eventually([&] { return readyz(eval_port).status == 200; }, 10s, 100ms));
}
