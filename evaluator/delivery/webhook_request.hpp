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

/// POST {hub_url without trailing slashes}/api/events, `Content-Type: application/json`,
/// `X-API-Key: <key>` when `api_key` is non-empty (no header otherwise), body
/// {"event_type":"sensor.alert.created","event_id":"<alert id>","payload":<alert>}.
WebhookRequest notification_hub_request(const std::string& hub_url, const std::string& api_key,
                                        const std::string& alert_id, const std::string& alert_json);

/// POST {workflow_url}, `Content-Type: application/json`, `X-STE-Event: alert.created`,
/// `X-STE-Delivery: <delivery id>`, and when `secret` is non-empty
/// `X-Hub-Signature-256: sha256=<hex HMAC over the exact body>`; body
/// {"event":"alert.created","alert":<alert>}.
WebhookRequest workflow_engine_request(const std::string& workflow_url, const std::string& secret,
                                       const std::string& delivery_id,
                                       const std::string& alert_json);

}  // namespace ste::eval
