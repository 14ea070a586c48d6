#include "evaluator/evaluation/summary_parser.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstring>
#include <optional>
#include <utility>

#include "common/time_format.hpp"

namespace ste::eval {

namespace {

namespace od = simdjson::ondemand;
using simdjson::SUCCESS;

constexpr std::string_view kNotJson = "summary is not valid JSON";
constexpr std::size_t kMinBuffer = 64 * 1024;  // most summaries fit without growing

/// ok; the value has the wrong type or form (the field's fault); or the document is broken.
enum class Got { ok, wrong, broken };

Got read_value(od::value& v, od::json_type want, od::json_type& type) {
  if (v.type().get(type) != SUCCESS) return Got::broken;
  return type == want ? Got::ok : Got::wrong;
}

Got read_value(od::value& v, std::string& out) {
  od::json_type type;
  if (auto got = read_value(v, od::json_type::string, type); got != Got::ok) return got;
  std::string_view s;
  if (v.get_string().get(s) != SUCCESS) return Got::wrong;  // e.g. a bad \u escape
  out.assign(s);
  return Got::ok;
}

Got read_value(od::value& v, std::int64_t& out) {
  od::json_type type;
  if (auto got = read_value(v, od::json_type::number, type); got != Got::ok) return got;
  return v.get_int64().get(out) == SUCCESS ? Got::ok : Got::wrong;  // 1.5, 1e3, 2^63
}

Got read_value(od::value& v, double& out) {
  od::json_type type;
  if (auto got = read_value(v, od::json_type::number, type); got != Got::ok) return got;
  return v.get_double().get(out) == SUCCESS ? Got::ok : Got::wrong;  // 1e400
}

Got read_value(od::value& v, TimePoint& out) {
  od::json_type type;
  if (auto got = read_value(v, od::json_type::string, type); got != Got::ok) return got;
  std::string_view s;
  if (v.get_string().get(s) != SUCCESS) return Got::wrong;
  auto t = parse_rfc3339(s);
  if (!t) return Got::wrong;
  out = *t;
  return Got::ok;
}

constexpr std::string_view problem(const std::string&) { return "not a string"; }
constexpr std::string_view problem(const std::int64_t&) { return "not an integer"; }
constexpr std::string_view problem(const double&) { return "not a number"; }
constexpr std::string_view problem(const TimePoint&) { return "not an RFC 3339 timestamp"; }

/// Reads one field into `out`; on failure, an error naming `path`.
template <class T>
std::optional<SummaryError> read_field(od::value& v, T& out, std::string_view path) {
  switch (read_value(v, out)) {
    case Got::ok:
      return std::nullopt;
    case Got::wrong:
      return SummaryError{fmt::format("{}: {}", path, problem(out))};
    case Got::broken:
      break;
  }
  return SummaryError{std::string(kNotJson)};
}

SummaryError missing(std::string_view path) {
  return SummaryError{fmt::format("{}: missing", path)};
}

// A tuple's fields in the order batch_summary.cpp writes them; errors report the first missing.
constexpr std::array<std::string_view, 12> kTupleFields = {
    "tenant_id", "device_id", "tenant", "device", "metric", "last",
    "last_ts",   "min",       "min_ts", "max",    "max_ts", "count"};

std::optional<SummaryError> read_tuple_field(std::size_t i, od::value& v, Tuple& t,
                                             std::string_view path) {
  switch (i) {
    case 0:
      return read_field(v, t.tenant_id, path);
    case 1:
      return read_field(v, t.device_id, path);
    case 2:
      return read_field(v, t.tenant, path);
    case 3:
      return read_field(v, t.device, path);
    case 4:
      return read_field(v, t.metric, path);
    case 5:
      return read_field(v, t.last, path);
    case 6:
      return read_field(v, t.last_ts, path);
    case 7:
      return read_field(v, t.min, path);
    case 8:
      return read_field(v, t.min_ts, path);
    case 9:
      return read_field(v, t.max, path);
    case 10:
      return read_field(v, t.max_ts, path);
    case 11:
      return read_field(v, t.count, path);
    default:
      return std::nullopt;
  }
}

std::optional<SummaryError> read_tuple(od::value& v, std::size_t index, Tuple& t) {
  const std::string prefix = fmt::format("tuples[{}]", index);
  od::json_type type;
  switch (read_value(v, od::json_type::object, type)) {
    case Got::ok:
      break;
    case Got::wrong:
      return SummaryError{fmt::format("{}: not an object", prefix)};
    case Got::broken:
      return SummaryError{std::string(kNotJson)};
  }
  od::object obj;
  if (v.get_object().get(obj) != SUCCESS) return SummaryError{std::string(kNotJson)};
  std::uint32_t seen = 0;
  for (auto f : obj) {
    od::field field;
    std::string_view key;
    if (std::move(f).get(field) != SUCCESS || field.unescaped_key().get(key) != SUCCESS) {
      return SummaryError{std::string(kNotJson)};
    }
    // Unknown keys are skipped, so the ingester can add fields before the evaluator reads them.
    for (std::size_t i = 0; i < kTupleFields.size(); ++i) {
      if (key != kTupleFields[i]) continue;
      od::value value = field.value();
      if (auto err = read_tuple_field(i, value, t, fmt::format("{}.{}", prefix, key))) return err;
      seen |= 1u << i;
      break;
    }
  }
  for (std::size_t i = 0; i < kTupleFields.size(); ++i) {
    if (!(seen & (1u << i))) return missing(fmt::format("{}.{}", prefix, kTupleFields[i]));
  }
  return std::nullopt;
}

std::optional<SummaryError> read_tuples(od::value& v, std::vector<Tuple>& out) {
  od::json_type type;
  switch (read_value(v, od::json_type::array, type)) {
    case Got::ok:
      break;
    case Got::wrong:
      return SummaryError{"tuples: not an array"};
    case Got::broken:
      return SummaryError{std::string(kNotJson)};
  }
  od::array arr;
  if (v.get_array().get(arr) != SUCCESS) return SummaryError{std::string(kNotJson)};
  out.clear();  // a duplicated "tuples" key: the last one wins, as for every other field
  for (auto e : arr) {
    od::value elem;
    if (std::move(e).get(elem) != SUCCESS) return SummaryError{std::string(kNotJson)};
    const std::size_t index = out.size();
    if (auto err = read_tuple(elem, index, out.emplace_back())) return err;
  }
  return std::nullopt;
}

}  // namespace

std::variant<Summary, SummaryError> SummaryParser::parse(std::string_view json) {
  // Messages are not padded: copy into the reused buffer, grown geometrically, and clear the
  // padding, which may hold bytes of an earlier, longer message.
  if (buffer_.data() == nullptr || json.size() > buffer_.size()) {
    buffer_ = simdjson::padded_string(std::max({json.size(), 2 * buffer_.size(), kMinBuffer}));
    if (buffer_.data() == nullptr) return SummaryError{"summary: out of memory"};
  }
  char* const buf = buffer_.data();
  if (!json.empty()) std::memcpy(buf, json.data(), json.size());
  std::memset(buf + json.size(), 0, simdjson::SIMDJSON_PADDING);

  od::document doc;
  if (parser_.iterate(buf, json.size(), buffer_.size() + simdjson::SIMDJSON_PADDING).get(doc) !=
      SUCCESS) {
    return SummaryError{std::string(kNotJson)};
  }
  od::json_type type;
  if (doc.type().get(type) != SUCCESS) return SummaryError{std::string(kNotJson)};
  if (type != od::json_type::object) return SummaryError{"summary: not a JSON object"};
  od::object obj;
  if (doc.get_object().get(obj) != SUCCESS) return SummaryError{std::string(kNotJson)};

  Summary out;
  bool has_batch_id = false, has_flushed_at = false, has_readings = false, has_tuples = false;
  bool has_part = false, has_parts = false;
  for (auto f : obj) {
    od::field field;
    std::string_view key;
    if (std::move(f).get(field) != SUCCESS || field.unescaped_key().get(key) != SUCCESS) {
      return SummaryError{std::string(kNotJson)};
    }
    od::value value = field.value();
    std::optional<SummaryError> err;
    if (key == "batch_id") {
      err = read_field(value, out.batch_id, key);
      has_batch_id = true;
    } else if (key == "flushed_at") {
      err = read_field(value, out.flushed_at, key);
      has_flushed_at = true;
    } else if (key == "readings") {
      err = read_field(value, out.readings, key);
      has_readings = true;
    } else if (key == "tuples") {
      err = read_tuples(value, out.tuples);
      has_tuples = true;
    } else if (key == "part") {
      err = read_field(value, out.part, key);
      has_part = true;
    } else if (key == "parts") {
      err = read_field(value, out.parts, key);
      has_parts = true;
    }
    if (err) return std::move(*err);
  }
  // ondemand reads only what it is asked for: make sure nothing follows the object.
  if (doc.current_location().error() != simdjson::OUT_OF_BOUNDS) {
    return SummaryError{std::string(kNotJson)};
  }
  if (!has_batch_id) return missing("batch_id");
  if (!has_flushed_at) return missing("flushed_at");
  if (!has_readings) return missing("readings");
  if (!has_tuples) return missing("tuples");
  // A split summary names its part; a summary without the fields (older ingesters) is whole.
  if (has_part != has_parts) return missing(has_part ? "parts" : "part");
  if (out.parts < 1) return SummaryError{"parts: must be at least 1"};
  if (out.part < 1 || out.part > out.parts) return SummaryError{"part: must be in 1..parts"};
  return out;
}

}  // namespace ste::eval
