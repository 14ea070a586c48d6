#pragma once
/// The operator page (docs/ALERTING.md §8): static files served by the evaluator, GET / =
/// `<dir>/index.html` and GET /static/<file> = `<dir>/static/<file>`, with a Content-Security-
/// Policy that lets the page load only its own scripts and styles and talk only to this origin.
/// The files are read per request (an upgrade shows without a restart).
#include <httplib.h>

#include <filesystem>
#include <string_view>

namespace ste::api {

/// What every page response carries: no inline script or style, no other origin, no framing.
inline constexpr std::string_view kPageCsp =
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/// `<prefix>/share/ste/web` next to the binary (STE_WEB_DIR overrides it).
std::filesystem::path default_web_dir();

/// Serves the page from `dir`. When `dir` has no index.html the page is off: GET / answers 404
/// naming the directory (and STE_WEB_DIR), logged once at start. Returns whether it is served.
bool register_web_routes(httplib::Server& s, const std::filesystem::path& dir);

}  // namespace ste::api
