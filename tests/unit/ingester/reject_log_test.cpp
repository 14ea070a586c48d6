#include "ingester/reject_log.hpp"

#include <catch2/catch.hpp>
#include <chrono>
#include <cstdint>
#include <optional>

#include "common/clock.hpp"
#include "ingester/reject_reason.hpp"

using ste::TimePoint;
using ste::ingest::RejectLog;
using ste::ingest::RejectReason;
using namespace std::chrono_literals;

namespace {
const TimePoint kT0{std::chrono::seconds{1'800'000'000}};
using Admitted = std::optional<std::uint64_t>;
}  // namespace

TEST_CASE("the first rejection of a reason is logged with nothing suppressed", "[reject_log]") {
  RejectLog log(1s);
  CHECK(log.admit(RejectReason::invalid_json, kT0) == Admitted{0});
}

TEST_CASE("further rejections of a reason within the interval are suppressed", "[reject_log]") {
  RejectLog log(1s);
  REQUIRE(log.admit(RejectReason::invalid_json, kT0) == Admitted{0});
  CHECK_FALSE(log.admit(RejectReason::invalid_json, kT0).has_value());
  CHECK_FALSE(log.admit(RejectReason::invalid_json, kT0 + 500ms).has_value());
  CHECK_FALSE(log.admit(RejectReason::invalid_json, kT0 + 999ms).has_value());
}

TEST_CASE("after the interval a rejection is logged with the count suppressed since the last line",
          "[reject_log]") {
  RejectLog log(1s);
  REQUIRE(log.admit(RejectReason::too_large, kT0) == Admitted{0});
  for (int i = 0; i < 7; ++i) REQUIRE_FALSE(log.admit(RejectReason::too_large, kT0 + 10ms * i));

  CHECK(log.admit(RejectReason::too_large, kT0 + 1s) == Admitted{7});

  // The count restarts, and the interval is measured from the latest logged line.
  CHECK_FALSE(log.admit(RejectReason::too_large, kT0 + 1s + 999ms).has_value());
  CHECK(log.admit(RejectReason::too_large, kT0 + 2s) == Admitted{1});
  CHECK(log.admit(RejectReason::too_large, kT0 + 10s) == Admitted{0});
}

TEST_CASE("each reason is rate-limited independently of the others", "[reject_log]") {
  RejectLog log(1s);
  CHECK(log.admit(RejectReason::invalid_json, kT0) == Admitted{0});
  CHECK(log.admit(RejectReason::unknown_tenant, kT0) == Admitted{0});
  CHECK_FALSE(log.admit(RejectReason::invalid_json, kT0 + 1ms).has_value());
  CHECK_FALSE(log.admit(RejectReason::invalid_json, kT0 + 2ms).has_value());
  CHECK_FALSE(log.admit(RejectReason::unknown_tenant, kT0 + 3ms).has_value());
  CHECK(log.admit(RejectReason::invalid_unit, kT0 + 4ms) == Admitted{0});

  CHECK(log.admit(RejectReason::invalid_json, kT0 + 1s) == Admitted{2});
  CHECK(log.admit(RejectReason::unknown_tenant, kT0 + 1s) == Admitted{1});
}

TEST_CASE("every reject reason, including the first and last, has its own slot", "[reject_log]") {
  RejectLog log(1s);
  for (const auto reason : ste::ingest::kAllRejectReasons) {
    CHECK(log.admit(reason, kT0) == Admitted{0});
  }
  for (const auto reason : ste::ingest::kAllRejectReasons) {
    CHECK_FALSE(log.admit(reason, kT0).has_value());
  }
}

TEST_CASE("the interval is configurable", "[reject_log]") {
  RejectLog log(10s);
  REQUIRE(log.admit(RejectReason::future_ts, kT0) == Admitted{0});
  CHECK_FALSE(log.admit(RejectReason::future_ts, kT0 + 9s).has_value());
  CHECK(log.admit(RejectReason::future_ts, kT0 + 10s) == Admitted{1});
}
