// docs/openapi.yaml and api_routes() agree: every route the server registers is documented with
// its method, and the document describes no route the server does not register.
#include <catch2/catch.hpp>
#include <cctype>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <utility>

#include "evaluator/api/api_server.hpp"

namespace {

/// (METHOD, path template), e.g. ("GET", "/api/rules/{id}").
using Operation = std::pair<std::string, std::string>;

std::string uppercase(std::string s) {
  for (char& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return s;
}

/// The operations under `paths:` of an OpenAPI document, read line by line instead of with a
/// YAML library. A path is a key indented by exactly two spaces (`  /api/rules/{id}:`); its
/// operations are HTTP-method keys indented by exactly four (`    get:`) until the next
/// two-space key. The section ends at the next unindented key. Blank and comment lines are
/// skipped; deeper lines (parameters, responses, descriptions) are ignored.
std::set<Operation> documented_operations(std::istream& in) {
  static const std::set<std::string> kMethods{"get",  "put",     "post",  "delete",
                                              "head", "options", "patch", "trace"};
  std::set<Operation> ops;
  bool in_paths = false;
  std::string path;  // the current path key; empty before the first one
  for (std::string line; std::getline(in, line);) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    const std::size_t indent = line.find_first_not_of(' ');
    if (indent == std::string::npos || line[indent] == '#') continue;
    if (indent == 0) {
      in_paths = line == "paths:";
      path.clear();
      continue;
    }
    if (!in_paths || line.back() != ':') continue;
    const std::string key = line.substr(indent, line.size() - indent - 1);
    if (indent == 2) {
      path = key;
    } else if (indent == 4 && !path.empty() && kMethods.contains(key)) {
      ops.emplace(uppercase(key), path);
    }
  }
  return ops;
}

std::set<Operation> documented_operations() {
  std::ifstream in(STE_SOURCE_DIR "/docs/openapi.yaml");
  REQUIRE(in.is_open());
  return documented_operations(in);
}

std::set<Operation> registered_operations() {
  std::set<Operation> ops;
  for (const auto& r : ste::api::api_routes()) ops.emplace(r.method, r.path);
  return ops;
}

}  // namespace

TEST_CASE("the openapi reader finds path and method keys only under paths:", "[api][openapi]") {
  std::istringstream doc(
      "openapi: 3.0.3\n"
      "info:\n"
      "  /not/a/path:\n"
      "    get:\n"
      "paths:\n"
      "  /api/rules:\n"
      "    get:\n"
      "      parameters:\n"
      "        - name: limit\n"
      "\n"
      "    # a comment\n"
      "    post:\n"
      "  /api/rules/{id}:\n"
      "    parameters:\n"
      "    delete:\n"
      "      responses:\n"
      "        put:\n"
      "components:\n"
      "  schemas:\n"
      "    get:\n");
  const std::set<Operation> expected{
      {"GET", "/api/rules"}, {"POST", "/api/rules"}, {"DELETE", "/api/rules/{id}"}};
  CHECK(documented_operations(doc) == expected);
}

TEST_CASE("every route the server registers appears in docs/openapi.yaml with its method",
          "[api][openapi]") {
  const auto documented = documented_operations();
  for (const auto& [method, path] : registered_operations()) {
    INFO(method << " " << path << " is registered by api_routes() but not in docs/openapi.yaml");
    CHECK(documented.contains({method, path}));
  }
}

TEST_CASE("every route docs/openapi.yaml describes is registered by the server", "[api][openapi]") {
  const auto registered = registered_operations();
  const auto documented = documented_operations();
  CHECK_FALSE(documented.empty());
  for (const auto& [method, path] : documented) {
    INFO(method << " " << path << " is in docs/openapi.yaml but not registered by api_routes()");
    CHECK(registered.contains({method, path}));
  }
}
