#pragma once
/// Reading a Parsed<T> (evaluator/api/api_error.hpp) in unit tests: the value, or the error.
#include <catch2/catch.hpp>
#include <variant>

#include "evaluator/api/api_error.hpp"

namespace ste::testing {

/// The parsed value; a parse error fails the check and names its code and message. Copies, so
/// the result may outlive the temporary Parsed it came from.
template <class T>
T ok(const api::Parsed<T>& p) {
  if (const auto* e = std::get_if<api::ApiError>(&p)) FAIL_CHECK(e->code << ": " << e->message);
  REQUIRE(std::holds_alternative<T>(p));
  return std::get<T>(p);
}

/// The parse error; a parsed value fails the test.
template <class T>
api::ApiError error(const api::Parsed<T>& p) {
  REQUIRE(std::holds_alternative<api::ApiError>(p));
  return std::get<api::ApiError>(p);
}

}  // namespace ste::testing
