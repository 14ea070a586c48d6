// PgPool and PgConnection against a real PostgreSQL: connections the server closed while they
// sat idle are recognised before a statement is sent on them.
#include "common/pg_pool.hpp"

#include <signal.h>

#include <catch2/catch.hpp>
#include <cerrno>

#include "tests/support/test_servers.hpp"

using namespace ste;
using namespace ste::test;
using namespace std::chrono_literals;

namespace {
/// Terminates backend `pid` and waits until it is gone: out of pg_stat_activity and, since it
/// leaves that view a moment before it exits and its socket closes, until the process is gone
/// (the test servers run on this machine).
void terminate_backend(const std::string& url, const std::string& pid) {
  exec_sql(url, "SELECT pg_terminate_backend(" + pid + ")");
  REQUIRE(eventually(
      [&] {
        return query_count(url, "SELECT count(*) FROM pg_stat_activity WHERE pid = " + pid) == 0;
      },
      10s));
  REQUIRE(eventually([&] { return ::kill(std::stoi(pid), 0) == -1 && errno == ESRCH; }, 10s));
}
}  // namespace

TEST_CASE("A connection whose backend was terminated while idle is not healthy", "[pg]") {
  const std::string url = fresh_database_url();
  PgConnection db(url);
  const std::string pid(db.exec("SELECT pg_backend_pid()").text(0, 0));
  CHECK(db.healthy());
  terminate_backend(url, pid);
  CHECK_FALSE(db.healthy());
  db.reconnect();
  CHECK(db.exec("SELECT 1").text(0, 0) == "1");
}

TEST_CASE("The pool replaces an idle connection the server closed, so the next statement succeeds",
          "[pg]") {
  const std::string url = fresh_database_url();
  PgPool pool(url, 1);
  std::string pid;
  {
    auto db = pool.acquire();
    pid = std::string(db->exec("SELECT pg_backend_pid()").text(0, 0));
  }
  terminate_backend(url, pid);
  auto db = pool.acquire();
  const std::string now_pid(db->exec("SELECT pg_backend_pid()").text(0, 0));
  CHECK(now_pid != pid);
}
