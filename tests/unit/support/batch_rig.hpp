#pragma once
/// The unit-test rig for the ingester's write path (BatchCommit, HeldMessages, BatchFlusher): the
/// real classes over a FakeBatchStore, a FakePublisher and a FakeSettler with a ManualClock, a
/// journal that records the order of every publish and verdict across both fakes, and helpers to
/// build batches of real natsMsg (make_message) and to read the published summaries back.
#include <prometheus/registry.h>
#include <simdjson.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "common/clock.hpp"
#include "common/message_settler.hpp"
#include "common/nats_client.hpp"
#include "common/publisher.hpp"
#include "common/redelivery.hpp"
#include "ingester/batch_buffer.hpp"
#include "ingester/batch_commit.hpp"
#include "ingester/held_messages.hpp"
#include "ingester/inflight_gate.hpp"
#include "ingester/ingest_metrics.hpp"
#include "tests/unit/support/fake_batch_store.hpp"
#include "tests/unit/support/fake_publisher.hpp"
#include "tests/unit/support/fake_settler.hpp"

namespace ste::testing {

/// One effect on the outside world, in the order it happened.
struct JournalEntry {
  enum class Kind { publish, ack, nak, in_progress, dead_letter };
  Kind kind;
  natsMsg* m = nullptr;  ///< verdicts
  std::string subject;   ///< publish
};

class Journal {
 public:
  void add(JournalEntry e) {
    std::lock_guard lock(mu_);
    entries_.push_back(std::move(e));
  }
  std::vector<JournalEntry> entries() const {
    std::lock_guard lock(mu_);
    return entries_;
  }
  /// Position of the first/last entry of `kind` (-1 when none).
  long first(JournalEntry::Kind kind) const { return find(kind, true); }
  long last(JournalEntry::Kind kind) const { return find(kind, false); }

 private:
  long find(JournalEntry::Kind kind, bool first) const {
    std::lock_guard lock(mu_);
    long at = -1;
    for (std::size_t i = 0; i < entries_.size(); ++i) {
      if (entries_[i].kind != kind) continue;
      at = static_cast<long>(i);
      if (first) break;
    }
    return at;
  }
  mutable std::mutex mu_;
  std::vector<JournalEntry> entries_;
};

/// Forwards to a FakePublisher and journals each message it kept. `fail_at` = k makes the k-th
/// publish (1-based, counted over all subjects) fail, e.g. the second part of a summary.
class JournalPublisher final : public Publisher {
 public:
  JournalPublisher(FakePublisher& inner, Journal& journal) : inner_(inner), journal_(journal) {}
  void publish(const std::string& subject, std::string_view data) override {
    arm();
    inner_.publish(subject, data);
    journal_.add({JournalEntry::Kind::publish, nullptr, subject});
  }
  void js_publish(const std::string& subject, std::string_view data,
                  std::chrono::milliseconds timeout) override {
    arm();
    inner_.js_publish(subject, data, timeout);
    journal_.add({JournalEntry::Kind::publish, nullptr, subject});
  }
  std::int64_t max_payload() override { return inner_.max_payload(); }
  int fail_at = 0;

 private:
  void arm() {
    if (++calls_ == fail_at) inner_.fail_next(1);
  }
  FakePublisher& inner_;
  Journal& journal_;
  int calls_ = 0;
};

/// Forwards to a FakeSettler and journals each verdict the broker was given.
class JournalSettler final : public MessageSettler {
 public:
  JournalSettler(FakeSettler& inner, Journal& journal) : inner_(inner), journal_(journal) {}
  bool ack(natsMsg* m) override {
    if (before_ack) before_ack();
    journal_.add({JournalEntry::Kind::ack, m, {}});
    return inner_.ack(m);
  }
  bool nak(natsMsg* m, std::chrono::milliseconds delay) override {
    journal_.add({JournalEntry::Kind::nak, m, {}});
    return inner_.nak(m, delay);
  }
  bool in_progress(natsMsg* m) override {
    journal_.add({JournalEntry::Kind::in_progress, m, {}});
    return inner_.in_progress(m);
  }
  bool dead_letter(natsMsg* m, std::string_view reason, std::string_view detail) override {
    const bool told = inner_.dead_letter(m, reason, detail);  // may throw: then not journalled
    journal_.add({JournalEntry::Kind::dead_letter, m, {}});
    return told;
  }
  std::int64_t deliveries(natsMsg* m) override { return inner_.deliveries(m); }
  /// Runs as each ack begins (e.g. a progress tick racing the writer's settling).
  std::function<void()> before_ack;

 private:
  FakeSettler& inner_;
  Journal& journal_;
};

inline const TimePoint kReadingTime{std::chrono::seconds{1'800'000'000}};

/// `n` readings of `metric` from device `device` of tenant 1, one second apart, values from
/// `first` upwards.
inline std::vector<ingest::BufferedReading> readings_of(std::int64_t device, std::string metric,
                                                        std::size_t n, double first = 20) {
  std::vector<ingest::BufferedReading> out;
  for (std::size_t i = 0; i < n; ++i) {
    ingest::BufferedReading r;
    r.tenant_id = 1;
    r.device_id = device;
    r.reading.metric = metric;
    r.reading.value = first + static_cast<double>(i);
    r.reading.ts = kReadingTime + std::chrono::seconds{i};
    out.push_back(std::move(r));
  }
  return out;
}

/// One published summary part, read back from its JSON.
struct SummaryPart {
  std::size_t bytes = 0;
  std::string batch_id;
  std::int64_t readings = 0;
  std::int64_t part = 0;
  std::int64_t parts = 0;
  struct Tuple {
    std::int64_t device_id = 0;
    std::string metric;
    double max = 0;
    std::int64_t count = 0;
  };
  std::vector<Tuple> tuples;
};

inline SummaryPart parse_summary(const std::string& json) {
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  REQUIRE(parser.parse(json).get(doc) == simdjson::SUCCESS);
  SummaryPart p;
  p.bytes = json.size();
  std::string_view id;
  REQUIRE(doc["batch_id"].get(id) == simdjson::SUCCESS);
  p.batch_id = std::string(id);
  REQUIRE(doc["readings"].get(p.readings) == simdjson::SUCCESS);
  REQUIRE(doc["part"].get(p.part) == simdjson::SUCCESS);
  REQUIRE(doc["parts"].get(p.parts) == simdjson::SUCCESS);
  simdjson::dom::array tuples;
  REQUIRE(doc["tuples"].get(tuples) == simdjson::SUCCESS);
  for (simdjson::dom::element t : tuples) {
    SummaryPart::Tuple out;
    std::string_view metric;
    REQUIRE(t["device_id"].get(out.device_id) == simdjson::SUCCESS);
    REQUIRE(t["metric"].get(metric) == simdjson::SUCCESS);
    out.metric = std::string(metric);
    REQUIRE(t["max"].get(out.max) == simdjson::SUCCESS);
    REQUIRE(t["count"].get(out.count) == simdjson::SUCCESS);
    p.tuples.push_back(std::move(out));
  }
  return p;
}

/// BatchCommit over the fakes. Set `options` (and the fakes' behaviour) before the first
/// commit(); `pauses` records every pause, which advances the clock instead of sleeping.
struct BatchRig {
  ManualClock clock;
  prometheus::Registry registry;
  ingest::IngestMetrics metrics{registry};
  FakeBatchStore store;
  FakePublisher fake_publisher;
  FakeSettler fake_settler;
  Journal journal;
  JournalPublisher publisher{fake_publisher, journal};
  JournalSettler settler{fake_settler, journal};
  ingest::InflightGate inflight{1'000'000};
  ingest::BatchBuffer buffer{100'000, std::chrono::milliseconds{500}, clock};
  ingest::HeldMessages held{clock, buffer, settler, metrics};
  std::vector<Millis> pauses;
  ingest::BatchCommit::Options options{true, RedeliveryPolicy{}, [this](Millis d) {
                                         pauses.push_back(d);
                                         clock.advance(d);
                                       }};
  std::vector<natsMsg*> messages;  ///< every message made, in order (freed when settled)
  std::unique_ptr<ingest::BatchCommit> committer;

  ingest::BatchCommit& commit() {
    if (!committer) {
      committer = std::make_unique<ingest::BatchCommit>(clock, publisher, settler, inflight,
                                                        metrics, held, options);
    }
    return *committer;
  }

  /// A new message from `device` carrying `readings`, appended to `batch` as the buffer would
  /// (its readings, its end, its device label), and counted in flight as the intake would.
  natsMsg* add(ingest::Batch& batch, std::vector<ingest::BufferedReading> readings) {
    const std::int64_t device = readings.empty() ? 0 : readings.front().device_id;
    natsMsg* m = make_message("sensors.acme.d" + std::to_string(device), "{}");
    messages.push_back(m);
    inflight.add(static_cast<std::int64_t>(readings.size()));
    if (batch.messages.empty()) batch.opened_at = clock.mono();
    batch.labels.try_emplace(device, ingest::DeviceLabel{"acme", "d" + std::to_string(device)});
    for (auto& r : readings) batch.readings.push_back(std::move(r));
    batch.messages.push_back(m);
    batch.ends.push_back(batch.readings.size());
    return m;
  }

  /// Runs `batch` through BatchCommit as writer 0.
  void run(ingest::Batch&& batch) { commit().run(std::move(batch), store, 0); }

  /// Every summary part published, in order.
  std::vector<SummaryPart> summaries() const {
    std::vector<SummaryPart> out;
    for (const auto& p : fake_publisher.sent_on(kBatchesSubject))
      out.push_back(parse_summary(p.data));
    return out;
  }
  /// How many readings the published summaries cover.
  std::int64_t summarised_readings() const {
    std::int64_t n = 0;
    for (const auto& s : summaries()) n += s.readings;
    return n;
  }
};

}  // namespace ste::testing
