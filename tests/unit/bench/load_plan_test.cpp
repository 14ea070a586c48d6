#include "bench/loadgen/load_plan.hpp"

#include <simdjson.h>

#include <catch2/catch.hpp>
#include <map>
#include <set>
#include <stdexcept>

#include "common/time_format.hpp"

using namespace ste::loadgen;
using namespace std::chrono_literals;

namespace {

LoadPlanConfig config(std::uint32_t devices, std::uint32_t metrics, std::uint32_t batch,
                      std::optional<std::uint64_t> count) {
  LoadPlanConfig c;
  c.devices = devices;
  c.metrics = default_metric_names(metrics);
  c.batch = batch;
  c.count = count;
  return c;
}

const ste::TimePoint kNow = ste::from_epoch_ms(1'800'000'000'123);

}  // namespace

TEST_CASE("device keys are zero-padded and subjects carry the tenant") {
  CHECK(device_key(0) == "dev-0000");
  CHECK(device_key(42) == "dev-0042");
  CHECK(device_key(123456) == "dev-123456");
  const LoadPlan plan(config(3, 2, 1, 10));
  CHECK(plan.subject_of_device(2) == "sensors.demo.dev-0002");
  CHECK(default_metric_names(3) == std::vector<std::string>{"m0", "m1", "m2"});
}

TEST_CASE("a counted run splits into full messages and one shorter last message") {
  const LoadPlan plan(config(4, 2, 10, 95));
  CHECK(plan.message_count() == 10u);
  CHECK(plan.readings_in_message(0) == 10);
  CHECK(plan.readings_in_message(8) == 10);
  CHECK(plan.readings_in_message(9) == 5);
  CHECK(plan.readings_in_message(10) == 0);
  std::uint64_t total = 0;
  for (std::uint64_t j = 0; j < *plan.message_count(); ++j) total += plan.readings_in_message(j);
  CHECK(total == 95);
}

TEST_CASE("an unbounded run never runs out of messages") {
  const LoadPlan plan(config(4, 2, 3, std::nullopt));
  CHECK_FALSE(plan.message_count().has_value());
  CHECK(plan.readings_in_message(1'000'000'000) == 3);
}

TEST_CASE("every device gets every metric, evenly, whatever the device count and batch") {
  for (std::uint32_t batch : {1u, 3u, 10u}) {
    for (std::uint32_t devices : {1u, 2u, 10u}) {
      const LoadPlan plan(config(devices, 2, batch, std::nullopt));
      std::map<std::pair<std::uint32_t, std::uint32_t>, int> per_series;
      const std::uint64_t n = 2ull * devices * batch * 10;
      for (std::uint64_t i = 0; i < n; ++i) {
        const auto r = plan.reading(i);
        CHECK(r.device == plan.device_of_message(i / batch));
        ++per_series[{r.device, r.metric}];
      }
      INFO("batch " << batch << " devices " << devices);
      CHECK(per_series.size() == devices * 2u);
      for (const auto& [key, c] : per_series) CHECK(c == static_cast<int>(batch * 10));
    }
  }
}

TEST_CASE("normal values stay within [15, 25] and are deterministic") {
  const LoadPlan a(config(7, 3, 1, std::nullopt));
  const LoadPlan b(config(7, 3, 1, std::nullopt));
  double lo = 100, hi = -100;
  for (std::uint64_t i = 0; i < 50'000; ++i) {
    const double v = a.reading(i).value;
    lo = std::min(lo, v);
    hi = std::max(hi, v);
    REQUIRE(v == b.reading(i).value);
  }
  CHECK(lo >= 15.0);
  CHECK(hi <= 25.0);
  CHECK(hi - lo > 5.0);  // it does vary
}

TEST_CASE("every Nth reading is a spike and no other reading is") {
  auto c = config(3, 2, 1, std::nullopt);
  c.spike_every = 5;
  c.spike_value = 999.5;
  const LoadPlan plan(c);
  for (std::uint64_t i = 0; i < 100; ++i) {
    INFO("reading " << i);
    CHECK(plan.is_spike(i) == ((i + 1) % 5 == 0));
    CHECK((plan.reading(i).value == 999.5) == plan.is_spike(i));
  }
  const LoadPlan off(config(3, 2, 1, std::nullopt));
  for (std::uint64_t i = 0; i < 100; ++i) CHECK_FALSE(off.is_spike(i));
}

TEST_CASE("plans the ingester would reject are refused up front") {
  auto bad_tenant = config(1, 1, 1, 1);
  bad_tenant.tenant = "Demo";
  CHECK_THROWS_AS(LoadPlan(bad_tenant), std::invalid_argument);
  CHECK_THROWS_AS(LoadPlan(config(0, 1, 1, 1)), std::invalid_argument);
  CHECK_THROWS_AS(LoadPlan(config(1, 1, 0, 1)), std::invalid_argument);
  CHECK_THROWS_AS(LoadPlan(config(1, 1, 1001, 1)), std::invalid_argument);
  auto bad_metric = config(1, 1, 1, 1);
  bad_metric.metrics = {"temp erature"};
  CHECK_THROWS_AS(LoadPlan(bad_metric), std::invalid_argument);
  auto no_metric = config(1, 1, 1, 1);
  no_metric.metrics.clear();
  CHECK_THROWS_AS(LoadPlan(no_metric), std::invalid_argument);
}

TEST_CASE("timestamps of a series strictly increase even within one millisecond") {
  TimestampSequencer seq(2);
  CHECK(seq.next(0, 1000) == 1000);
  CHECK(seq.next(0, 1000) == 1001);
  CHECK(seq.next(0, 1000) == 1002);
  CHECK(seq.next(1, 1000) == 1000);  // series are independent
  CHECK(seq.max_lead() == 2);
  CHECK(seq.next(0, 1500) == 1500);  // the clock catches up: back to real time
  CHECK(seq.next(0, 1400) == 1501);  // a clock stepping back never repeats a timestamp
  CHECK(seq.max_lead() == 101);
}

TEST_CASE("a single-reading payload is one JSON object with an RFC 3339 ms timestamp") {
  const LoadPlan plan(config(2, 2, 1, 10));
  PayloadBuilder b(plan, TsMode::now, false);
  simdjson::dom::parser parser;
  const std::string first = b.build(0, kNow);
  const simdjson::dom::element e = parser.parse(first);
  REQUIRE(e.is_object());
  CHECK(std::string_view(e["metric"]) == "m0");
  CHECK(double(e["value"]) == plan.reading(0).value);
  CHECK(std::string_view(e["ts"]) == ste::format_rfc3339_ms(kNow));
  CHECK(e["sent_ns"].error() == simdjson::NO_SUCH_FIELD);
  // message 2 is device 0 again, now metric m1; message 4 is device 0, m0, same ms: bumped.
  const std::string m1 = b.build(2, kNow);
  CHECK(std::string_view(parser.parse(m1)["metric"]) == "m1");
  const std::string again = b.build(4, kNow);
  CHECK(std::string_view(parser.parse(again)["ts"]) == ste::format_rfc3339_ms(kNow + 1ms));
}

TEST_CASE("a batched payload is an array of distinct (metric, ts) readings for one device") {
  const LoadPlan plan(config(3, 2, 10, 45));
  PayloadBuilder b(plan, TsMode::epoch_ms, true);
  simdjson::dom::parser parser;
  std::set<std::pair<std::string, std::int64_t>> keys;
  for (std::uint64_t j : {0u, 3u}) {  // both for device 0
    const std::string text = b.build(j, kNow);
    const simdjson::dom::array arr = parser.parse(text);
    CHECK(arr.size() == 10);
    for (const auto r : arr) {
      const std::int64_t ts = r["ts"];
      CHECK(ts >= ste::to_epoch_ms(kNow));
      CHECK(std::int64_t(r["sent_ns"]) == kNow.time_since_epoch().count());
      keys.insert({std::string(std::string_view(r["metric"])), ts});
    }
  }
  CHECK(keys.size() == 20);                   // nothing the storage key would collapse
  const std::string last = b.build(4, kNow);  // readings 40..44: the short last message
  CHECK(simdjson::dom::array(parser.parse(last)).size() == 5);
}

TEST_CASE("without timestamps the payload has no ts field") {
  const LoadPlan plan(config(1, 1, 1, 1));
  PayloadBuilder b(plan, TsMode::absent, false);
  simdjson::dom::parser parser;
  const std::string text = b.build(0, kNow);
  CHECK(parser.parse(text)["ts"].error() == simdjson::NO_SUCH_FIELD);
}

TEST_CASE("pacing sends reading i at i/rate seconds and waits only while ahead") {
  const PacingSchedule p(1000.0);
  CHECK(p.due(0) == 0ns);
  CHECK(p.due(1) == 1ms);
  CHECK(p.due(5000) == 5s);
  CHECK(p.wait_before(10, 4ms) == 6ms);
  CHECK(p.wait_before(10, 10ms) == 0ns);
  CHECK(p.wait_before(10, 50ms) == 0ns);  // behind schedule: send at once, no sleeping
  const PacingSchedule unpaced(0.0);
  CHECK(unpaced.wait_before(1'000'000, 0ns) == 0ns);
  CHECK_THROWS_AS(PacingSchedule(-1.0), std::invalid_argument);
}

TEST_CASE("with a tick, readings due within one tick are released at its start") {
  const PacingSchedule p(10000.0, 1ms);  // reading i due at i * 100 us
  CHECK(p.wait_before(0, 0ns) == 0ns);
  CHECK(p.wait_before(9, 0ns) == 0ns);   // due 0.9 ms: same tick as reading 0
  CHECK(p.wait_before(10, 0ns) == 1ms);  // due 1.0 ms: the next tick
  CHECK(p.wait_before(15, 0ns) == 1ms);  // due 1.5 ms: released with reading 10
  CHECK(p.wait_before(15, 1200us) == 0ns);
  CHECK(p.wait_before(25, 1200us) == 800us);  // due 2.5 ms: tick starting at 2 ms
  CHECK(p.due(15) == 1500us);                 // due times themselves are unchanged
  CHECK_THROWS_AS(PacingSchedule(1.0, -1ns), std::invalid_argument);
}
