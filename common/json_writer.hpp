#pragma once
/// Builds JSON text. simdjson only parses, so output (log lines, NATS payloads, API bodies) is
/// written here, with RFC 8259 string escaping and finite-number checks in one place.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace ste {

/// Appends `s` to `out` as a quoted, escaped JSON string. Invalid UTF-8 bytes become U+FFFD so
/// the output is always valid JSON, whatever a device sent.
void append_json_string(std::string& out, std::string_view s);

/// Streaming writer for one JSON value. Not thread-safe; cheap to create.
/// Commas are inserted automatically; keys are only valid inside objects.
class JsonWriter {
 public:
  JsonWriter& begin_object();
  JsonWriter& end_object();
  JsonWriter& begin_array();
  JsonWriter& end_array();
  JsonWriter& key(std::string_view k);
  JsonWriter& value(std::string_view s);
  JsonWriter& value(const char* s) { return value(std::string_view{s}); }
  JsonWriter& value(const std::string& s) { return value(std::string_view{s}); }
  JsonWriter& value(double d);  ///< non-finite values are written as null
  JsonWriter& value(std::int64_t i);
  JsonWriter& value(int i) { return value(static_cast<std::int64_t>(i)); }
  JsonWriter& value(std::uint64_t u);
  JsonWriter& value(bool b);
  JsonWriter& null();
  JsonWriter& raw(std::string_view json);  ///< inserts already-valid JSON text
  template <class T>
  JsonWriter& value(const std::optional<T>& v) {
    return v ? value(*v) : null();
  }
  template <class T>
  JsonWriter& field(std::string_view k, const T& v) {
    key(k);
    return value(v);
  }

  const std::string& str() const { return out_; }
  std::string take() { return std::move(out_); }

 private:
  void before_value();
  std::string out_;
  bool need_comma_ = false;
};

}  // namespace ste
