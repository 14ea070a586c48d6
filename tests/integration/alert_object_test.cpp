// One alert serializer: the API's alert object is byte for byte the NATS event's (real ingester,
// evaluator, nats-server and PostgreSQL). The event is written from the evaluator's values, the
// API reads the stored row back; both go through eval::write_alert_fields.
#include <mutex>

#include "tests/integration/api_client.hpp"
#include "tests/integration/pipeline_fixture.hpp"

using namespace ste;
using namespace ste::test;
using namespace std::chrono_literals;

namespace {

/// Collects the payloads published on a core subject.
struct EventSink {
  explicit EventSink(NatsClient& c, const std::string& subject) {
    REQUIRE(natsConnection_Subscribe(
                &sub, c.conn(), subject.c_str(),
                [](natsConnection*, natsSubscription*, natsMsg* m, void* self) {
                  auto* s = static_cast<EventSink*>(self);
                  std::lock_guard lock(s->mu);
                  s->events.emplace_back(natsMsg_GetData(m), natsMsg_GetDataLength(m));
                  natsMsg_Destroy(m);
                },
                this) == NATS_OK);
    c.flush(2s);
  }
  ~EventSink() { natsSubscription_Destroy(sub); }
  EventSink(const EventSink&) = delete;
  EventSink& operator=(const EventSink&) = delete;
  std::vector<std::string> all() {
    std::lock_guard lock(mu);
    return events;
  }
  natsSubscription* sub = nullptr;
  std::mutex mu;
  std::vector<std::string> events;
};

std::string field(const std::string& json, const char* key) {
  return std::string(std::string_view(Json(json)[key]));
}

}  // namespace

TEST_CASE("The API shows a threshold and a deviation alert exactly as their NATS events",
          "[api][alert]") {
  Pipeline p;
  p.add_rule("above_threshold", 80, "temperature");
  p.add_rule("deviation_from_mean", 3, "flow", 15, 60);
  p.start_ingester();
  p.start_evaluator("a");
  EventSink sink(*p.client, "ste.alerts.acme");
  Api api(p.evaluators["a"].port);

  // Deviation: 12 minutes of history around 20, then 40.
  const auto minute_now = std::chrono::floor<std::chrono::minutes>(SysClock::now());
  std::string history = "[";
  for (int m = 12; m >= 1; --m) {
    for (int k = 0; k < 3; ++k) {
      if (history.size() > 1) history += ",";
      const double v = 20.0 + (m % 3 - 1) * 0.5 + (k - 1) * 0.2;
      history += reading_json("flow", v,
                              minute_now - std::chrono::minutes{m} + std::chrono::seconds{10 * k});
    }
  }
  p.publish("sensors.acme.meter-2", history + "]");
  REQUIRE(p.wait_rows(36));
  REQUIRE(
      eventually([&] { return p.evaluator_metric("a", "ste_eval_summaries_total") >= 1; }, 30s));
  p.publish("sensors.acme.meter-2", now_reading("flow", 40.1));
  // Threshold: no `ts`, so reading_ts is JetStream's stored time (nanoseconds), and a value
  // whose shortest text is long.
  p.publish("sensors.acme.boiler-7", R"({"metric":"temperature","value":80.30000000000001})");

  REQUIRE(eventually([&] { return p.alerts() == 2; }, 30s));
  REQUIRE(eventually([&] { return sink.all().size() == 2; }, 10s));

  auto listed = api.get("/api/alerts", p.api_key);
  REQUIRE(listed);
  REQUIRE(listed->status == 200);
  for (const std::string& event : sink.all()) {
    INFO("event: " << event);
    INFO("API list: " << listed->body);
    // The list holds each event's object verbatim.
    CHECK(listed->body.find(event) != std::string::npos);

    // GET /api/alerts/{id}: the event's fields, then `deliveries`.
    auto one = api.get("/api/alerts/" + field(event, "id"), p.api_key);
    REQUIRE(one);
    REQUIRE(one->status == 200);
    INFO("API alert: " << one->body);
    const std::string fields = event.substr(0, event.size() - 1);  // without the closing brace
    CHECK(one->body.substr(0, fields.size() + 15) == fields + R"(,"deliveries":[)");
  }
  const auto events = sink.all();
  const bool has_deviation = field(events[0], "condition") == "deviation_from_mean" ||
                             field(events[1], "condition") == "deviation_from_mean";
  CHECK(has_deviation);
}
