#include "ingester/message_intake.hpp"

#include <prometheus/registry.h>
#include <simdjson.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "common/clock.hpp"
#include "common/message_settler.hpp"
#include "common/nats_client.hpp"
#include "tests/unit/support/fake_pg_error.hpp"
#include "tests/unit/support/fake_publisher.hpp"
#include "tests/unit/support/fake_settler.hpp"

using ste::ManualClock;
using ste::Millis;
using ste::TimePoint;
using ste::ingest::BatchBuffer;
using ste::ingest::DeferralPolicy;
using ste::ingest::DeviceRegistry;
using ste::ingest::InflightGate;
using ste::ingest::IngestMetrics;
using ste::ingest::IntakeDeps;
using ste::ingest::MessageIntake;
using ste::ingest::RejectLog;
using ste::ingest::RejectReason;
using ste::ingest::TenantResolver;
using ste::testing::FakePublisher;
using ste::testing::FakeSettler;
using ste::testing::make_message;
using ste::testing::pg_error;
using ste::testing::Settlement;
using namespace std::chrono_literals;

namespace {

// On a minute boundary: the new-device cap windows are clock minutes.
const TimePoint kMinuteStart{std::chrono::seconds{1'800'000'000}};
constexpr std::string_view kReading = R"({"metric":"temperature","value":21.5})";

/// What one handle() did to its message.
struct Outcome {
  bool full = false;                 ///< handle()'s answer: wake a writer
  std::vector<Settlement> verdicts;  ///< given to the message during this handle()
  bool buffered = false;             ///< the message waits in the buffer for its batch
};

/// A MessageIntake over fakes: tenants `acme` (1) and `globex` (2), devices registered on demand
/// (ids from 100), a FakePublisher, a FakeSettler and a ManualClock at 10 s past a minute. Set
/// the knobs before the first handle().
struct IntakeRig {
  ManualClock clock{kMinuteStart + 10s};
  prometheus::Registry registry;
  IngestMetrics metrics{registry};
  FakePublisher publisher;
  FakeSettler fake_settler;
  ste::CoreSettler core_settler;
  std::map<std::string, std::int64_t> tenant_rows{{"acme", 1}, {"globex", 2}};
  std::map<std::pair<std::int64_t, std::string>, std::int64_t> device_rows;
  std::int64_t next_device = 100;
  bool tenants_fail = false;
  bool devices_fail = false;
  bool jetstream = true;
  DeferralPolicy deferral = [] {
    DeferralPolicy p;
    p.cap = 1;
    p.window = 60s;
    p.max_wait = 10min;
    return p;
  }();
  BatchBuffer buffer{1000, 500ms, clock};
  InflightGate inflight{1'000'000};
  RejectLog reject_log;
  std::unique_ptr<TenantResolver> tenants;
  std::unique_ptr<DeviceRegistry> devices;
  std::unique_ptr<MessageIntake> intake;

  ~IntakeRig() {
    for (natsMsg* m : buffer.take_all().messages) natsMsg_Destroy(m);
  }

  DeviceRegistry& registry_of_devices() {
    build();
    return *devices;
  }

  /// Hands a new message on `subject` to the intake.
  Outcome handle(const std::string& subject, std::string_view payload = kReading) {
    build();
    natsMsg* m = make_message(subject, payload);
    // A freed message's address may come back: only the verdicts given during this call count.
    const std::size_t before = fake_settler.of(m).size();
    const std::size_t buffered_before = buffer.size();
    Outcome out;
    out.full = intake->handle(m);
    auto all = fake_settler.of(m);
    out.verdicts.assign(all.begin() + static_cast<long>(before), all.end());
    out.buffered = buffer.size() > buffered_before;
    return out;
  }

  /// Every rejection published, parsed: (subject, reason).
  std::vector<std::pair<std::string, std::string>> rejections() const {
    std::vector<std::pair<std::string, std::string>> out;
    for (const auto& p : publisher.sent()) {
      simdjson::dom::parser parser;
      simdjson::dom::element doc;
      REQUIRE(parser.parse(p.data).get(doc) == simdjson::SUCCESS);
      std::string_view reason;
      REQUIRE(doc["reason"].get(reason) == simdjson::SUCCESS);
      out.emplace_back(p.subject, std::string(reason));
    }
    return out;
  }

  double rejected(RejectReason r) { return metrics.rejected_for(r).Value(); }

 private:
  void build() {
    if (intake) return;
    tenants = std::make_unique<TenantResolver>(
        clock, [this](const std::string& slug) -> std::optional<std::int64_t> {
          if (tenants_fail) throw pg_error("08006", true);
          auto it = tenant_rows.find(slug);
          if (it == tenant_rows.end()) return std::nullopt;
          return it->second;
        });
    devices = std::make_unique<DeviceRegistry>(
        clock,
        [this](std::int64_t tenant, const std::string& key) -> std::optional<std::int64_t> {
          if (devices_fail) throw pg_error("57014");
          auto it = device_rows.find({tenant, key});
          if (it == device_rows.end()) return std::nullopt;
          return it->second;
        },
        [this](std::int64_t tenant, const std::string& key) {
          if (devices_fail) throw pg_error("57014");
          return device_rows[{tenant, key}] = next_device++;
        },
        deferral.cap, deferral.window);
    ste::MessageSettler& settler =
        jetstream ? static_cast<ste::MessageSettler&>(fake_settler) : core_settler;
    intake = std::make_unique<MessageIntake>(IntakeDeps{clock,
                                                        publisher,
                                                        settler,
                                                        *tenants,
                                                        *devices,
                                                        buffer,
                                                        inflight,
                                                        metrics,
                                                        reject_log,
                                                        std::chrono::hours{24 * 30},
                                                        jetstream,
                                                        {},
                                                        deferral});
  }
};

bool acked(const Outcome& o) {
  return o.verdicts.size() == 1 && o.verdicts[0].kind == Settlement::Kind::ack;
}

}  // namespace

TEST_CASE("a valid message is buffered with its device resolved, not settled until its batch is",
          "[message_intake]") {
  IntakeRig rig;
  const Outcome o =
      rig.handle("sensors.acme.boiler-7",
                 R"([{"metric":"temperature","value":21.5},{"metric":"rh","value":40}])");
  CHECK(o.buffered);
  CHECK_FALSE(o.full);  // 2 of 1000: no writer to wake
  CHECK(o.verdicts.empty());
  CHECK(rig.buffer.size() == 2);
  CHECK(rig.inflight.count() == 2);
  CHECK(rig.publisher.sent().empty());
  const auto batch = rig.buffer.take_all();
  REQUIRE(batch.readings.size() == 2);
  CHECK(batch.readings[0].tenant_id == 1);
  CHECK(batch.readings[0].device_id == 100);
  CHECK(batch.labels.at(100).device == "boiler-7");
  for (natsMsg* m : batch.messages) natsMsg_Destroy(m);
}

TEST_CASE(
    "a message that cannot be accepted is rejected with its reason, republished on "
    "ste.rejected.<tenant>, and acked",
    "[message_intake][rejection]") {
  struct Case {
    std::string subject;
    std::string payload;
    RejectReason reason;
    std::string rejected_on;
  };
  const Case c = GENERATE(
      Case{"sensors.acme", std::string(kReading), RejectReason::invalid_subject,
           "ste.rejected.acme"},
      Case{"sensors.acme.d1.extra", std::string(kReading), RejectReason::invalid_subject,
           "ste.rejected.acme"},
      Case{"sensors.acme.d1", "{not json", RejectReason::invalid_json, "ste.rejected.acme"},
      Case{"sensors.initech.d1", std::string(kReading), RejectReason::unknown_tenant,
           "ste.rejected.initech"});
  INFO(c.subject << " " << c.payload);
  IntakeRig rig;
  const Outcome o = rig.handle(c.subject, c.payload);

  CHECK(acked(o));
  CHECK_FALSE(o.buffered);
  CHECK(rig.inflight.count() == 0);
  CHECK(rig.rejected(c.reason) == 1);
  const auto rejections = rig.rejections();
  REQUIRE(rejections.size() == 1);
  CHECK(rejections[0].first == c.rejected_on);
  CHECK(rejections[0].second == std::string(ste::ingest::reason_name(c.reason)));
  CHECK_FALSE(rig.publisher.sent()[0].durable);
}

TEST_CASE(
    "the readings of a message that fail validation are rejected while the rest is "
    "buffered",
    "[message_intake][rejection]") {
  IntakeRig rig;
  const Outcome o =
      rig.handle("sensors.acme.d1", R"([{"metric":"temperature","value":21.5},{"metric":"rh"}])");
  CHECK(o.buffered);
  CHECK(o.verdicts.empty());  // acked with its batch
  CHECK(rig.buffer.size() == 1);
  CHECK(rig.rejected(RejectReason::missing_value) == 1);
  REQUIRE(rig.rejections().size() == 1);
  CHECK(rig.rejections()[0].second == "missing_value");
}

TEST_CASE(
    "a message whose tenant or device lookup fails is handed back with a delay, nothing "
    "buffered",
    "[message_intake][dependency]") {
  const bool tenant_lookup = GENERATE(true, false);
  INFO((tenant_lookup ? "tenant lookup fails" : "device lookup fails"));
  IntakeRig rig;
  rig.tenants_fail = tenant_lookup;
  rig.devices_fail = !tenant_lookup;
  const Outcome o = rig.handle("sensors.acme.d1");

  REQUIRE(o.verdicts.size() == 1);
  CHECK(o.verdicts[0].kind == Settlement::Kind::nak);
  CHECK(o.verdicts[0].delay == Millis{ste::kRedeliveryDelayMs});
  CHECK_FALSE(o.buffered);
  CHECK(rig.buffer.size() == 0);
  CHECK(rig.inflight.count() == 0);
  CHECK(rig.publisher.sent().empty());  // not the message's fault: no rejection
  CHECK(rig.metrics.messages_naked.Value() == 1);
  CHECK(rig.fake_settler.count(Settlement::Kind::dead_letter) == 0);
}

TEST_CASE("core mode: a message whose lookup fails is dropped, nothing buffered",
          "[message_intake][dependency][core]") {
  IntakeRig rig;
  rig.jetstream = false;
  rig.tenants_fail = true;
  const Outcome o = rig.handle("sensors.acme.d1");
  CHECK_FALSE(o.buffered);
  CHECK(rig.buffer.size() == 0);
  CHECK(rig.fake_settler.count(Settlement::Kind::nak) == 0);
  CHECK(rig.metrics.messages_naked.Value() == 0);
}

TEST_CASE(
    "a new device over the cap waits (nak with a delay to the next window), then is "
    "registered once a window has room",
    "[message_intake][device_cap]") {
  IntakeRig rig;  // cap 1 per minute, wait up to 10 min; now = :10
  REQUIRE(rig.handle("sensors.acme.d1").buffered);  // takes the window's one slot

  Outcome o = rig.handle("sensors.acme.d2");
  REQUIRE(o.verdicts.size() == 1);
  CHECK(o.verdicts[0].kind == Settlement::Kind::nak);
  CHECK(o.verdicts[0].delay >= 50s);        // not before the next window opens (:60)
  CHECK(o.verdicts[0].delay <= 50s + 30s);  // plus at most half a window of jitter
  CHECK_FALSE(o.buffered);
  CHECK(rig.inflight.count() == 1);  // d1's reading only
  CHECK(rig.publisher.sent().empty());
  CHECK(rig.metrics.device_cap_deferred.Value() == 1);

  // Back in the next window, which another new device filled first: it waits again.
  rig.clock.advance(70s);
  REQUIRE(rig.registry_of_devices().resolve(1, "d3").has_value());
  o = rig.handle("sensors.acme.d2");
  REQUIRE(o.verdicts.size() == 1);
  CHECK(o.verdicts[0].kind == Settlement::Kind::nak);
  CHECK(rig.publisher.sent().empty());

  // A window with room: registered and buffered.
  rig.clock.advance(60s);
  o = rig.handle("sensors.acme.d2");
  CHECK(o.buffered);
  CHECK(o.verdicts.empty());
  CHECK(rig.rejected(RejectReason::device_limit) == 0);
}

TEST_CASE("a new device over the cap is rejected with device_limit once its wait is used up",
          "[message_intake][device_cap]") {
  IntakeRig rig;
  rig.deferral.max_wait = 90s;
  REQUIRE(rig.handle("sensors.acme.d1").buffered);
  Outcome o = rig.handle("sensors.acme.d2");  // :10, deferred
  REQUIRE(o.verdicts.size() == 1);
  REQUIRE(o.verdicts[0].kind == Settlement::Kind::nak);

  // 70 s later the window is full again; the next opens 40 s on: 110 s in all, past 90 s.
  rig.clock.advance(70s);
  REQUIRE(rig.registry_of_devices().resolve(1, "d3").has_value());
  o = rig.handle("sensors.acme.d2");
  CHECK(acked(o));
  CHECK_FALSE(o.buffered);
  CHECK(rig.rejected(RejectReason::device_limit) == 1);
  const auto rejections = rig.rejections();
  REQUIRE(rejections.size() == 1);
  CHECK(rejections[0] == std::pair<std::string, std::string>{"ste.rejected.acme", "device_limit"});
}

TEST_CASE("core mode: a new device over the cap is rejected at once (no redelivery to wait on)",
          "[message_intake][device_cap][core]") {
  IntakeRig rig;
  rig.jetstream = false;
  REQUIRE(rig.handle("sensors.acme.d1").buffered);
  const Outcome o = rig.handle("sensors.acme.d2");
  CHECK_FALSE(o.buffered);
  CHECK(rig.rejected(RejectReason::device_limit) == 1);
  CHECK(rig.fake_settler.count(Settlement::Kind::nak) == 0);
}
