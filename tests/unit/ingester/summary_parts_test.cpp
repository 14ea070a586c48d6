// summary_parts_json: a summary cut into parts that each fit NATS's max_payload (#12 item 1).
#include <catch2/catch.hpp>
#include <chrono>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <variant>
#include <vector>

#include "evaluator/evaluation/summary_parser.hpp"
#include "ingester/batch_summary.hpp"

using ste::TimePoint;
using ste::eval::SummaryError;
using ste::eval::SummaryParser;
using ste::ingest::BatchSummary;
using ste::ingest::BufferedReading;
using ste::ingest::build_summary;
using ste::ingest::summary_parts_json;
using ste::ingest::summary_to_json;
using namespace std::chrono_literals;

namespace {

const TimePoint kT0{std::chrono::seconds{1'800'000'000}};

/// `devices` devices × `metrics` metrics, `per_series` readings each.
BatchSummary wide_summary(int devices, int metrics, int per_series = 1) {
  std::vector<BufferedReading> rs;
  for (int d = 0; d < devices; ++d) {
    for (int m = 0; m < metrics; ++m) {
      for (int k = 0; k < per_series; ++k) {
        BufferedReading r;
        r.tenant_id = 1;
        r.device_id = 100 + d;
        r.reading.metric = "tag_" + std::to_string(m);
        r.reading.value = d * 1000.0 + m + k * 0.5;
        r.reading.ts = kT0 + std::chrono::milliseconds{k};
        rs.push_back(std::move(r));
      }
    }
  }
  ste::ingest::DeviceLabels labels;
  for (int d = 0; d < devices; ++d) labels[100 + d] = {"acme", "plc-" + std::to_string(d)};
  return build_summary(rs, "5f0c1d3e-8b7a-4c2e-9f10-0a1b2c3d4e5f", kT0 + 1s, labels);
}

std::vector<BatchSummary> parse_all(const std::vector<std::string>& parts) {
  SummaryParser parser;
  std::vector<BatchSummary> out;
  for (const auto& text : parts) {
    auto r = parser.parse(text);
    if (auto* e = std::get_if<SummaryError>(&r)) FAIL("part does not parse: " << e->message);
    out.push_back(std::get<BatchSummary>(std::move(r)));
  }
  return out;
}

/// The parts, concatenated, are the whole summary: same tuples in the same order, each once.
void check_parts_make_the_whole(const BatchSummary& whole, const std::vector<std::string>& texts,
                                std::size_t budget) {
  const auto parts = parse_all(texts);
  std::size_t next = 0;
  for (std::size_t p = 0; p < parts.size(); ++p) {
    INFO("part " << p + 1);
    CHECK(texts[p].size() <= budget);
    CHECK(parts[p].batch_id == whole.batch_id);
    CHECK(parts[p].flushed_at == whole.flushed_at);
    CHECK(parts[p].part == static_cast<std::int64_t>(p) + 1);
    CHECK(parts[p].parts == static_cast<std::int64_t>(parts.size()));
    std::int64_t readings = 0;
    for (const auto& t : parts[p].tuples) {
      REQUIRE(next < whole.tuples.size());
      const auto& w = whole.tuples[next++];
      CHECK(t.device_id == w.device_id);
      CHECK(t.metric == w.metric);
      CHECK(t.max == w.max);
      CHECK(t.count == w.count);
      readings += t.count;
    }
    CHECK(parts[p].readings == readings);
  }
  CHECK(next == whole.tuples.size());
}

}  // namespace

TEST_CASE("a summary that fits is one part equal to the whole summary", "[summary_parts]") {
  const BatchSummary s = wide_summary(3, 4, 2);
  const auto parts = summary_parts_json(s, 1 << 20);
  REQUIRE(parts.size() == 1);
  CHECK(parts[0] == summary_to_json(s));
  const auto parsed = parse_all(parts);
  CHECK(parsed[0].readings == 24);
  CHECK(parsed[0].part == 1);
  CHECK(parsed[0].parts == 1);
}

TEST_CASE("a 20,000-series batch splits under a 1 MiB budget, tuples whole and in order",
          "[summary_parts]") {
  const BatchSummary s = wide_summary(100, 200);
  REQUIRE(s.tuples.size() == 20000);
  const std::size_t budget = (1u << 20) - 4096;
  REQUIRE(summary_to_json(s).size() > 4 * budget);  // the defect: one text of ~5 MB
  const auto parts = summary_parts_json(s, budget);
  CHECK(parts.size() >= 5);
  CHECK(parts.size() <= 7);
  check_parts_make_the_whole(s, parts, budget);
}

TEST_CASE("every budget from one tuple upwards gives parts under it", "[summary_parts]") {
  const BatchSummary s = wide_summary(3, 5, 3);
  const std::size_t whole = summary_to_json(s).size();
  // The smallest workable budget: the largest one-tuple part.
  std::size_t smallest = 0;
  for (std::size_t i = 0; i < s.tuples.size(); ++i) {
    BatchSummary one = s;
    one.tuples = {s.tuples[i]};
    smallest = std::max(smallest, summary_parts_json(one, 1 << 20)[0].size());
  }
  // The head is sized for the widest part's numbers (readings, part and parts of the whole
  // batch), a few bytes more than a one-tuple summary's own head.
  CHECK_THROWS_AS(summary_parts_json(s, smallest - 1), std::length_error);
  for (std::size_t budget = smallest + 6; budget <= whole + 1; budget += 7) {
    INFO("budget " << budget);
    const auto parts = summary_parts_json(s, budget);
    check_parts_make_the_whole(s, parts, budget);
  }
  CHECK(summary_parts_json(s, whole).size() == 1);  // exactly the whole size: one part
  CHECK(summary_parts_json(s, whole - 1).size() == 2);
}

TEST_CASE("a budget too small for one tuple is refused, not exceeded", "[summary_parts]") {
  const BatchSummary s = wide_summary(1, 2);
  CHECK_THROWS_AS(summary_parts_json(s, 100), std::length_error);
  CHECK_THROWS_AS(summary_parts_json(s, 10), std::length_error);
}

TEST_CASE("an empty summary is one part with no tuples", "[summary_parts]") {
  const BatchSummary s = build_summary({}, "b", kT0);
  const auto parts = summary_parts_json(s, 1024);
  REQUIRE(parts.size() == 1);
  const auto parsed = parse_all(parts);
  CHECK(parsed[0].tuples.empty());
  CHECK(parsed[0].readings == 0);
}
