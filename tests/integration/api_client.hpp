#pragma once
/// A small client for the evaluator's HTTP API in integration tests: requests with an API key,
/// parsed JSON bodies, and the check that an error response has the API's error format.
#include <httplib.h>
#include <simdjson.h>

#include <catch2/catch.hpp>
#include <string>

namespace ste::test {

struct Api {
  explicit Api(int port) : client("127.0.0.1", port) { client.set_read_timeout(10); }
  httplib::Result get(const std::string& path, const std::string& key) {
    return client.Get(path.c_str(), {{"X-API-Key", key}});
  }
  httplib::Result post(const std::string& path, const std::string& key, const std::string& body) {
    return client.Post(path.c_str(), {{"X-API-Key", key}}, body, "application/json");
  }
  httplib::Result put(const std::string& path, const std::string& key, const std::string& body) {
    return client.Put(path.c_str(), {{"X-API-Key", key}}, body, "application/json");
  }
  httplib::Result del(const std::string& path, const std::string& key) {
    return client.Delete(path.c_str(), {{"X-API-Key", key}});
  }
  httplib::Client client;
};

/// Parsed JSON body of a response (owning parser + element).
struct Json {
  explicit Json(const std::string& body) : text(body) {
    REQUIRE(parser.parse(text).get(doc) == simdjson::SUCCESS);
  }
  simdjson::dom::element operator[](const char* k) const { return doc[k]; }
  std::string text;
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
};

inline void check_error(const httplib::Result& r, int status, const std::string& code,
                        const std::string& message_part) {
  REQUIRE(r);
  INFO(r->body);
  CHECK(r->status == status);
  CHECK(r->get_header_value("Content-Type") == "application/json");
  Json j(r->body);
  CHECK(std::string_view(j["error"]["code"]) == code);
  CHECK(std::string(std::string_view(j["error"]["message"])).find(message_part) !=
        std::string::npos);
}

}  // namespace ste::test
