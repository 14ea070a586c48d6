#include "common/service_runtime.hpp"

#include <catch2/catch.hpp>
#include <stdexcept>
#include <string>
#include <vector>

TEST_CASE("stop steps run last registered first, each once", "[service_runtime]") {
  ste::ServiceRuntime runtime("test");
  std::vector<std::string> order;
  runtime.on_stop("http", [&] { order.push_back("http"); });
  runtime.on_stop("writers", [&] { order.push_back("writers"); });
  runtime.on_stop("consumer", [&] { order.push_back("consumer"); });
  runtime.stop_all();
  CHECK(order == std::vector<std::string>{"consumer", "writers", "http"});
  runtime.stop_all();  // idempotent: nothing runs twice
  CHECK(order.size() == 3);
}

TEST_CASE("a failing stop step does not skip the others", "[service_runtime]") {
  ste::ServiceRuntime runtime("test");
  std::vector<std::string> order;
  runtime.on_stop("first", [&] { order.push_back("first"); });
  runtime.on_stop("throws", [&] {
    order.push_back("throws");
    throw std::runtime_error("flush failed");
  });
  runtime.on_stop("throws anything", [&] {
    order.push_back("throws anything");
    throw 42;
  });
  REQUIRE_NOTHROW(runtime.stop_all());
  CHECK(order == std::vector<std::string>{"throws anything", "throws", "first"});
}
