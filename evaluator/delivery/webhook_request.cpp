#include "evaluator/delivery/webhook_request.hpp"

#include "common/json_writer.hpp"
#include "evaluator/delivery/webhook_signer.hpp"

namespace ste::eval {

std::string idempotency_key(const std::string& alert_id, int seq) {
  return alert_id + ":" + std::to_string(seq);
}

WebhookRequest notification_hub_request(const std::string& hub_url, const std::string& api_key,
                                        const std::string& alert_id, const std::string& alert_json,
                                        const Transition& transition) {
  WebhookRequest req;
  // All trailing slashes go, so "https://hub/" and "https://hub//" both give ".../api/events"
  // rather than a path with an empty segment that some routers answer with 404.
  std::string base = hub_url;
  while (!base.empty() && base.back() == '/') base.pop_back();
  req.url = base + "/api/events";
  req.headers = {{"Content-Type", "application/json"}};
  // No key, no header: an empty X-API-Key would still tell the receiver a key was meant.
  if (!api_key.empty()) req.headers.emplace_back("X-API-Key", api_key);
  const std::string key = idempotency_key(alert_id, transition.seq);
  req.headers.emplace_back("Idempotency-Key", key);

  JsonWriter w;
  w.begin_object();
  w.field("event_type", "sensor.alert." + transition.event);
  w.field("event_id", transition.event == "created" ? alert_id : key);
  w.key("payload").raw(alert_json);
  w.end_object();
  req.body = w.take();
  return req;
}

WebhookRequest workflow_engine_request(const std::string& workflow_url, const std::string& secret,
                                       const std::string& delivery_id,
                                       const std::string& alert_json, const std::string& alert_id,
                                       const Transition& transition) {
  WebhookRequest req;
  // The workflow URL is used verbatim: it is a full endpoint, not a base to append to.
  req.url = workflow_url;

  JsonWriter w;
  w.begin_object();
  const std::string event = "alert." + transition.event;
  w.field("event", event);
  w.key("alert").raw(alert_json);
  w.end_object();
  req.body = w.take();

  req.headers = {{"Content-Type", "application/json"},
                 {"X-STE-Event", event},
                 {"X-STE-Delivery", delivery_id},
                 {"Idempotency-Key", idempotency_key(alert_id, transition.seq)}};
  // Signed after the body is final: the receiver verifies these exact bytes, so nothing may
  // re-serialize the body between here and the socket.
  if (!secret.empty()) {
    req.headers.emplace_back("X-Hub-Signature-256", signature_header_value(secret, req.body));
  }
  return req;
}

}  // namespace ste::eval
