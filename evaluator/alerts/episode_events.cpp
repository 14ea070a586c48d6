#include "evaluator/alerts/episode_events.hpp"

#include "common/log.hpp"
#include "common/nats_client.hpp"

namespace ste::eval {

void publish_notice(Publisher& events, prometheus::Counter& publish_errors,
                    const EpisodeNotice& notice) {
  const Alert& a = notice.alert;
  log::info("alert " + notice.event, {{"alert_id", a.id},
                                      {"rule_id", a.rule_id},
                                      {"tenant", a.tenant},
                                      {"device", a.device},
                                      {"metric", a.metric},
                                      {"status", std::string(episode_status_name(a.status))},
                                      {"value", a.last_value},
                                      {"notified", a.notified}});
  try {
    events.publish("ste.alerts." + a.tenant, alert_to_json(a));
  } catch (const NatsError& e) {
    publish_errors.Increment();
    log::warn("alert event not published", {{"alert_id", a.id}, {"error", e.what()}});
  }
}

}  // namespace ste::eval
