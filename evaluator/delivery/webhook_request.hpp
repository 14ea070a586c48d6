#pragma once
/// The two webhook requests byte for byte as docs/DESIGN.md §6 specifies. Pure: takes the alert
/// object's JSON text (alert_to_json) and returns what to send.
#include <string>
#include <utility>
#include <vector>

namespace ste::eval {

struct WebhookRequest {
  std::string url;
  std::vector<std::pair<std::string, std::string>> headers;  ///< in sending order
  std::string body;
};

/// Which transition a request notifies (docs/ALERTING.md §6): `event` is created, resolved,
/// repeated, acknowledged, flapping_started or flapping_ended; `seq` its entry in the episode's
/// timeline. Every request carries `Idempotency-Key: <alert id>:<seq>`, so a receiver can drop a
/// retried duplicate.
struct Transition {
  std::string event = "created";
  int seq = 1;
};

/// POST {hub_url without trailing slashes}/api/events, `Content-Type: application/json`,
/// `X-API-Key: <key>` when `api_key` is non-empty (no header otherwise), `Idempotency-Key`, body
/// {"event_type":"sensor.alert.<event>","event_id":"<id>","payload":<alert>}; event_id is the
/// alert id for `created` (as before episodes) and "<alert id>:<seq>" for the later transitions,
/// so a receiver that drops duplicate event ids keeps an episode's resolution.
WebhookRequest notification_hub_request(const std::string& hub_url, const std::string& api_key,
                                        const std::string& alert_id, const std::string& alert_json,
                                        const Transition& transition = {});

/// POST {workflow_url}, `Content-Type: application/json`, `X-STE-Event: alert.<event>`,
/// `X-STE-Delivery: <delivery id>`, `Idempotency-Key`, and when `secret` is non-empty
/// `X-Hub-Signature-256: sha256=<hex HMAC over the exact body>`; body
/// {"event":"alert.<event>","alert":<alert>}.
WebhookRequest workflow_engine_request(const std::string& workflow_url, const std::string& secret,
                                       const std::string& delivery_id,
                                       const std::string& alert_json, const std::string& alert_id,
                                       const Transition& transition = {});

/// "<alert id>:<seq>".
std::string idempotency_key(const std::string& alert_id, int seq);

}  // namespace ste::eval
