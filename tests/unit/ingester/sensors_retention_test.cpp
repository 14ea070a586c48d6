// Which retention a new SENSORS stream gets and whether the ingester trims it: limits only where
// the server's purge keeps unacked deliveries, never silently on a server where it would not.
#include "ingester/sensors_retention.hpp"

#include <catch2/catch.hpp>

using ste::StreamRetention;
using namespace ste::ingest;

namespace {
const PurgeSafety kSafe{true, "kept 1 of 1"};
const PurgeSafety kUnsafe{false, "kept 0 of 1"};
}  // namespace

TEST_CASE("The values of --sensors-retention parse and print back", "[retention]") {
  CHECK(parse_retention_request("auto") == RetentionRequest::automatic);
  CHECK(parse_retention_request("limits") == RetentionRequest::limits);
  CHECK(parse_retention_request("work-queue") == RetentionRequest::work_queue);
  CHECK(parse_retention_request("work_queue") == RetentionRequest::work_queue);
  CHECK_FALSE(parse_retention_request("interest"));
  CHECK_FALSE(parse_retention_request(""));
  for (auto r :
       {RetentionRequest::automatic, RetentionRequest::limits, RetentionRequest::work_queue}) {
    CHECK(parse_retention_request(retention_request_name(r)) == r);
  }
}

TEST_CASE("auto chooses limits only where a purge keeps unacked deliveries", "[retention]") {
  CHECK(decide_sensors_retention(RetentionRequest::automatic, kSafe).create_with ==
        StreamRetention::limits);
  const auto unsafe = decide_sensors_retention(RetentionRequest::automatic, kUnsafe);
  CHECK(unsafe.create_with == StreamRetention::work_queue);
  CHECK(unsafe.error.empty());
}

TEST_CASE("limits asked for on an unsafe server is refused with the reason and the way out",
          "[retention]") {
  CHECK(decide_sensors_retention(RetentionRequest::limits, kSafe).create_with ==
        StreamRetention::limits);
  CHECK(decide_sensors_retention(RetentionRequest::limits, kSafe).error.empty());
  const auto refused = decide_sensors_retention(RetentionRequest::limits, kUnsafe);
  CHECK_THAT(refused.error, Catch::Contains("2.9.15") && Catch::Contains("kept 0 of 1") &&
                                Catch::Contains("work-queue"));
}

TEST_CASE("work-queue is honoured whatever the server does", "[retention]") {
  for (const auto& safety : {kSafe, kUnsafe}) {
    const auto d = decide_sensors_retention(RetentionRequest::work_queue, safety);
    CHECK(d.create_with == StreamRetention::work_queue);
    CHECK(d.error.empty());
  }
}

TEST_CASE("only a limits stream on a safe server is trimmed", "[retention]") {
  CHECK(should_trim(StreamRetention::limits, kSafe));
  // An existing limits stream on a server whose purge drops unacked deliveries: not trimmed.
  CHECK_FALSE(should_trim(StreamRetention::limits, kUnsafe));
  CHECK_FALSE(should_trim(StreamRetention::work_queue, kSafe));
  CHECK_FALSE(should_trim(StreamRetention::work_queue, kUnsafe));
}
