// Both services under a real supervisord, with the configuration shipped in deploy/supervisord.
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <csignal>
#include <thread>

#include "tests/integration/pipeline_fixture.hpp"

using namespace ste;
using namespace ste::test;
using namespace std::chrono_literals;

namespace {

/// supervisord running deploy/supervisord/supervisord.conf (one ingester, two evaluators on
/// 127.0.0.1:9101, :8080 and :8081) against the pipeline's database and nats-server.
class Supervisor {
 public:
  explicit Supervisor(Pipeline& p) : p_(p) {
    REQUIRE(::symlink(STE_INGESTER_BIN, (bin_.path() + "/ste-ingester").c_str()) == 0);
    REQUIRE(::symlink(STE_EVALUATOR_BIN, (bin_.path() + "/ste-evaluator").c_str()) == 0);
    env_ = {{"STE_BIN_DIR", bin_.path()},
            {"STE_DATABASE_URL", p.db_url},
            {"STE_NATS_URL", p.nats.url()},
            {"STE_LOG_DIR", dir_.path()},
            {"STE_SUPERVISOR_DIR", dir_.path()}};
    proc_ = std::make_unique<Process>(std::vector<std::string>{"supervisord", "-c", conf_},
                                      dir_.path() + "/out.log", env_);
  }
  ~Supervisor() {
    ctl({"shutdown"});
    proc_->wait_exit(40s);
  }
  /// Runs supervisorctl; returns its output.
  std::string ctl(const std::vector<std::string>& args) {
    std::vector<std::string> argv{"supervisorctl", "-c", conf_};
    argv.insert(argv.end(), args.begin(), args.end());
    const std::string out =
        fmt::format("{}/ctl-{}.out", dir_.path(), ++calls_);  // run_command appends
    run_command(argv, out, 60s, env_);
    return read_file(out);
  }
  static bool ready(int port) {
    httplib::Client c("127.0.0.1", port);
    c.set_connection_timeout(1);
    auto r = c.Get("/readyz");
    return r && r->status == 200;
  }
  bool all_ready() { return ready(9101) && ready(8080) && ready(8081); }
  std::string log_dir() const { return dir_.path(); }
  std::string logs() { return read_file(dir_.path() + "/supervisord.log"); }

 private:
  Pipeline& p_;
  TempDir bin_{"ste-sv-bin-"};
  TempDir dir_{"ste-sv-"};
  std::string conf_ = std::string(STE_SOURCE_DIR) + "/deploy/supervisord/supervisord.conf";
  Process::Env env_;
  std::unique_ptr<Process> proc_;
  int calls_ = 0;
};
}  // namespace

TEST_CASE("Under supervisord a SIGKILLed evaluator is restarted and a stopped group loses nothing",
          "[operations][supervisor]") {
  Pipeline p;
  p.add_rule("above_threshold", 80, "temperature", 15);
  Supervisor sv(p);
  INFO(sv.logs());
  REQUIRE(eventually([&] { return sv.all_ready(); }, 60s, 200ms));

  p.publish("sensors.acme.dev-1", now_reading("temperature", 90));
  REQUIRE(eventually([&] { return p.alerts() == 1; }, 30s));

  // SIGKILL one evaluator: supervisord brings it back and alerts keep firing.
  const int pid = std::stoi(sv.ctl({"pid", "ste:ste-evaluator-0"}));
  REQUIRE(pid > 0);
  REQUIRE(::kill(pid, SIGKILL) == 0);
  std::string last;
  const bool restarted = eventually(
      [&] {
        last = sv.ctl({"pid", "ste:ste-evaluator-0"});
        const int now = std::atoi(last.c_str());
        return now > 0 && now != pid && Supervisor::ready(8080);
      },
      60s, 250ms);
  INFO("supervisorctl pid: " << last << "\nstatus: " << sv.ctl({"status"}) << "\n" << sv.logs());
  REQUIRE(restarted);
  p.publish("sensors.acme.dev-2", now_reading("temperature", 91));
  REQUIRE(eventually([&] { return p.alerts() == 2; }, 30s));

  // SIGTERM the whole group in the middle of a load, start it again: every reading is stored once.
  constexpr int kTotal = 4000;
  std::atomic<int> published{0};
  std::thread publisher([&] {
    NatsSettings s;
    s.urls = p.nats.url();
    NatsClient c(s);
    const TimePoint base = test_base_time();
    for (int i = 0; i < kTotal; i += 10) {
      std::string arr = "[";
      for (int k = 0; k < 10; ++k)
        arr += std::string(k ? "," : "") +
               reading_json("flow", i + k, base + std::chrono::milliseconds{i + k});
      c.js_publish(fmt::format("sensors.acme.meter-{}", (i / 10) % 4), arr + "]");
      published += 10;
      std::this_thread::sleep_for(3ms);
    }
  });
  REQUIRE(eventually(
      [&] {
        return query_count(p.db_url, "SELECT count(*) FROM readings WHERE metric = 'flow'") > 500;
      },
      60s));
  const std::string stopped = sv.ctl({"stop", "ste:*"});
  CHECK(stopped.find("ERROR") == std::string::npos);
  CHECK(sv.ctl({"status"}).find("RUNNING") == std::string::npos);
  sv.ctl({"start", "ste:*"});
  publisher.join();
  REQUIRE(published == kTotal);
  REQUIRE(eventually(
      [&] {
        return query_count(p.db_url, "SELECT count(*) FROM readings WHERE metric = 'flow'") >=
               kTotal;
      },
      120s));
  CHECK(query_count(p.db_url, "SELECT count(*) FROM readings WHERE metric = 'flow'") == kTotal);
  CHECK(std::stoll(query_scalar(p.db_url,
                                "SELECT sum(n) FROM readings_1m WHERE metric = 'flow'")) == kTotal);
}
