// drop_repeated_keys and apply_stored_values: summaries describe the rows stored (#12 item 3).
#include "ingester/batch_keys.hpp"

#include <catch2/catch.hpp>
#include <chrono>
#include <string>
#include <vector>

using ste::TimePoint;
using ste::ingest::apply_stored_values;
using ste::ingest::BufferedReading;
using ste::ingest::drop_repeated_keys;
using ste::ingest::StoredValue;
using namespace std::chrono_literals;

namespace {

const TimePoint kT0{std::chrono::seconds{1'800'000'000}};

BufferedReading reading(std::int64_t device, std::string metric, double value, TimePoint ts,
                        std::int64_t tenant = 1) {
  BufferedReading r;
  r.tenant_id = tenant;
  r.device_id = device;
  r.reading.metric = std::move(metric);
  r.reading.value = value;
  r.reading.ts = ts;
  return r;
}

std::vector<double> values(const std::vector<BufferedReading>& rs) {
  std::vector<double> out;
  for (const auto& r : rs) out.push_back(r.reading.value);
  return out;
}

}  // namespace

TEST_CASE("a repeated key keeps its first occurrence and the order of the rest", "[batch_keys]") {
  std::vector<BufferedReading> rs = {
      reading(10, "temperature", 20, kT0),    reading(10, "temperature", 21, kT0 + 1s),
      reading(10, "temperature", 95, kT0),    reading(11, "temperature", 30, kT0),
      reading(10, "humidity", 40, kT0),       reading(10, "temperature", 96, kT0 + 1s),
      reading(10, "temperature", 97, kT0, 2),  // another tenant: another key
  };
  CHECK(drop_repeated_keys(rs) == 2);
  CHECK(values(rs) == std::vector<double>{20, 21, 30, 40, 97});
}

TEST_CASE("keys compare at the stored precision, microseconds", "[batch_keys]") {
  std::vector<BufferedReading> rs = {reading(10, "t", 1, kT0 + 1us),
                                     reading(10, "t", 2, kT0 + 1us + 300ns),
                                     reading(10, "t", 3, kT0 + 2us)};
  CHECK(drop_repeated_keys(rs) == 1);
  CHECK(values(rs) == std::vector<double>{1, 3});
}

TEST_CASE("a batch without repeats is left as it is", "[batch_keys]") {
  std::vector<BufferedReading> rs;
  for (int i = 0; i < 1000; ++i) rs.push_back(reading(i % 7, "m" + std::to_string(i % 13), i, kT0));
  // (i % 7, i % 13) repeats only after 91 readings, so use distinct timestamps too.
  for (int i = 0; i < 1000; ++i) rs[static_cast<size_t>(i)].reading.ts = kT0 + i * 1ms;
  const auto before = values(rs);
  CHECK(drop_repeated_keys(rs) == 0);
  CHECK(values(rs) == before);
  std::vector<BufferedReading> empty;
  CHECK(drop_repeated_keys(empty) == 0);
}

TEST_CASE("long metric names survive being moved while deduplicated", "[batch_keys]") {
  const std::string long_name(100, 'x');  // beyond the small-string buffer
  std::vector<BufferedReading> rs = {reading(1, "a", 1, kT0), reading(1, "a", 2, kT0),
                                     reading(1, long_name, 3, kT0), reading(1, long_name, 4, kT0),
                                     reading(1, long_name, 5, kT0 + 1s)};
  CHECK(drop_repeated_keys(rs) == 2);
  CHECK(values(rs) == std::vector<double>{1, 3, 5});
  CHECK(rs[1].reading.metric == long_name);
}

TEST_CASE("stored values replace the batch's values for their keys only", "[batch_keys]") {
  std::vector<BufferedReading> rs = {reading(10, "temperature", 95, kT0),
                                     reading(10, "temperature", 96, kT0 + 1s),
                                     reading(11, "temperature", 97, kT0)};
  const std::vector<StoredValue> stored = {
      {1, 10, "temperature", ste::to_epoch_us(kT0), 20},
      {1, 12, "temperature", ste::to_epoch_us(kT0), 50},  // not in the batch: ignored
  };
  CHECK(apply_stored_values(rs, stored) == 1);
  CHECK(values(rs) == std::vector<double>{20, 96, 97});
  CHECK(apply_stored_values(rs, {}) == 0);
}

TEST_CASE("every reading of a key repeated in the batch takes the stored value, then one stays",
          "[batch_keys]") {
  // What the flusher does after a write that kept the first of two readings of one key.
  std::vector<BufferedReading> rs = {reading(1, "a", 20, kT0), reading(1, "b", 5, kT0),
                                     reading(1, "a", 95, kT0)};
  const std::vector<StoredValue> stored = {{1, 1, "a", ste::to_epoch_us(kT0), 20}};
  CHECK(apply_stored_values(rs, stored) == 1);
  CHECK(values(rs) == std::vector<double>{20, 5, 20});
  CHECK(drop_repeated_keys(rs) == 1);
  CHECK(values(rs) == std::vector<double>{20, 5});
}
