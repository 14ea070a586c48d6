#include "ingester/device_registry.hpp"

#include <catch2/catch.hpp>
#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>

#include "common/clock.hpp"

using ste::ManualClock;
using ste::TimePoint;
using ste::ingest::DeviceRegistry;
using ste::ingest::NewDeviceLimiter;
using namespace std::chrono_literals;

namespace {

// 2027-01-15T08:00:00Z, exactly on a minute boundary.
const TimePoint kMinuteStart{std::chrono::seconds{1'800'000'000}};

/// Stands in for the devices table: counts find/create calls and can be told to fail.
struct FakeDevices {
  std::map<std::pair<std::int64_t, std::string>, std::int64_t> rows;
  int finds = 0;
  int creates = 0;
  std::int64_t next_id = 1000;
  bool fail_find = false;
  bool fail_create = false;

  DeviceRegistry::Find find() {
    return [this](std::int64_t tenant, const std::string& key) -> std::optional<std::int64_t> {
      ++finds;
      if (fail_find) throw std::runtime_error("find failed");
      auto it = rows.find({tenant, key});
      if (it == rows.end()) return std::nullopt;
      return it->second;
    };
  }
  DeviceRegistry::Create create() {
    return [this](std::int64_t tenant, const std::string& key) -> std::int64_t {
      ++creates;
      if (fail_create) throw std::runtime_error("create failed");
      const auto id = next_id++;
      rows[{tenant, key}] = id;
      return id;
    };
  }
};

}  // namespace

TEST_CASE("the new-device limiter allows at most the cap per tenant per minute",
          "[device_registry][limiter]") {
  NewDeviceLimiter limiter(3);
  const TimePoint t = kMinuteStart + 10s;
  CHECK(limiter.try_acquire(1, t));
  CHECK(limiter.try_acquire(1, t + 1s));
  CHECK(limiter.try_acquire(1, t + 2s));
  CHECK_FALSE(limiter.try_acquire(1, t + 3s));
  CHECK_FALSE(limiter.try_acquire(1, kMinuteStart + 59s + 999ms));
}

TEST_CASE("the new-device limiter resets on the next clock minute boundary",
          "[device_registry][limiter]") {
  NewDeviceLimiter limiter(2);
  CHECK(limiter.try_acquire(1, kMinuteStart + 58s));
  CHECK(limiter.try_acquire(1, kMinuteStart + 59s));
  CHECK_FALSE(limiter.try_acquire(1, kMinuteStart + 59s + 999ms));
  // Two seconds after the first use, but a new clock minute: a fresh window.
  CHECK(limiter.try_acquire(1, kMinuteStart + 60s));
  CHECK(limiter.try_acquire(1, kMinuteStart + 61s));
  CHECK_FALSE(limiter.try_acquire(1, kMinuteStart + 62s));
}

TEST_CASE("the new-device limiter window is aligned to clock minutes, not to its first use",
          "[device_registry][limiter]") {
  NewDeviceLimiter limiter(1);
  // First use at :30. A window anchored at first use would stay closed until :30 of the next
  // minute; the fixed window opens again at :00.
  CHECK(limiter.try_acquire(1, kMinuteStart + 30s));
  CHECK_FALSE(limiter.try_acquire(1, kMinuteStart + 45s));
  CHECK(limiter.try_acquire(1, kMinuteStart + 60s));
  CHECK_FALSE(limiter.try_acquire(1, kMinuteStart + 89s));
}

TEST_CASE("the new-device limiter counts each tenant separately", "[device_registry][limiter]") {
  NewDeviceLimiter limiter(1);
  CHECK(limiter.try_acquire(1, kMinuteStart));
  CHECK_FALSE(limiter.try_acquire(1, kMinuteStart + 1s));
  CHECK(limiter.try_acquire(2, kMinuteStart + 1s));
  CHECK_FALSE(limiter.try_acquire(2, kMinuteStart + 2s));
  CHECK(limiter.try_acquire(3, kMinuteStart + 2s));
}

TEST_CASE("the new-device limiter with a zero cap admits nothing", "[device_registry][limiter]") {
  NewDeviceLimiter limiter(0);
  CHECK_FALSE(limiter.try_acquire(1, kMinuteStart));
  CHECK_FALSE(limiter.try_acquire(1, kMinuteStart + 1min));
}

TEST_CASE("existing devices never count against the new-device cap", "[device_registry]") {
  ManualClock clock(kMinuteStart);
  FakeDevices db;
  for (int i = 0; i < 10; ++i) db.rows[{1, "existing-" + std::to_string(i)}] = 100 + i;
  DeviceRegistry registry(clock, db.find(), db.create(), 2);

  for (int i = 0; i < 10; ++i) {
    CHECK(registry.resolve(1, "existing-" + std::to_string(i)) ==
          std::optional<std::int64_t>{100 + i});
  }
  CHECK(db.creates == 0);
  // The whole cap is still available for genuinely new devices.
  CHECK(registry.resolve(1, "new-a").has_value());
  CHECK(registry.resolve(1, "new-b").has_value());
  CHECK(db.creates == 2);
}

TEST_CASE("new devices beyond the cap are refused without being created", "[device_registry]") {
  ManualClock clock(kMinuteStart);
  FakeDevices db;
  DeviceRegistry registry(clock, db.find(), db.create(), 2);

  const auto a = registry.resolve(1, "a");
  const auto b = registry.resolve(1, "b");
  REQUIRE(a.has_value());
  REQUIRE(b.has_value());
  CHECK(*a != *b);
  CHECK(db.rows.at({1, "a"}) == *a);
  CHECK(db.creates == 2);

  CHECK_FALSE(registry.resolve(1, "c").has_value());
  CHECK(db.creates == 2);
  CHECK_FALSE(db.rows.contains({1, "c"}));

  // Already registered devices keep resolving while the cap is exhausted.
  CHECK(registry.resolve(1, "a") == a);

  // Another tenant has its own cap; device keys are scoped to their tenant.
  CHECK(registry.resolve(2, "c").has_value());
  CHECK(registry.resolve(2, "a").has_value());
  CHECK(registry.resolve(2, "a") != a);

  // The next minute admits new devices again.
  clock.advance(1min);
  CHECK(registry.resolve(1, "c").has_value());
  CHECK(db.creates == 5);
}

TEST_CASE("a resolved device is cached so the database is asked only once", "[device_registry]") {
  ManualClock clock(kMinuteStart);
  FakeDevices db;
  db.rows[{1, "known"}] = 5;
  DeviceRegistry registry(clock, db.find(), db.create(), 10);

  CHECK(registry.resolve(1, "known") == std::optional<std::int64_t>{5});
  CHECK(registry.resolve(1, "known") == std::optional<std::int64_t>{5});
  CHECK(db.finds == 1);

  const auto created = registry.resolve(1, "fresh");
  REQUIRE(created.has_value());
  CHECK(registry.resolve(1, "fresh") == created);
  CHECK(db.finds == 2);
  CHECK(db.creates == 1);
}

TEST_CASE("a refused device is not cached and is admitted once the window has room",
          "[device_registry]") {
  ManualClock clock(kMinuteStart);
  FakeDevices db;
  DeviceRegistry registry(clock, db.find(), db.create(), 1);
  REQUIRE(registry.resolve(1, "a").has_value());
  REQUIRE_FALSE(registry.resolve(1, "b").has_value());
  clock.advance(1min);
  CHECK(registry.resolve(1, "b").has_value());
}

TEST_CASE("a failing find propagates and nothing is cached", "[device_registry]") {
  ManualClock clock(kMinuteStart);
  FakeDevices db;
  db.rows[{1, "known"}] = 5;
  DeviceRegistry registry(clock, db.find(), db.create(), 10);

  db.fail_find = true;
  CHECK_THROWS_AS(registry.resolve(1, "known"), std::runtime_error);
  CHECK(db.creates == 0);
  db.fail_find = false;
  CHECK(registry.resolve(1, "known") == std::optional<std::int64_t>{5});
  CHECK(db.finds == 2);
}

TEST_CASE("a failing create propagates and nothing is cached", "[device_registry]") {
  ManualClock clock(kMinuteStart);
  FakeDevices db;
  DeviceRegistry registry(clock, db.find(), db.create(), 10);

  db.fail_create = true;
  CHECK_THROWS_AS(registry.resolve(1, "new"), std::runtime_error);
  db.fail_create = false;
  const auto id = registry.resolve(1, "new");
  REQUIRE(id.has_value());
  CHECK(db.finds == 2);  // the failed attempt left no cache entry
  CHECK(db.creates == 2);
  CHECK(db.rows.at({1, "new"}) == *id);
}

// Contract (device_registry.hpp): "Database exceptions propagate (nothing is cached or counted
// then)". resolve() takes the limiter slot before calling create_ and does not give it back when
// create_ throws, so failed creates eat the tenant's cap for the rest of the minute.
TEST_CASE("a failing create does not use up a slot of the new-device cap", "[device_registry]") {
  ManualClock clock(kMinuteStart);
  FakeDevices db;
  DeviceRegistry registry(clock, db.find(), db.create(), 1);

  db.fail_create = true;
  CHECK_THROWS_AS(registry.resolve(1, "a"), std::runtime_error);
  db.fail_create = false;
  CHECK(registry.resolve(1, "a").has_value());
}

TEST_CASE("the new-device limiter's window length is configurable and aligned to the clock",
          "[device_registry][limiter]") {
  NewDeviceLimiter limiter(2, 3s);
  // kMinuteStart is a multiple of 3 s: windows open at +0 s, +3 s, +6 s ...
  CHECK(limiter.try_acquire(1, kMinuteStart + 1s));
  CHECK(limiter.try_acquire(1, kMinuteStart + 2s));
  CHECK_FALSE(limiter.try_acquire(1, kMinuteStart + 2999ms));
  CHECK(limiter.next_window(kMinuteStart + 2999ms) == kMinuteStart + 3s);
  CHECK(limiter.try_acquire(1, kMinuteStart + 3s));
  CHECK(limiter.next_window(kMinuteStart + 3s) == kMinuteStart + 6s);
  CHECK(NewDeviceLimiter(1).next_window(kMinuteStart + 30s) == kMinuteStart + 60s);
}

TEST_CASE("the new-device limiter forgets tenants of past windows once many are tracked",
          "[device_registry][limiter]") {
  NewDeviceLimiter limiter(1);
  const auto many = static_cast<std::int64_t>(NewDeviceLimiter::kMaxTrackedTenants);
  for (std::int64_t t = 0; t < many; ++t) REQUIRE(limiter.try_acquire(t, kMinuteStart));
  CHECK(limiter.tracked_tenants() == NewDeviceLimiter::kMaxTrackedTenants);
  // A new tenant in the next window: the stale windows go, the map does not grow past the bound.
  CHECK(limiter.try_acquire(many, kMinuteStart + 1min));
  CHECK(limiter.tracked_tenants() == 1);
  // Within one window nothing is forgotten (a forgotten tenant would get its cap back).
  for (std::int64_t t = 0; t < many - 1; ++t) REQUIRE(limiter.try_acquire(t, kMinuteStart + 1min));
  CHECK(limiter.tracked_tenants() == NewDeviceLimiter::kMaxTrackedTenants);
  CHECK(limiter.try_acquire(many + 1, kMinuteStart + 1min));
  CHECK_FALSE(limiter.try_acquire(0, kMinuteStart + 1min));
}

TEST_CASE("the device cache holds at most its capacity, evicting the least recently used",
          "[device_registry][cache]") {
  ste::ingest::DeviceCache cache(3);
  cache.put(1, "a", 10);
  cache.put(1, "b", 11);
  cache.put(2, "a", 20);  // same key, other tenant: a separate entry
  CHECK(cache.get(1, "a") == std::optional<std::int64_t>{10});  // "a" is now the most recent
  cache.put(1, "c", 12);                                        // evicts (1, "b")
  CHECK(cache.size() == 3);
  CHECK_FALSE(cache.get(1, "b").has_value());
  CHECK(cache.get(1, "a") == std::optional<std::int64_t>{10});
  CHECK(cache.get(2, "a") == std::optional<std::int64_t>{20});
  CHECK(cache.get(1, "c") == std::optional<std::int64_t>{12});
  cache.put(1, "c", 13);  // refresh, no growth
  CHECK(cache.size() == 3);
  CHECK(cache.get(1, "c") == std::optional<std::int64_t>{13});
}

TEST_CASE("the registry's cache is bounded and an evicted device is looked up again",
          "[device_registry][cache]") {
  ManualClock clock(kMinuteStart);
  FakeDevices db;
  DeviceRegistry registry(clock, db.find(), db.create(), 1000, 1min, 2);
  const auto a = registry.resolve(1, "a");
  REQUIRE(a.has_value());
  REQUIRE(registry.resolve(1, "b").has_value());
  REQUIRE(registry.resolve(1, "c").has_value());  // evicts "a"
  CHECK(registry.cached() == 2);
  const int finds = db.finds;
  CHECK(registry.resolve(1, "a") == a);  // found again in the database, not created twice
  CHECK(db.finds == finds + 1);
  CHECK(db.creates == 3);
  CHECK(registry.cached() == 2);
}
