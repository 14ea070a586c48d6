#include "ingester/batch_summary.hpp"

#include <simdjson.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/clock.hpp"
#include "common/time_format.hpp"

using ste::TimePoint;
using ste::ingest::BatchSummary;
using ste::ingest::BufferedReading;
using ste::ingest::build_summary;
using ste::ingest::summary_to_json;
using ste::ingest::SummaryTuple;
using namespace std::chrono_literals;

namespace {

const TimePoint kT0{std::chrono::seconds{1'800'000'000}};

BufferedReading reading(std::int64_t tenant, std::int64_t device, std::string metric, double value,
                        TimePoint ts) {
  BufferedReading r;
  r.tenant_id = tenant;
  r.device_id = device;
  r.reading.metric = std::move(metric);
  r.reading.value = value;
  r.reading.ts = ts;
  return r;
}

const SummaryTuple* find_tuple(const BatchSummary& s, std::int64_t tenant, std::int64_t device,
                               std::string_view metric) {
  for (const auto& t : s.tuples) {
    if (t.tenant_id == tenant && t.device_id == device && t.metric == metric) return &t;
  }
  return nullptr;
}

TimePoint parse_ts(simdjson::dom::element e) {
  std::string_view text;
  REQUIRE(e.get_string().get(text) == simdjson::SUCCESS);
  const auto t = ste::parse_rfc3339(text);
  REQUIRE(t.has_value());
  return *t;
}

}  // namespace

TEST_CASE("the summary has one tuple per tenant, device and metric", "[batch_summary]") {
  const std::vector<BufferedReading> rs = {
      reading(1, 10, "temperature", 20, kT0),      reading(1, 10, "humidity", 40, kT0),
      reading(1, 11, "temperature", 21, kT0),      reading(2, 10, "temperature", 22, kT0),
      reading(1, 10, "temperature", 23, kT0 + 1s), reading(1, 10, "humidity", 41, kT0 + 1s),
  };
  const auto s = build_summary(rs, "b-1", kT0 + 5s);

  CHECK(s.tuples.size() == 4);
  CHECK(s.readings == 6);
  CHECK(s.batch_id == "b-1");
  CHECK(s.flushed_at == kT0 + 5s);
  const auto* t = find_tuple(s, 1, 10, "temperature");
  REQUIRE(t != nullptr);
  CHECK(t->count == 2);
  REQUIRE(find_tuple(s, 1, 10, "humidity") != nullptr);
  CHECK(find_tuple(s, 1, 10, "humidity")->count == 2);
  REQUIRE(find_tuple(s, 1, 11, "temperature") != nullptr);
  CHECK(find_tuple(s, 1, 11, "temperature")->count == 1);
  REQUIRE(find_tuple(s, 2, 10, "temperature") != nullptr);
  CHECK(find_tuple(s, 2, 10, "temperature")->count == 1);
}

TEST_CASE("a tuple carries min, max and last with the timestamps they were read at",
          "[batch_summary]") {
  const std::vector<BufferedReading> rs = {
      reading(1, 1, "t", 20.0, kT0),
      reading(1, 1, "t", 18.5, kT0 + 1s),
      reading(1, 1, "t", 25.25, kT0 + 2s),
      reading(1, 1, "t", 21.0, kT0 + 3s),
  };
  const auto s = build_summary(rs, "b", kT0);
  REQUIRE(s.tuples.size() == 1);
  const auto& t = s.tuples[0];
  CHECK(t.min == 18.5);
  CHECK(t.min_ts == kT0 + 1s);
  CHECK(t.max == 25.25);
  CHECK(t.max_ts == kT0 + 2s);
  CHECK(t.last == 21.0);
  CHECK(t.last_ts == kT0 + 3s);
  CHECK(t.count == 4);
}

TEST_CASE("a spike followed by a normal reading keeps the spike as the tuple's max",
          "[batch_summary]") {
  const std::vector<BufferedReading> rs = {
      reading(1, 1, "pressure", 1.0, kT0), reading(1, 1, "pressure", 99.0, kT0 + 1s),  // spike
      reading(1, 1, "pressure", 1.1, kT0 + 2s),  // back to normal
  };
  const auto s = build_summary(rs, "b", kT0);
  REQUIRE(s.tuples.size() == 1);
  CHECK(s.tuples[0].max == 99.0);
  CHECK(s.tuples[0].max_ts == kT0 + 1s);
  CHECK(s.tuples[0].last == 1.1);
  CHECK(s.tuples[0].min == 1.0);
}

TEST_CASE("last is the reading with the latest timestamp even when readings arrive out of order",
          "[batch_summary]") {
  const std::vector<BufferedReading> rs = {
      reading(1, 1, "t", 5.0, kT0 + 10s),
      reading(1, 1, "t", 7.0, kT0 + 2s),  // arrives later, but is older
      reading(1, 1, "t", 6.0, kT0 + 5s),
  };
  const auto s = build_summary(rs, "b", kT0);
  REQUIRE(s.tuples.size() == 1);
  CHECK(s.tuples[0].last == 5.0);
  CHECK(s.tuples[0].last_ts == kT0 + 10s);
}

TEST_CASE("on equal timestamps last is the later reading in the batch, min and max the first",
          "[batch_summary]") {
  const std::vector<BufferedReading> rs = {
      reading(1, 1, "t", 3.0, kT0 + 1s),
      reading(1, 1, "t", 3.0, kT0 + 2s),  // same max/min value, later ts
      reading(1, 1, "t", 4.0, kT0 + 1s),  // ties with first ts
      reading(1, 1, "t", 4.0, kT0 + 3s),
      reading(1, 1, "t", 8.0, kT0 + 3s),  // same ts as previous, later in batch
  };
  const auto s = build_summary(rs, "b", kT0);
  REQUIRE(s.tuples.size() == 1);
  const auto& t = s.tuples[0];
  CHECK(t.last == 8.0);
  CHECK(t.last_ts == kT0 + 3s);
  CHECK(t.min == 3.0);
  CHECK(t.min_ts == kT0 + 1s);  // first occurrence of the min
  CHECK(t.max == 8.0);
  CHECK(t.count == 5);
}

TEST_CASE("a single reading is its own min, max and last", "[batch_summary]") {
  const auto s = build_summary({reading(3, 4, "v", -2.5, kT0 + 123us)}, "b", kT0);
  REQUIRE(s.tuples.size() == 1);
  const auto& t = s.tuples[0];
  CHECK(t.tenant_id == 3);
  CHECK(t.device_id == 4);
  CHECK(t.metric == "v");
  CHECK(t.min == -2.5);
  CHECK(t.max == -2.5);
  CHECK(t.last == -2.5);
  CHECK(t.min_ts == kT0 + 123us);
  CHECK(t.max_ts == kT0 + 123us);
  CHECK(t.last_ts == kT0 + 123us);
  CHECK(t.count == 1);
}

TEST_CASE("tuples are ordered by tenant, then device, then metric", "[batch_summary]") {
  const std::vector<BufferedReading> rs = {
      reading(2, 1, "a", 0, kT0),  reading(1, 2, "b", 0, kT0), reading(1, 2, "a", 0, kT0),
      reading(1, 10, "a", 0, kT0), reading(1, 1, "z", 0, kT0),
  };
  const auto s = build_summary(rs, "b", kT0);
  REQUIRE(s.tuples.size() == 5);
  CHECK((s.tuples[0].tenant_id == 1 && s.tuples[0].device_id == 1 && s.tuples[0].metric == "z"));
  CHECK((s.tuples[1].tenant_id == 1 && s.tuples[1].device_id == 2 && s.tuples[1].metric == "a"));
  CHECK((s.tuples[2].tenant_id == 1 && s.tuples[2].device_id == 2 && s.tuples[2].metric == "b"));
  CHECK((s.tuples[3].tenant_id == 1 && s.tuples[3].device_id == 10 && s.tuples[3].metric == "a"));
  CHECK((s.tuples[4].tenant_id == 2 && s.tuples[4].device_id == 1 && s.tuples[4].metric == "a"));
}

TEST_CASE("an empty batch summarises to no tuples and zero readings", "[batch_summary]") {
  const auto s = build_summary({}, "empty", kT0);
  CHECK(s.tuples.empty());
  CHECK(s.readings == 0);
  CHECK(s.batch_id == "empty");
}

TEST_CASE("the summary JSON has the contract's fields with microsecond timestamps",
          "[batch_summary][json]") {
  const std::vector<BufferedReading> rs = {
      reading(7, 42, "temperature", 20.9, kT0 + 123456us),
      reading(7, 42, "temperature", 23.0, kT0 + 1s + 654321us),
      reading(7, 42, "temperature", 21.5, kT0 + 2s + 1us),
      reading(8, 1, "hum\"idity", 40, kT0),
  };
  const TimePoint flushed = kT0 + 3s + 250ms;
  const std::string json = summary_to_json(build_summary(rs, "0b6a3c4e-uuid", flushed));

  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  REQUIRE(parser.parse(json).get(doc) == simdjson::SUCCESS);

  std::string_view batch_id;
  REQUIRE(doc["batch_id"].get_string().get(batch_id) == simdjson::SUCCESS);
  CHECK(batch_id == "0b6a3c4e-uuid");
  CHECK(parse_ts(doc["flushed_at"].value()) == flushed);
  std::int64_t n = 0;
  REQUIRE(doc["readings"].get_int64().get(n) == simdjson::SUCCESS);
  CHECK(n == 4);

  simdjson::dom::array tuples;
  REQUIRE(doc["tuples"].get_array().get(tuples) == simdjson::SUCCESS);
  REQUIRE(tuples.size() == 2);

  simdjson::dom::element t = tuples.at(0).value();
  std::int64_t tenant = 0, device = 0, count = 0;
  REQUIRE(t["tenant_id"].get_int64().get(tenant) == simdjson::SUCCESS);
  REQUIRE(t["device_id"].get_int64().get(device) == simdjson::SUCCESS);
  REQUIRE(t["count"].get_int64().get(count) == simdjson::SUCCESS);
  CHECK(tenant == 7);
  CHECK(device == 42);
  CHECK(count == 3);
  std::string_view metric;
  REQUIRE(t["metric"].get_string().get(metric) == simdjson::SUCCESS);
  CHECK(metric == "temperature");
  double last = 0, min = 0, max = 0;
  REQUIRE(t["last"].get_double().get(last) == simdjson::SUCCESS);
  REQUIRE(t["min"].get_double().get(min) == simdjson::SUCCESS);
  REQUIRE(t["max"].get_double().get(max) == simdjson::SUCCESS);
  CHECK(last == 21.5);
  CHECK(min == 20.9);
  CHECK(max == 23.0);
  // Microseconds survive the trip exactly (the evaluator locates the reading's own minute).
  CHECK(parse_ts(t["last_ts"].value()) == kT0 + 2s + 1us);
  CHECK(parse_ts(t["min_ts"].value()) == kT0 + 123456us);
  CHECK(parse_ts(t["max_ts"].value()) == kT0 + 1s + 654321us);
  std::string_view max_ts_text;
  REQUIRE(t["max_ts"].get_string().get(max_ts_text) == simdjson::SUCCESS);
  CHECK(max_ts_text == "2027-01-15T08:00:01.654321Z");

  simdjson::dom::element t2 = tuples.at(1).value();
  std::string_view metric2;
  REQUIRE(t2["metric"].get_string().get(metric2) == simdjson::SUCCESS);
  CHECK(metric2 == "hum\"idity");
}

TEST_CASE("an empty summary serialises an empty tuples array", "[batch_summary][json]") {
  const std::string json = summary_to_json(build_summary({}, "b", kT0));
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  REQUIRE(parser.parse(json).get(doc) == simdjson::SUCCESS);
  simdjson::dom::array tuples;
  REQUIRE(doc["tuples"].get_array().get(tuples) == simdjson::SUCCESS);
  CHECK(tuples.size() == 0);
  std::int64_t n = -1;
  REQUIRE(doc["readings"].get_int64().get(n) == simdjson::SUCCESS);
  CHECK(n == 0);
}
