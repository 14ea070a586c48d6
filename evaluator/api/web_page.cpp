#include "evaluator/api/web_page.hpp"

#include <fstream>
#include <sstream>

#include "common/install_paths.hpp"
#include "common/log.hpp"
#include "evaluator/api/api_handlers.hpp"

namespace ste::api {

namespace {
void page_headers(httplib::Response& res) {
  res.set_header("Content-Security-Policy", std::string(kPageCsp));
  res.set_header("X-Content-Type-Options", "nosniff");
  res.set_header("Referrer-Policy", "no-referrer");
  res.set_header("X-Frame-Options", "DENY");
  // Revalidated on every load: after an upgrade the page and its scripts change together.
  res.set_header("Cache-Control", "no-cache");
}
}  // namespace

std::filesystem::path default_web_dir() { return installed_data_dir("web"); }

bool register_web_routes(httplib::Server& s, const std::filesystem::path& dir) {
  const auto index = dir / "index.html";
  std::error_code ec;
  if (!std::filesystem::is_regular_file(index, ec)) {
    log::warn("operator page not served: no index.html in its directory",
              {{"dir", dir.string()}, {"setting", "STE_WEB_DIR"}});
    s.Get("/", [dir](const httplib::Request&, httplib::Response& res) {
      send_error(res, not_found("the operator page is not installed: " + dir.string() +
                                " has no index.html (set STE_WEB_DIR)"));
    });
    return false;
  }
  s.Get("/", [index](const httplib::Request&, httplib::Response& res) {
    std::ifstream in(index, std::ios::binary);
    if (!in.is_open()) {
      send_error(res, {500, "internal", "cannot read " + index.string()});
      return;
    }
    std::ostringstream body;
    body << in.rdbuf();
    page_headers(res);
    res.set_content(body.str(), "text/html; charset=utf-8");
  });
  s.set_mount_point("/static", (dir / "static").string());
  s.set_file_request_handler(
      [](const httplib::Request&, httplib::Response& res) { page_headers(res); });
  log::info("operator page served at /", {{"dir", dir.string()}});
  return true;
}

}  // namespace ste::api
