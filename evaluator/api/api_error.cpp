#include "evaluator/api/api_error.hpp"

#include "common/json_writer.hpp"

namespace ste::api {

std::string error_json(const ApiError& e) {
  JsonWriter w;
  w.begin_object().key("error").begin_object();
  w.field("code", e.code).field("message", e.message);
  w.end_object().end_object();
  return w.take();
}

}  // namespace ste::api
