#include "evaluator/alerts/alert.hpp"

#include <fmt/format.h>
#include <simdjson.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <string>
#include <string_view>
#include <vector>

#include "common/time_format.hpp"

using Catch::Matchers::Contains;
using ste::TimePoint;
using ste::eval::Alert;
using ste::eval::alert_message;
using ste::eval::alert_to_json;
using ste::eval::Condition;
using ste::eval::Rule;
using ste::eval::Severity;
using namespace std::chrono_literals;

namespace {

Rule rule(std::string metric, Condition c, double threshold) {
  Rule r;
  r.metric = std::move(metric);
  r.condition = c;
  r.threshold = threshold;
  return r;
}

TimePoint ts(std::string_view s) {
  const auto t = ste::parse_rfc3339(s);
  REQUIRE(t.has_value());
  return *t;
}

Alert threshold_alert() {
  Alert a;
  a.id = "0b5e6a4c-1f1e-4a55-9a3e-7d2f8a9c0001";
  a.rule_id = "0b5e6a4c-1f1e-4a55-9a3e-7d2f8a9c0002";
  a.tenant = "acme";
  a.device = "boiler-7";
  a.metric = "temperature";
  a.condition = Condition::above_threshold;
  a.threshold = 80;
  a.value = 93.2;
  a.reading_ts = ts("2026-11-28T11:00:12.345678Z");
  a.severity = Severity::critical;
  a.message = "temperature 93.2 above 80 on boiler-7";
  a.created_at = ts("2026-11-28T11:00:13.5Z");
  a.status = ste::eval::EpisodeStatus::firing;
  a.started_at = ts("2026-11-28T11:00:12.345Z");
  a.fired_at = ts("2026-11-28T11:00:13.5Z");
  a.last_value = 85.5;
  a.last_reading_ts = ts("2026-11-28T11:00:20Z");
  a.peak_value = 97.1;
  a.acked_at = ts("2026-11-28T11:01:00Z");
  a.acked_by = "alice";
  a.ack_comment = "on it";
  a.notified = true;
  a.version = 3;
  return a;
}

std::string_view get_string(simdjson::dom::object o, std::string_view key) {
  std::string_view s;
  REQUIRE(o[key].get_string().get(s) == simdjson::SUCCESS);
  return s;
}

double get_double(simdjson::dom::object o, std::string_view key) {
  double d = 0;
  REQUIRE(o[key].get_double().get(d) == simdjson::SUCCESS);
  return d;
}

}  // namespace

TEST_CASE("an above-threshold message names metric, value, threshold and device", "[alert]") {
  CHECK(alert_message(rule("temperature", Condition::above_threshold, 80), "boiler-7", 93.2, {},
                      {}) == "temperature 93.2 above 80 on boiler-7");
}

TEST_CASE("a below-threshold message names metric, value, threshold and device", "[alert]") {
  CHECK(alert_message(rule("pressure", Condition::below_threshold, 2), "pump-1", 1.2, {}, {}) ==
        "pressure 1.2 below 2 on pump-1");
}

TEST_CASE("a deviation message names the mean, the stddev and the threshold", "[alert]") {
  const std::string m =
      alert_message(rule("flow", Condition::deviation_from_mean, 3), "meter-2", 40, 20, 0.5);
  CHECK(m == "flow 40 deviates from mean 20 by more than 3 stddev (stddev 0.5) on meter-2");
}

TEST_CASE("a no-data message names the device, the series, how long and the rule's limit",
          "[alert]") {
  Rule series = rule("temperature", Condition::no_data, 0);
  series.silent_minutes = 30;
  CHECK(alert_message(series, "boiler-7", 31.75, {}, {}) ==
        "boiler-7 sent no temperature reading for 31 minutes (silent_minutes 30)");
  Rule device = rule("*", Condition::no_data, 0);
  device.silent_minutes = 1;
  CHECK(alert_message(device, "pump-1", 1.5, {}, {}) ==
        "pump-1 sent no reading for 1 minute (silent_minutes 1)");
}

TEST_CASE("a deviation message without statistics still names metric, value and device",
          "[alert]") {
  const std::string m =
      alert_message(rule("flow", Condition::deviation_from_mean, 3), "meter-2", 40, {}, {});
  CHECK_THAT(m, Contains("flow") && Contains("40") && Contains("meter-2") && Contains("3"));
}

TEST_CASE("message numbers are the shortest text that reads back the same", "[alert]") {
  const Rule r = rule("temperature", Condition::above_threshold, 80.5);
  CHECK(alert_message(r, "d", 100.0, {}, {}) == "temperature 100 above 80.5 on d");
  CHECK(alert_message(r, "d", 0.1 + 0.2, {}, {}) ==
        "temperature 0.30000000000000004 above 80.5 on d");
  CHECK(alert_message(r, "d", -1.5e-7, {}, {}) == "temperature -1.5e-07 above 80.5 on d");
}

TEST_CASE("the alert JSON has every contract key, in order, with its type", "[alert]") {
  const std::string json = alert_to_json(threshold_alert());
  simdjson::dom::parser parser;
  simdjson::dom::object o;
  REQUIRE(parser.parse(json).get_object().get(o) == simdjson::SUCCESS);

  std::vector<std::string_view> keys;
  for (auto field : o) keys.push_back(field.key);
  CHECK(keys == std::vector<std::string_view>{"id",
                                              "rule_id",
                                              "tenant",
                                              "device",
                                              "metric",
                                              "condition",
                                              "threshold",
                                              "value",
                                              "reading_ts",
                                              "mean",
                                              "stddev",
                                              "severity",
                                              "message",
                                              "created_at",
                                              "status",
                                              "started_at",
                                              "fired_at",
                                              "resolved_at",
                                              "resolve_reason",
                                              "last_value",
                                              "last_reading_ts",
                                              "peak_value",
                                              "acked_at",
                                              "acked_by",
                                              "ack_comment",
                                              "silenced_by",
                                              "flapping",
                                              "notified",
                                              "version"});

  CHECK(get_string(o, "id") == "0b5e6a4c-1f1e-4a55-9a3e-7d2f8a9c0001");
  CHECK(get_string(o, "rule_id") == "0b5e6a4c-1f1e-4a55-9a3e-7d2f8a9c0002");
  CHECK(get_string(o, "tenant") == "acme");
  CHECK(get_string(o, "device") == "boiler-7");
  CHECK(get_string(o, "metric") == "temperature");
  CHECK(get_string(o, "condition") == "above_threshold");
  CHECK(get_double(o, "threshold") == 80);
  CHECK(get_double(o, "value") == 93.2);
  CHECK(get_string(o, "reading_ts") == "2026-11-28T11:00:12.345Z");
  CHECK(o["mean"].is_null());
  CHECK(o["stddev"].is_null());
  CHECK(get_string(o, "severity") == "critical");
  CHECK(get_string(o, "message") == "temperature 93.2 above 80 on boiler-7");
  CHECK(get_string(o, "created_at") == "2026-11-28T11:00:13.500Z");
  CHECK(get_string(o, "status") == "firing");
  CHECK(get_string(o, "started_at") == "2026-11-28T11:00:12.345Z");
  CHECK(get_string(o, "fired_at") == "2026-11-28T11:00:13.500Z");
  CHECK(o["resolved_at"].is_null());
  CHECK(o["resolve_reason"].is_null());
  CHECK(get_double(o, "last_value") == 85.5);
  CHECK(get_double(o, "peak_value") == 97.1);
  CHECK(get_string(o, "acked_by") == "alice");
  CHECK(get_string(o, "ack_comment") == "on it");
  CHECK(o["silenced_by"].get_array().size() == 0);
  CHECK(o["flapping"].get_bool().value() == false);
  CHECK(o["notified"].get_bool().value() == true);
  CHECK(o["version"].get_int64().value() == 3);
}

TEST_CASE("episode statuses round-trip through their names — unknown names are refused",
          "[alert]") {
  using ste::eval::EpisodeStatus;
  for (auto s : {EpisodeStatus::pending, EpisodeStatus::firing, EpisodeStatus::resolved,
                 EpisodeStatus::cancelled}) {
    CHECK(ste::eval::parse_episode_status(ste::eval::episode_status_name(s)) == s);
  }
  CHECK_FALSE(ste::eval::parse_episode_status("open").has_value());
  CHECK_FALSE(ste::eval::parse_episode_status("").has_value());
}

TEST_CASE("a deviation alert's JSON carries its mean and stddev as numbers", "[alert]") {
  Alert a = threshold_alert();
  a.condition = Condition::deviation_from_mean;
  a.threshold = 3;
  a.value = 40;
  a.mean = 20.25;
  a.stddev = 0.5;
  a.severity = Severity::info;
  simdjson::dom::parser parser;
  simdjson::dom::object o;
  REQUIRE(parser.parse(alert_to_json(a)).get_object().get(o) == simdjson::SUCCESS);
  CHECK(get_string(o, "condition") == "deviation_from_mean");
  CHECK(get_double(o, "mean") == 20.25);
  CHECK(get_double(o, "stddev") == 0.5);
  CHECK(get_double(o, "value") == 40);
  CHECK(get_string(o, "severity") == "info");
}

TEST_CASE("alert JSON escapes device-supplied text", "[alert]") {
  Alert a = threshold_alert();
  a.device = "boiler \"7\"\\\n";
  a.message = "temperature 93.2 above 80 on " + a.device;
  simdjson::dom::parser parser;
  simdjson::dom::object o;
  REQUIRE(parser.parse(alert_to_json(a)).get_object().get(o) == simdjson::SUCCESS);
  CHECK(get_string(o, "device") == a.device);
  CHECK(get_string(o, "message") == a.message);
}

TEST_CASE("the API's alert object is the event's object with deliveries added after its fields",
          "[alert]") {
  // GET /api/alerts/{id} writes the fields with write_alert_fields and appends `deliveries`;
  // the NATS event and the webhooks carry alert_to_json. Same bytes up to the closing brace.
  const Alert a = threshold_alert();
  ste::JsonWriter w;
  w.begin_object();
  ste::eval::write_alert_fields(w, a);
  w.key("deliveries").begin_array().end_array();
  w.end_object();
  const std::string event = alert_to_json(a);
  REQUIRE(event.back() == '}');
  CHECK(w.str() == event.substr(0, event.size() - 1) + R"(,"deliveries":[]})");
}

TEST_CASE("an alert read back from the database serializes byte for byte like the event",
          "[alert]") {
  // The event is written from the evaluator's values; the API reads the stored row back:
  // timestamps at PostgreSQL's microseconds, numbers through their shortest text. Neither may
  // change the JSON.
  Alert event = threshold_alert();
  event.reading_ts = TimePoint{std::chrono::nanoseconds{1'795'000'812'345'678'912}};
  event.created_at = TimePoint{std::chrono::nanoseconds{1'795'000'813'999'999'999}};
  event.condition = Condition::deviation_from_mean;
  event.value = 0.1 + 0.2;
  event.threshold = 2.5;
  event.mean = 1.0 / 3.0;
  event.stddev = 1e-300;

  Alert stored = event;
  stored.reading_ts = ste::from_epoch_us(ste::to_epoch_us(event.reading_ts));
  stored.created_at = ste::from_epoch_us(ste::to_epoch_us(event.created_at));
  const auto round_trip = [](double d) { return std::stod(fmt::format("{}", d)); };
  stored.value = round_trip(event.value);
  stored.threshold = round_trip(event.threshold);
  stored.mean = round_trip(*event.mean);
  stored.stddev = round_trip(*event.stddev);

  CHECK(alert_to_json(stored) == alert_to_json(event));
  CHECK_THAT(alert_to_json(event), Contains(R"("reading_ts":"2026-11-18T11:20:12.345Z")") &&
                                       Contains(R"("created_at":"2026-11-18T11:20:13.999Z")"));
}
