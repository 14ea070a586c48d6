#include "evaluator/delivery/webhook_request.hpp"

#include <algorithm>
#include <catch2/catch.hpp>
#include <string>
#include <utility>
#include <vector>

#include "evaluator/delivery/webhook_signer.hpp"

using ste::eval::hmac_sha256_hex;
using ste::eval::notification_hub_request;
using ste::eval::workflow_engine_request;
using Headers = std::vector<std::pair<std::string, std::string>>;

namespace {
// What alert_to_json produces, with a multi-byte UTF-8 device name ("ü").
const std::string kAlertJson =
    R"({"id":"7d2f8a4e-3c1b-4f6a-9e2d-5b8c1a0f3e47",)"
    R"("rule_id":"c91e4b7a-2d3f-4e8b-a1c6-0f9d8e7b6a55","tenant":"acme",)"
    R"("device":"kessel-süd-7","metric":"temperature","condition":"above_threshold",)"
    R"("threshold":80,"value":93.2,"reading_ts":"2026-11-28T11:00:00.123Z","mean":null,)"
    R"("stddev":null,"severity":"critical","message":"temperature 93.2 above 80 on )"
    R"(kessel-süd-7","created_at":"2026-11-28T11:00:00.456Z"})";
const std::string kAlertId = "7d2f8a4e-3c1b-4f6a-9e2d-5b8c1a0f3e47";
const std::string kDeliveryId = "3f6c2a1e-8b4d-4c7e-9a5f-1d2e3c4b5a69";
const std::string kSecret = "whsec_5f2b8c9d1e3a4f6b";
}  // namespace

TEST_CASE("the notification hub request posts to /api/events with the API key",
          "[webhook_request]") {
  const auto req =
      notification_hub_request("https://hub.example.com", "key-123", kAlertId, kAlertJson);
  CHECK(req.url == "https://hub.example.com/api/events");
  CHECK(req.headers == Headers{{"Content-Type", "application/json"},
                               {"X-API-Key", "key-123"},
                               {"Idempotency-Key", kAlertId + ":1"}});
}

TEST_CASE("the notification hub request without a key has no X-API-Key header",
          "[webhook_request]") {
  const auto req = notification_hub_request("https://hub.example.com", "", kAlertId, kAlertJson);
  CHECK(req.headers ==
        Headers{{"Content-Type", "application/json"}, {"Idempotency-Key", kAlertId + ":1"}});
}

TEST_CASE("the notification hub body wraps the alert object verbatim", "[webhook_request]") {
  const auto req =
      notification_hub_request("https://hub.example.com", "key-123", kAlertId, kAlertJson);
  CHECK(req.body ==
        R"({"event_type":"sensor.alert.created","event_id":"7d2f8a4e-3c1b-4f6a-9e2d-5b8c1a0f3e47",)"
        R"("payload":{"id":"7d2f8a4e-3c1b-4f6a-9e2d-5b8c1a0f3e47",)"
        R"("rule_id":"c91e4b7a-2d3f-4e8b-a1c6-0f9d8e7b6a55","tenant":"acme",)"
        R"("device":"kessel-süd-7","metric":"temperature","condition":"above_threshold",)"
        R"("threshold":80,"value":93.2,"reading_ts":"2026-11-28T11:00:00.123Z","mean":null,)"
        R"("stddev":null,"severity":"critical","message":"temperature 93.2 above 80 on )"
        R"(kessel-süd-7","created_at":"2026-11-28T11:00:00.456Z"}})");
}

TEST_CASE("the notification hub URL loses all its trailing slashes", "[webhook_request]") {
  const std::string base = GENERATE("https://hub.example.com/", "https://hub.example.com//",
                                    "https://hub.example.com///");
  CHECK(notification_hub_request(base, "k", kAlertId, "{}").url ==
        "https://hub.example.com/api/events");
}

TEST_CASE("the notification hub URL keeps its own path prefix", "[webhook_request]") {
  CHECK(notification_hub_request("https://gw.example.com/hub/", "k", kAlertId, "{}").url ==
        "https://gw.example.com/hub/api/events");
}

TEST_CASE("the notification hub escapes an alert id as a JSON string", "[webhook_request]") {
  const auto req = notification_hub_request("https://hub", "k", "a\"b\\c", "{}");
  CHECK(req.body == R"({"event_type":"sensor.alert.created","event_id":"a\"b\\c","payload":{}})");
}

TEST_CASE("the workflow engine request is signed over its exact body", "[webhook_request]") {
  const auto req = workflow_engine_request("https://wf.example.com/hooks/ste/", kSecret,
                                           kDeliveryId, kAlertJson, kAlertId);
  // Used verbatim, trailing slash included: it is a full endpoint, not a base.
  CHECK(req.url == "https://wf.example.com/hooks/ste/");
  const std::string expected_body =
      R"({"event":"alert.created","alert":{"id":"7d2f8a4e-3c1b-4f6a-9e2d-5b8c1a0f3e47",)"
      R"("rule_id":"c91e4b7a-2d3f-4e8b-a1c6-0f9d8e7b6a55","tenant":"acme",)"
      R"("device":"kessel-süd-7","metric":"temperature","condition":"above_threshold",)"
      R"("threshold":80,"value":93.2,"reading_ts":"2026-11-28T11:00:00.123Z","mean":null,)"
      R"("stddev":null,"severity":"critical","message":"temperature 93.2 above 80 on )"
      R"(kessel-süd-7","created_at":"2026-11-28T11:00:00.456Z"}})";
  CHECK(req.body == expected_body);
  // The same body and secret as webhook_signer_test's openssl-computed case.
  CHECK(req.headers ==
        Headers{{"Content-Type", "application/json"},
                {"X-STE-Event", "alert.created"},
                {"X-STE-Delivery", kDeliveryId},
                {"Idempotency-Key", kAlertId + ":1"},
                {"X-Hub-Signature-256",
                 "sha256=75ca8ec0da49c5166a6792bf7557a9e444e1e78fe3bb8b1b0c8b1f10387855a1"}});
}

TEST_CASE("a receiver can verify the workflow signature with the shared secret",
          "[webhook_request]") {
  const auto req =
      workflow_engine_request("https://wf", "another secret", "d-1", R"({"x":1})", "a-1");
  REQUIRE(req.headers.size() == 5);
  CHECK(req.headers.back().first == "X-Hub-Signature-256");
  CHECK(req.headers.back().second == "sha256=" + hmac_sha256_hex("another secret", req.body));
  CHECK(req.headers.back().second != "sha256=" + hmac_sha256_hex("wrong secret", req.body));
}

TEST_CASE("the workflow engine request has no signature header without a secret",
          "[webhook_request]") {
  const auto req =
      workflow_engine_request("https://wf.example.com/hook", "", kDeliveryId, R"({"id":"a"})", "a");
  CHECK(req.url == "https://wf.example.com/hook");
  CHECK(req.headers == Headers{{"Content-Type", "application/json"},
                               {"X-STE-Event", "alert.created"},
                               {"X-STE-Delivery", kDeliveryId},
                               {"Idempotency-Key", "a:1"}});
  CHECK(req.body == R"({"event":"alert.created","alert":{"id":"a"}})");
}

TEST_CASE("every transition names its event and carries the Idempotency-Key <alert id>:<seq>",
          "[webhook_request]") {
  using ste::eval::Transition;
  const std::string event = GENERATE("created", "resolved", "repeated", "acknowledged",
                                     "flapping_started", "flapping_ended");
  const Transition t{event, 4};
  const auto hub = notification_hub_request("https://hub", "k", kAlertId, "{}", t);
  CHECK(hub.body.find(R"("event_type":"sensor.alert.)" + event + "\"") != std::string::npos);
  CHECK(std::find(hub.headers.begin(), hub.headers.end(),
                  std::pair<std::string, std::string>{"Idempotency-Key", kAlertId + ":4"}) !=
        hub.headers.end());
  const auto wf = workflow_engine_request("https://wf", "", kDeliveryId, "{}", kAlertId, t);
  CHECK(wf.body == R"({"event":"alert.)" + event + R"(","alert":{}})");
  CHECK(wf.headers[1] == std::pair<std::string, std::string>{"X-STE-Event", "alert." + event});
  CHECK(wf.headers[3] == std::pair<std::string, std::string>{"Idempotency-Key", kAlertId + ":4"});
}

TEST_CASE("a hub event id is the alert id for created and unique per transition after it",
          "[webhook_request]") {
  using ste::eval::Transition;
  CHECK(notification_hub_request("https://hub", "", kAlertId, "{}", {"created", 2})
            .body.find(R"("event_id":")" + kAlertId + "\"") != std::string::npos);
  CHECK(notification_hub_request("https://hub", "", kAlertId, "{}", {"resolved", 5})
            .body.find(R"("event_id":")" + kAlertId + ":5\"") != std::string::npos);
}
