#include "ingester/tenant_resolver.hpp"

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
using ste::ingest::TenantResolver;
using namespace std::chrono_literals;

namespace {

/// Stands in for the tenants table and counts how often it is asked.
struct FakeTenants {
  std::map<std::string, std::int64_t> rows;
  std::map<std::string, int> calls;
  bool fail = false;

  TenantResolver::Lookup lookup() {
    return [this](const std::string& slug) -> std::optional<std::int64_t> {
      ++calls[slug];
      if (fail) throw std::runtime_error("connection lost");
      auto it = rows.find(slug);
      if (it == rows.end()) return std::nullopt;
      return it->second;
    };
  }
};

}  // namespace

TEST_CASE("a cached tenant is resolved without asking the database again", "[tenant_resolver]") {
  ManualClock clock;
  FakeTenants db;
  db.rows = {{"acme", 1}, {"globex", 2}};
  TenantResolver resolver(clock, db.lookup(), 5min, 5s);

  CHECK(resolver.resolve("acme") == std::optional<std::int64_t>{1});
  CHECK(resolver.resolve("acme") == std::optional<std::int64_t>{1});
  clock.advance(4min);
  CHECK(resolver.resolve("acme") == std::optional<std::int64_t>{1});
  CHECK(db.calls["acme"] == 1);

  CHECK(resolver.resolve("globex") == std::optional<std::int64_t>{2});
  CHECK(db.calls["globex"] == 1);
}

TEST_CASE("a cached tenant is looked up again once its positive TTL has expired",
          "[tenant_resolver]") {
  ManualClock clock;
  FakeTenants db;
  db.rows = {{"acme", 1}};
  TenantResolver resolver(clock, db.lookup(), 5min, 5s);

  REQUIRE(resolver.resolve("acme") == std::optional<std::int64_t>{1});
  clock.advance(5min - 1ms);
  CHECK(resolver.resolve("acme") == std::optional<std::int64_t>{1});
  CHECK(db.calls["acme"] == 1);

  db.rows["acme"] = 11;  // e.g. the tenant was recreated
  clock.advance(1ms);
  CHECK(resolver.resolve("acme") == std::optional<std::int64_t>{11});
  CHECK(db.calls["acme"] == 2);
}

TEST_CASE("a deleted tenant is reported unknown after its positive TTL", "[tenant_resolver]") {
  ManualClock clock;
  FakeTenants db;
  db.rows = {{"acme", 1}};
  TenantResolver resolver(clock, db.lookup(), 1min, 5s);
  REQUIRE(resolver.resolve("acme").has_value());
  db.rows.clear();
  clock.advance(1min);
  CHECK_FALSE(resolver.resolve("acme").has_value());
}

TEST_CASE("an unknown tenant is cached only for the negative TTL", "[tenant_resolver]") {
  ManualClock clock;
  FakeTenants db;
  TenantResolver resolver(clock, db.lookup(), 5min, 5s);

  CHECK_FALSE(resolver.resolve("newco").has_value());
  for (int i = 0; i < 100; ++i) CHECK_FALSE(resolver.resolve("newco").has_value());
  CHECK(db.calls["newco"] == 1);  // a flood of messages costs one query per interval

  db.rows["newco"] = 7;  // the tenant is created meanwhile
  clock.advance(5s - 1ms);
  CHECK_FALSE(resolver.resolve("newco").has_value());
  CHECK(db.calls["newco"] == 1);

  clock.advance(1ms);
  CHECK(resolver.resolve("newco") == std::optional<std::int64_t>{7});
  CHECK(db.calls["newco"] == 2);

  // Now known: cached for the positive TTL, well past the negative one.
  clock.advance(1min);
  CHECK(resolver.resolve("newco") == std::optional<std::int64_t>{7});
  CHECK(db.calls["newco"] == 2);
}

TEST_CASE("a failing lookup propagates its exception and caches nothing", "[tenant_resolver]") {
  ManualClock clock;
  FakeTenants db;
  db.rows = {{"acme", 1}};
  TenantResolver resolver(clock, db.lookup(), 5min, 5s);

  db.fail = true;
  CHECK_THROWS_AS(resolver.resolve("acme"), std::runtime_error);
  CHECK_THROWS_AS(resolver.resolve("acme"), std::runtime_error);  // not cached as "unknown"
  CHECK(db.calls["acme"] == 2);

  db.fail = false;
  CHECK(resolver.resolve("acme") == std::optional<std::int64_t>{1});
  CHECK(db.calls["acme"] == 3);
}

TEST_CASE("a failing lookup after expiry does not leave a stale entry behind",
          "[tenant_resolver]") {
  ManualClock clock;
  FakeTenants db;
  db.rows = {{"acme", 1}};
  TenantResolver resolver(clock, db.lookup(), 1min, 5s);
  REQUIRE(resolver.resolve("acme").has_value());

  clock.advance(1min);
  db.fail = true;
  CHECK_THROWS(resolver.resolve("acme"));
  db.fail = false;
  db.rows["acme"] = 2;
  CHECK(resolver.resolve("acme") == std::optional<std::int64_t>{2});
}

TEST_CASE("a flood of unknown slugs keeps the unknown cache at its bound, oldest evicted first",
          "[tenant_resolver]") {
  ManualClock clock;
  FakeTenants db;
  db.rows = {{"acme", 1}};
  TenantResolver resolver(clock, db.lookup(), 5min, 5s, 10, 3);
  REQUIRE(resolver.resolve("acme").has_value());

  for (int i = 0; i < 1000; ++i) CHECK_FALSE(resolver.resolve("rnd-" + std::to_string(i)));
  CHECK(resolver.cached() == std::pair<std::size_t, std::size_t>{1, 3});

  // The newest three are still cached; the oldest were evicted and cost a lookup again.
  for (int i = 997; i < 1000; ++i) CHECK_FALSE(resolver.resolve("rnd-" + std::to_string(i)));
  CHECK(db.calls["rnd-999"] == 1);
  CHECK(db.calls["rnd-997"] == 1);
  CHECK_FALSE(resolver.resolve("rnd-0"));
  CHECK(db.calls["rnd-0"] == 2);

  // The known tenant was never evicted by the flood.
  CHECK(resolver.resolve("acme") == std::optional<std::int64_t>{1});
  CHECK(db.calls["acme"] == 1);
}

TEST_CASE("the known cache is bounded too and evicts its oldest tenant", "[tenant_resolver]") {
  ManualClock clock;
  FakeTenants db;
  for (int i = 0; i < 5; ++i) db.rows["t" + std::to_string(i)] = i + 1;
  TenantResolver resolver(clock, db.lookup(), 5min, 5s, 3, 3);

  for (int i = 0; i < 5; ++i) REQUIRE(resolver.resolve("t" + std::to_string(i)).has_value());
  CHECK(resolver.cached() == std::pair<std::size_t, std::size_t>{3, 0});
  CHECK(resolver.resolve("t4") == std::optional<std::int64_t>{5});
  CHECK(db.calls["t4"] == 1);
  CHECK(resolver.resolve("t0") == std::optional<std::int64_t>{1});  // evicted: asked again
  CHECK(db.calls["t0"] == 2);
  // The cache held t2, t3, t4; t0 came back as the newest and evicted t2, the oldest.
  CHECK(resolver.cached() == std::pair<std::size_t, std::size_t>{3, 0});
  CHECK(resolver.resolve("t3") == std::optional<std::int64_t>{4});
  CHECK(db.calls["t3"] == 1);
  CHECK(resolver.resolve("t2") == std::optional<std::int64_t>{3});
  CHECK(db.calls["t2"] == 2);
}

TEST_CASE("a refreshed entry moves to the back of the eviction order", "[tenant_resolver]") {
  ManualClock clock;
  FakeTenants db;
  TenantResolver resolver(clock, db.lookup(), 5min, 5s, 3, 2);

  CHECK_FALSE(resolver.resolve("a"));
  CHECK_FALSE(resolver.resolve("b"));
  clock.advance(5s);                   // both expired
  CHECK_FALSE(resolver.resolve("a"));  // re-asked: now the newest
  CHECK(db.calls["a"] == 2);
  CHECK_FALSE(resolver.resolve("c"));  // evicts b, the oldest, not a
  CHECK_FALSE(resolver.resolve("a"));
  CHECK(db.calls["a"] == 2);
  CHECK_FALSE(resolver.resolve("b"));
  CHECK(db.calls["b"] == 2);
}

TEST_CASE("a tenant created after being cached unknown leaves the unknown cache",
          "[tenant_resolver]") {
  ManualClock clock;
  FakeTenants db;
  TenantResolver resolver(clock, db.lookup(), 5min, 5s, 3, 3);
  CHECK_FALSE(resolver.resolve("newco"));
  db.rows["newco"] = 9;
  clock.advance(5s);
  CHECK(resolver.resolve("newco") == std::optional<std::int64_t>{9});
  CHECK(resolver.cached() == std::pair<std::size_t, std::size_t>{1, 0});
}
