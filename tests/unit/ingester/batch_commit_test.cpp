#include "ingester/batch_commit.hpp"

#include <catch2/catch.hpp>
#include <chrono>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "common/message_settler.hpp"
#include "common/nats_client.hpp"
#include "common/redelivery.hpp"
#include "tests/unit/support/batch_rig.hpp"
#include "tests/unit/support/fake_pg_error.hpp"

using ste::kBatchesSubject;
using ste::MonoPoint;
using ste::nak_delay;
using ste::RedeliveryPolicy;
using ste::ingest::Batch;
using ste::ingest::BufferedReading;
using ste::testing::BatchRig;
using ste::testing::JournalEntry;
using ste::testing::pg_error;
using ste::testing::readings_of;
using ste::testing::Settlement;
using namespace std::chrono_literals;

// Messages are freed once settled, and a new message may reuse a freed address: each test makes
// all its messages before it runs a batch.

namespace {

/// A batch of `messages` messages, each from its own device with `per` readings.
Batch batch_of(BatchRig& rig, int messages, std::size_t per = 3) {
  Batch b;
  for (int i = 1; i <= messages; ++i) rig.add(b, readings_of(i, "temperature", per));
  return b;
}

}  // namespace

TEST_CASE(
    "a stored batch's summary parts are all published, each under max_payload, before any "
    "source message is acked",
    "[batch_commit][summary]") {
  BatchRig rig;
  rig.fake_publisher.set_max_payload(20 * 1024);  // the smallest the ingester runs with
  Batch b = batch_of(rig, 300, 2);                // 300 series: several 16-KiB parts
  const std::size_t readings = b.readings.size();
  rig.run(std::move(b));

  const auto parts = rig.summaries();
  REQUIRE(parts.size() > 1);
  for (std::size_t i = 0; i < parts.size(); ++i) {
    CHECK(parts[i].bytes <= 20 * 1024 - ste::ingest::kSummaryHeadroom);
    CHECK(parts[i].part == static_cast<std::int64_t>(i + 1));
    CHECK(parts[i].parts == static_cast<std::int64_t>(parts.size()));
    CHECK(parts[i].batch_id == parts[0].batch_id);
  }
  CHECK(rig.summarised_readings() == static_cast<std::int64_t>(readings));
  for (const auto& p : rig.fake_publisher.sent_on(kBatchesSubject)) CHECK(p.durable);

  // Summary before ack: every part precedes the first ack, and every message is acked once.
  const long last_publish = rig.journal.last(JournalEntry::Kind::publish);
  const long first_ack = rig.journal.first(JournalEntry::Kind::ack);
  REQUIRE(first_ack >= 0);
  CHECK(last_publish < first_ack);
  for (natsMsg* m : rig.messages) {
    REQUIRE(rig.fake_settler.of(m).size() == 1);
    CHECK(rig.fake_settler.last(m).kind == Settlement::Kind::ack);
  }
  CHECK(rig.store.rows() == readings);
  CHECK(rig.inflight.count() == 0);
  CHECK(rig.metrics.batches_ok.Value() == 1);
}

TEST_CASE(
    "when a summary part cannot be published nothing is acked: the batch is nak'd for a "
    "quick redelivery",
    "[batch_commit][summary]") {
  BatchRig rig;
  rig.fake_publisher.set_max_payload(20 * 1024);
  rig.publisher.fail_at = 2;  // the second part fails
  Batch b = batch_of(rig, 300, 2);
  const std::size_t readings = b.readings.size();
  rig.run(std::move(b));

  CHECK(rig.fake_publisher.sent_on(kBatchesSubject).size() == 1);
  CHECK(rig.fake_settler.count(Settlement::Kind::ack) == 0);
  for (natsMsg* m : rig.messages) {
    REQUIRE(rig.fake_settler.of(m).size() == 1);
    CHECK(rig.fake_settler.last(m).kind == Settlement::Kind::nak);
    CHECK(rig.fake_settler.last(m).delay == std::chrono::milliseconds{ste::kRedeliveryDelayMs});
  }
  // The readings are stored (the redelivery is absorbed by the idempotent write).
  CHECK(rig.store.rows() == readings);
  CHECK(rig.metrics.batches_summary_failed.Value() == 1);
  CHECK(rig.metrics.batches_ok.Value() == 0);
  CHECK(rig.inflight.count() == 0);
}

TEST_CASE("a failed write is retried once after 100 ms, and a retry that stores goes on as usual",
          "[batch_commit][retry]") {
  BatchRig rig;
  std::vector<MonoPoint> attempts;
  rig.store.on_write = [&](auto) { attempts.push_back(rig.clock.mono()); };
  rig.store.fail_next(1, pg_error("08006", true));
  rig.run(batch_of(rig, 2));

  REQUIRE(attempts.size() == 2);
  CHECK(attempts[1] - attempts[0] == 100ms);
  CHECK(rig.pauses == std::vector<ste::Millis>{100ms});
  CHECK(rig.metrics.write_retries.Value() == 1);
  CHECK(rig.summaries().size() == 1);
  for (natsMsg* m : rig.messages) CHECK(rig.fake_settler.last(m).kind == Settlement::Kind::ack);
  CHECK(rig.commit().database_ok());
}

TEST_CASE(
    "with the database away a batch is written twice, 100 ms apart, then handed back with "
    "the redelivery back-off and nothing acked",
    "[batch_commit][retry][outage]") {
  BatchRig rig;
  std::vector<MonoPoint> attempts;
  rig.store.on_write = [&](auto) { attempts.push_back(rig.clock.mono()); };
  rig.store.fail_next(2, pg_error("08006", true));
  Batch b = batch_of(rig, 3);
  rig.fake_settler.set_deliveries(rig.messages[1], 3);  // its third delivery: a longer back-off
  rig.run(std::move(b));

  REQUIRE(attempts.size() == 2);  // once, retried once: no third attempt
  CHECK(attempts[1] - attempts[0] == 100ms);
  CHECK(rig.fake_publisher.attempts() == 0);  // no summary for readings not stored
  CHECK(rig.fake_settler.count(Settlement::Kind::ack) == 0);
  const RedeliveryPolicy policy;
  for (std::size_t i = 0; i < rig.messages.size(); ++i) {
    natsMsg* m = rig.messages[i];
    REQUIRE(rig.fake_settler.of(m).size() == 1);
    CHECK(rig.fake_settler.last(m).kind == Settlement::Kind::nak);
    CHECK(rig.fake_settler.last(m).delay == nak_delay(policy, i == 1 ? 3 : 1));
  }
  CHECK(rig.fake_settler.last(rig.messages[1]).delay == 4s);
  CHECK_FALSE(rig.commit().database_ok());
  CHECK(rig.metrics.batches_failed.Value() == 1);
  CHECK(rig.inflight.count() == 0);
  CHECK(rig.store.rows() == 0);
}

TEST_CASE("a batch failing for the environment is never dead-lettered, however many deliveries",
          "[batch_commit][outage]") {
  // Connection lost, connection failure, serialization failure, schema, out of connections,
  // lock not available, statement timeout, I/O error: all the database's, none the data's.
  const auto [sqlstate, lost] = GENERATE(table<std::string, bool>({{"", true},
                                                                   {"08006", false},
                                                                   {"40001", false},
                                                                   {"42P01", false},
                                                                   {"53300", false},
                                                                   {"55P03", false},
                                                                   {"57014", false},
                                                                   {"58030", false}}));
  INFO("sqlstate " << sqlstate << (lost ? " (connection lost)" : ""));
  BatchRig rig;
  rig.store.fail_next(2, pg_error(sqlstate, lost));
  Batch b = batch_of(rig, 2);
  for (natsMsg* m : rig.messages) rig.fake_settler.set_deliveries(m, 1000);
  rig.run(std::move(b));

  CHECK(rig.fake_settler.count(Settlement::Kind::dead_letter) == 0);
  CHECK(rig.fake_settler.count(Settlement::Kind::ack) == 0);
  for (natsMsg* m : rig.messages) {
    CHECK(rig.fake_settler.last(m).kind == Settlement::Kind::nak);
    CHECK(rig.fake_settler.last(m).delay == RedeliveryPolicy{}.max_delay);
  }
  CHECK(rig.store.writes().size() == 2);  // not isolated: one message at a time would not help
  CHECK(rig.metrics.dead_lettered.Value() == 0);
}

TEST_CASE(
    "a batch failing for its data is written one message at a time: the good messages are "
    "stored, summarised and acked, the bad one is nak'd with back-off",
    "[batch_commit][isolation]") {
  BatchRig rig;
  rig.store.fail_metric("poison", pg_error("23514"));
  Batch b;
  natsMsg* good1 = rig.add(b, readings_of(1, "temperature", 3));
  natsMsg* bad = rig.add(b, readings_of(2, "poison", 2));
  natsMsg* good2 = rig.add(b, readings_of(3, "temperature", 4));
  rig.fake_settler.set_deliveries(bad, 2);
  rig.run(std::move(b));

  // The whole batch twice (the single retry), then each message alone.
  CHECK(rig.store.writes() == std::vector<std::size_t>{9, 9, 3, 2, 4});
  CHECK(rig.store.rows() == 7);
  CHECK(rig.store.rows_of("poison") == 0);

  const auto parts = rig.summaries();
  REQUIRE(parts.size() == 1);
  CHECK(parts[0].readings == 7);
  for (const auto& t : parts[0].tuples) CHECK(t.metric != "poison");

  CHECK(rig.fake_settler.last(good1).kind == Settlement::Kind::ack);
  CHECK(rig.fake_settler.last(good2).kind == Settlement::Kind::ack);
  REQUIRE(rig.fake_settler.of(bad).size() == 1);
  CHECK(rig.fake_settler.last(bad).kind == Settlement::Kind::nak);
  CHECK(rig.fake_settler.last(bad).delay == nak_delay(RedeliveryPolicy{}, 2));
  CHECK(rig.journal.last(JournalEntry::Kind::publish) < rig.journal.first(JournalEntry::Kind::ack));
  // A data failure says nothing about the database's health.
  CHECK(rig.commit().database_ok());
  CHECK(rig.inflight.count() == 0);
}

TEST_CASE(
    "a message failing for its data is nak'd until STE_MAX_DELIVERIES, then dead-lettered "
    "with the SQL error",
    "[batch_commit][isolation][dead_letter]") {
  const std::int64_t delivery = GENERATE(1, 2, 3, 4, 5, 6);
  INFO("delivery " << delivery);
  BatchRig rig;
  rig.store.fail_metric("poison", pg_error("23514"));
  Batch b;
  natsMsg* good = rig.add(b, readings_of(1, "temperature", 3));
  natsMsg* bad = rig.add(b, readings_of(2, "poison", 2));
  rig.fake_settler.set_deliveries(bad, delivery);
  rig.run(std::move(b));

  CHECK(rig.fake_settler.last(good).kind == Settlement::Kind::ack);
  REQUIRE(rig.fake_settler.of(bad).size() == 1);
  const Settlement s = rig.fake_settler.last(bad);
  if (delivery < RedeliveryPolicy{}.max_deliveries) {
    CHECK(s.kind == Settlement::Kind::nak);
    CHECK(s.delay == nak_delay(RedeliveryPolicy{}, delivery));
    CHECK(rig.metrics.dead_lettered.Value() == 0);
  } else {
    CHECK(s.kind == Settlement::Kind::dead_letter);
    CHECK(s.reason == "write_failed");
    CHECK(s.detail.find("23514") != std::string::npos);
    CHECK(s.detail.find("fake database error 23514") != std::string::npos);
    CHECK(rig.metrics.dead_lettered.Value() == 1);
  }
}

TEST_CASE("a dead letter that cannot be published is nak'd instead: nothing is lost",
          "[batch_commit][isolation][dead_letter]") {
  BatchRig rig;
  rig.store.fail_metric("poison", pg_error("23514"));
  rig.fake_settler.dead_letter_throws = true;
  Batch b;
  natsMsg* good = rig.add(b, readings_of(1, "temperature", 3));
  natsMsg* bad = rig.add(b, readings_of(2, "poison", 2));
  rig.fake_settler.set_deliveries(bad, RedeliveryPolicy{}.max_deliveries);
  rig.run(std::move(b));

  CHECK(rig.fake_settler.last(good).kind == Settlement::Kind::ack);
  REQUIRE(rig.fake_settler.of(bad).size() == 1);
  CHECK(rig.fake_settler.last(bad).kind == Settlement::Kind::nak);
  CHECK(rig.fake_settler.last(bad).delay == RedeliveryPolicy{}.first_delay);
  CHECK(rig.metrics.dead_lettered.Value() == 0);
}

TEST_CASE(
    "when the database goes away during isolation the remaining messages are handed back, "
    "not dead-lettered",
    "[batch_commit][isolation][outage]") {
  BatchRig rig;
  rig.store.fail_metric("poison", pg_error("23514"));
  Batch b;
  natsMsg* good = rig.add(b, readings_of(1, "temperature", 3));
  natsMsg* bad = rig.add(b, readings_of(2, "poison", 2));
  natsMsg* later = rig.add(b, readings_of(3, "temperature", 2));
  for (natsMsg* m : rig.messages) rig.fake_settler.set_deliveries(m, 9);
  int writes = 0;
  rig.store.on_write = [&](auto) {
    // Whole batch twice, then `good`; the database drops as `bad` is written (write 4).
    if (++writes == 4) rig.store.fail_next(2, pg_error("08006", true));
  };
  rig.run(std::move(b));

  CHECK(rig.fake_settler.last(good).kind == Settlement::Kind::ack);
  CHECK(rig.fake_settler.last(bad).kind == Settlement::Kind::nak);
  CHECK(rig.fake_settler.last(later).kind == Settlement::Kind::nak);
  CHECK(rig.fake_settler.count(Settlement::Kind::dead_letter) == 0);
  CHECK(rig.store.writes().size() == 4);  // once the database itself fails, no more tries
  CHECK_FALSE(rig.commit().database_ok());
}

TEST_CASE(
    "readings already stored with another value are summarised with the stored value, each "
    "key once",
    "[batch_commit][repeated_keys]") {
  BatchRig rig;
  Batch b;
  auto first = readings_of(1, "temperature", 2, 20);  // 20 @ t0, 21 @ t0+1s
  auto stored = first[0];
  stored.reading.value = 90;  // an earlier delivery stored 90 for the key of the 20
  rig.store.preload(stored);
  auto repeat = readings_of(1, "temperature", 1, 95);  // the key of the 20 again, within the batch
  rig.add(b, std::move(first));
  rig.add(b, std::move(repeat));
  rig.run(std::move(b));

  const auto parts = rig.summaries();
  REQUIRE(parts.size() == 1);
  REQUIRE(parts[0].tuples.size() == 1);
  CHECK(parts[0].readings == 2);  // two keys, not three readings
  CHECK(parts[0].tuples[0].count == 2);
  CHECK(parts[0].tuples[0].max == 90);  // the stored value, not 95 (never stored)
  CHECK(rig.metrics.readings_stored.Value() == 1);
  CHECK(rig.metrics.readings_duplicate.Value() == 2);
}

TEST_CASE("repeated keys are left alone when the write inserted every reading",
          "[batch_commit][repeated_keys]") {
  // A store that reports every reading inserted: the common path asks nothing and drops nothing
  // (drop_repeated_keys runs only after a write that inserted fewer rows than the batch held).
  struct AllInserted final : ste::ingest::BatchStore {
    ste::ingest::WriteResult write(std::span<const BufferedReading> r) override {
      return {static_cast<std::int64_t>(r.size()), 1, {}};
    }
  };
  BatchRig rig;
  AllInserted store;
  Batch b;
  rig.add(b, readings_of(1, "temperature", 1, 20));
  rig.add(b, readings_of(1, "temperature", 1, 20));  // the same key twice
  rig.commit().run(std::move(b), store, 0);

  const auto parts = rig.summaries();
  REQUIRE(parts.size() == 1);
  REQUIRE(parts[0].tuples.size() == 1);
  CHECK(parts[0].tuples[0].count == 2);
}

TEST_CASE("core mode: a batch that cannot be written is dropped and counted, nothing settled",
          "[batch_commit][core]") {
  const bool outage = GENERATE(true, false);
  INFO((outage ? "database away" : "data failure"));
  BatchRig rig;
  rig.options.jetstream = false;
  ste::CoreSettler core;
  ste::ingest::HeldMessages held(rig.clock, rig.buffer, core, rig.metrics);
  ste::ingest::BatchCommit commit(rig.clock, rig.publisher, core, rig.inflight, rig.metrics, held,
                                  rig.options);
  rig.store.fail_next(2, outage ? pg_error("08006", true) : pg_error("23514"));
  Batch b = batch_of(rig, 3, 2);
  commit.run(std::move(b), rig.store, 0);

  CHECK(rig.metrics.readings_dropped.Value() == 6);
  CHECK(rig.metrics.batches_failed.Value() == 1);
  CHECK(rig.store.writes().size() == 2);  // no isolation: core messages cannot come back
  CHECK(rig.fake_publisher.attempts() == 0);
  CHECK(rig.journal.entries().empty());
  CHECK(rig.inflight.count() == 0);
}

TEST_CASE("core mode: a stored batch's summary is a core publish", "[batch_commit][core]") {
  BatchRig rig;
  rig.options.jetstream = false;
  ste::CoreSettler core;
  ste::ingest::HeldMessages held(rig.clock, rig.buffer, core, rig.metrics);
  ste::ingest::BatchCommit commit(rig.clock, rig.publisher, core, rig.inflight, rig.metrics, held,
                                  rig.options);
  commit.run(batch_of(rig, 2), rig.store, 0);
  const auto sent = rig.fake_publisher.sent_on(kBatchesSubject);
  REQUIRE(sent.size() == 1);
  CHECK_FALSE(sent[0].durable);
  CHECK(rig.metrics.batches_ok.Value() == 1);
}

TEST_CASE("the summary budget leaves headroom below max_payload and refuses servers too small",
          "[batch_commit][summary]") {
  using ste::ingest::summary_budget;
  CHECK(summary_budget(1024 * 1024) == 1024 * 1024 - 4096);
  CHECK(summary_budget(20 * 1024) == 16 * 1024);
  CHECK(summary_budget(20 * 1024 - 1) == 0);
  CHECK(summary_budget(0) == 0);
  CHECK(summary_budget(-1) == 0);
}

TEST_CASE(
    "an unexpected failure inside a batch never ends the writer: its messages are handed back "
    "for a quick redelivery and nothing stays in flight",
    "[batch_commit][firewall]") {
  BatchRig rig;
  rig.store.on_write = [](auto) { throw std::runtime_error("not a PgError"); };
  Batch b = batch_of(rig, 10, 2);
  REQUIRE_NOTHROW(rig.run(std::move(b)));
  for (natsMsg* m : rig.messages) {
    REQUIRE(rig.fake_settler.of(m).size() == 1);
    CHECK(rig.fake_settler.last(m).kind == Settlement::Kind::nak);
    CHECK(rig.fake_settler.last(m).delay == std::chrono::milliseconds{ste::kRedeliveryDelayMs});
  }
  CHECK(rig.fake_publisher.sent_on(kBatchesSubject).empty());
  CHECK(rig.inflight.count() == 0);
  CHECK(rig.metrics.batches_failed.Value() == 1);

  // The writer goes on: the next batch stores and is acked.
  rig.store.on_write = nullptr;
  const std::size_t before = rig.messages.size();
  rig.run(batch_of(rig, 10, 1));
  for (std::size_t i = before; i < rig.messages.size(); ++i) {
    CHECK(rig.fake_settler.last(rig.messages[i]).kind == Settlement::Kind::ack);
  }
}
