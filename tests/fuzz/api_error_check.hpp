#pragma once
/// The error contract the API body fuzzers check: 400 malformed_json for a broken document, or
/// 422 invalid_field / unknown_field, each with a message; an unknown field's message names it.
#include "evaluator/api/api_error.hpp"
#include "tests/fuzz/fuzz_support.hpp"

namespace ste::fuzz {

inline void check_api_error(const api::ApiError& e) {
  EXPECT(!e.message.empty());
  if (e.status == 400) {
    EXPECT(e.code == "malformed_json");
  } else {
    EXPECT(e.status == 422);
    EXPECT(e.code == "invalid_field" || e.code == "unknown_field");
    if (e.code == "unknown_field") EXPECT(e.message.rfind("unknown field '", 0) == 0);
  }
}

}  // namespace ste::fuzz
