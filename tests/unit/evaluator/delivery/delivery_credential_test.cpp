// A credential belongs to its URL: delivery_targets() (what a new outbox row records) and
// row_credential() (what a claimed row is sent with), DESIGN §6.
#include <catch2/catch.hpp>
#include <optional>
#include <string>

#include "evaluator/delivery/delivery_outbox.hpp"

using ste::eval::delivery_targets;
using ste::eval::DeliveryTarget;
using ste::eval::row_credential;
using ste::eval::RowCredential;
using ste::eval::TargetDefaults;
using ste::eval::TenantIntegrations;

namespace {
const TargetDefaults kDefaults{"https://hub.operator", "op-key", "https://wf.operator",
                               "op-secret"};

bool same(const DeliveryTarget& a, const DeliveryTarget& b) {
  return a.target == b.target && a.url == b.url && a.credential_source == b.credential_source &&
         a.credential == b.credential;
}
}  // namespace

TEST_CASE("a tenant without integrations gets the operator's URLs, no credential stored",
          "[delivery_credential]") {
  const auto t = delivery_targets(std::nullopt, kDefaults);
  REQUIRE(t.size() == 2);
  CHECK(same(t[0], {"notification_hub", "https://hub.operator", "default", std::nullopt}));
  CHECK(same(t[1], {"workflow_engine", "https://wf.operator", "default", std::nullopt}));
}

TEST_CASE("a tenant's own URLs without credentials get none, never the operator's",
          "[delivery_credential]") {
  TenantIntegrations own;
  own.hub_url = "https://hub.tenant";
  own.workflow_url = "https://wf.tenant";
  const auto t = delivery_targets(own, kDefaults);
  REQUIRE(t.size() == 2);
  CHECK(same(t[0], {"notification_hub", "https://hub.tenant", "tenant", std::nullopt}));
  CHECK(same(t[1], {"workflow_engine", "https://wf.tenant", "tenant", std::nullopt}));
}

TEST_CASE("a tenant's own credentials go with its own URLs only", "[delivery_credential]") {
  TenantIntegrations own;
  own.hub_url = "https://hub.tenant";
  own.hub_api_key = "tenant-key";
  own.workflow_secret = "tenant-secret";  // no own workflow URL: the secret is not used
  const auto t = delivery_targets(own, kDefaults);
  REQUIRE(t.size() == 2);
  CHECK(same(t[0], {"notification_hub", "https://hub.tenant", "tenant", "tenant-key"}));
  CHECK(same(t[1], {"workflow_engine", "https://wf.operator", "default", std::nullopt}));
}

TEST_CASE("a target with no URL anywhere gets no row", "[delivery_credential]") {
  TenantIntegrations own;
  own.workflow_url = "https://wf.tenant";
  const auto t = delivery_targets(own, TargetDefaults{});
  REQUIRE(t.size() == 1);
  CHECK(t[0].target == "workflow_engine");
  CHECK(delivery_targets(std::nullopt, TargetDefaults{}).empty());
}

TEST_CASE("a tenant row is sent with the credential stored with it, whatever changed since",
          "[delivery_credential]") {
  RowCredential row{
      "notification_hub", "https://hub.tenant-1", "tenant", "K1", "https://hub.tenant-2", "K2"};
  CHECK(row_credential(row, kDefaults) == "K1");
  row.stored.reset();
  CHECK(row_credential(row, kDefaults).empty());
  // Even at the operator's own URL, a tenant row carries only the tenant's credential.
  row.url = kDefaults.hub_url;
  CHECK(row_credential(row, kDefaults).empty());
}

TEST_CASE("a default row gets the STE_* credential only while its URL is still the STE_* URL",
          "[delivery_credential]") {
  RowCredential row{"workflow_engine", "https://wf.operator", "default",
                    std::nullopt,      std::nullopt,          std::nullopt};
  CHECK(row_credential(row, kDefaults) == "op-secret");
  row.url = "https://wf.operator-old";  // the operator moved its target since the row was written
  CHECK(row_credential(row, kDefaults).empty());
  row.target = "notification_hub";
  row.url = "https://hub.operator";
  CHECK(row_credential(row, kDefaults) == "op-key");
}

TEST_CASE("a row from before schema 004 gets the credential of the source whose URL it has",
          "[delivery_credential]") {
  RowCredential row{"notification_hub", "https://hub.tenant", std::nullopt,
                    std::nullopt,       "https://hub.tenant", "tenant-key"};
  CHECK(row_credential(row, kDefaults) == "tenant-key");
  row.tenant_credential.reset();  // the tenant's URL without a key: none, not the operator's
  CHECK(row_credential(row, kDefaults).empty());
  row.tenant_url = "https://hub.tenant-new";  // the tenant moved: the old URL gets nothing
  row.tenant_credential = "new-key";
  CHECK(row_credential(row, kDefaults).empty());
  row.url = kDefaults.hub_url;  // written for the operator's URL, still the operator's
  CHECK(row_credential(row, kDefaults) == "op-key");
  row.tenant_url.reset();
  CHECK(row_credential(row, kDefaults) == "op-key");
}

TEST_CASE("an unknown credential source sends no credential", "[delivery_credential]") {
  const RowCredential row{"notification_hub", kDefaults.hub_url, "something-else", "x",
                          std::nullopt,       std::nullopt};
  CHECK(row_credential(row, kDefaults).empty());
}
