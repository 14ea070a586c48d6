// The operator page in a real browser (docs/ALERTING.md §8): Node's test runner runs
// tests/browser/*.test.mjs, which drive Debian's headless Chromium through playwright-core,
// against the real ingester, evaluator (serving the page from its default directory, the build
// tree's share/ste/web), nats-server and PostgreSQL started here. The browser tests publish
// readings with the real ste-loadgen. `npm ci` in tests/browser (tests/run.sh) installs
// playwright-core; Chromium comes from Debian (deploy/local/install-deps.sh).
#include <string>

#include "tests/integration/api_client.hpp"
#include "tests/integration/pipeline_fixture.hpp"

using namespace ste;
using namespace ste::test;
using namespace std::chrono_literals;

TEST_CASE("The operator page passes its browser tests against the real services", "[browser]") {
  Pipeline p;
  const std::string other_key = p.create_tenant("other");
  p.start_ingester();
  p.start_evaluator("page", {{"STE_STREAM_KEEPALIVE_S", "2"}});
  const int port = p.evaluators.at("page").port;

  Api api(port);
  auto viewer = api.post("/api/keys", p.api_key, R"({"name":"wallboard","role":"viewer"})");
  REQUIRE(viewer);
  REQUIRE(viewer->status == 201);
  const std::string viewer_key(std::string_view(Json(viewer->body)["key"]));

  const char* shots = std::getenv("STE_SCREENSHOT_DIR");
  const Process::Env env{
      {"STE_PAGE_URL", fmt::format("http://127.0.0.1:{}/", port)},
      {"STE_OPERATOR_KEY", p.api_key},
      {"STE_VIEWER_KEY", viewer_key},
      {"STE_OTHER_KEY", other_key},
      {"STE_LOADGEN_BIN", STE_LOADGEN_BIN},
      {"STE_NATS_URL", p.nats.url()},
      {"STE_SCREENSHOT_DIR", shots != nullptr ? shots : p.logs.path() + "/shots"}};
  const std::string log = p.logs.path() + "/browser.log";
  const int rc = run_command(
      {"node", "--test", "--test-concurrency=1", std::string(STE_SOURCE_DIR) + "/tests/browser/"},
      log, 240s, env);
  INFO(log_tail(log, 20000));
  INFO(log_tail(p.evaluators.at("page").log, 4000));
  CHECK(rc == 0);
  // The runner's own summary: every test ran and none failed (a runner that found no test files
  // would exit 0 with "tests 0").
  const std::string out = read_file(log);
  CHECK(out.find("# fail 0") != std::string::npos);
  CHECK(out.find("# tests 0\n") == std::string::npos);
}
