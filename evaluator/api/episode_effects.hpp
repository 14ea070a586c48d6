#pragma once
/// EpisodeEffects: what the API needs, besides the database, to change episodes.
#include <functional>
#include <vector>

#include "common/pg_connection.hpp"
#include "evaluator/alerts/episode_log.hpp"
#include "evaluator/delivery/delivery_outbox.hpp"

namespace ste::api {

/// What an API write that changes episodes (a rule edit, an acknowledgement, a manual resolve)
/// needs besides the database: the tenant's outbox targets, and the live event published on
/// `ste.alerts.<tenant>` after the transaction commits (nothing when unset).
struct EpisodeEffects {
  eval::TargetDefaults defaults;
  std::function<void(const eval::EpisodeNotice&)> publish;

  std::vector<eval::DeliveryTarget> targets(PgConnection& db, std::int64_t tenant_id) const {
    return eval::targets_for_tenant(db, tenant_id, defaults);
  }
  void published(const std::vector<eval::EpisodeNotice>& notices) const {
    if (!publish) return;
    for (const auto& n : notices) publish(n);
  }
};

}  // namespace ste::api
