#pragma once
/// DeliveryTarget: where a tenant's alert notifications go, with the credential that belongs to
/// the target's URL (DESIGN §6). The episode store (episode_store.hpp) writes one outbox row per
/// target for each notifying transition; delivery_outbox.hpp resolves the targets.
#include <optional>
#include <string>

namespace ste::eval {

/// A configured webhook target for a tenant's alerts, with the credential that belongs to its URL.
struct DeliveryTarget {
  std::string target;  ///< "notification_hub" | "workflow_engine"
  std::string url;
  /// "default": the evaluator's STE_* URL (its credential is not stored with the row);
  /// "tenant": the tenant's own URL, sent with `credential` (the tenant's own, nullopt = none).
  std::string credential_source = "default";
  std::optional<std::string> credential;
};

}  // namespace ste::eval
