#include "ingester/batch_flusher.hpp"

#include <catch2/catch.hpp>
#include <chrono>
#include <memory>
#include <stdexcept>
#include <thread>

#include "common/nats_client.hpp"
#include "tests/unit/support/batch_rig.hpp"
#include "tests/unit/support/fake_pg_error.hpp"

using ste::kBatchesSubject;
using ste::ingest::BatchFlusher;
using ste::ingest::BatchStore;
using ste::ingest::BatchStoreFactory;
using ste::testing::BatchRig;
using ste::testing::JournalEntry;
using ste::testing::make_message;
using ste::testing::readings_of;
using ste::testing::Settlement;
using namespace std::chrono_literals;

// The thread shell around BatchCommit (whose rules batch_commit_test.cpp covers): writers wake
// on a due buffer, each with a store of its own, and stop() drains what is buffered.

namespace {

/// Pushes a message with `n` readings from `device` into the buffer, counted in flight.
void push(BatchRig& rig, ste::ingest::BatchBuffer& buffer, std::int64_t device, std::size_t n) {
  natsMsg* m = make_message("sensors.acme.d" + std::to_string(device), "{}");
  rig.messages.push_back(m);
  rig.inflight.add(static_cast<std::int64_t>(n));
  buffer.push(readings_of(device, "temperature", n), m);
}

/// Counts the stores made.
BatchStoreFactory counting(BatchRig& rig, int& made) {
  return [&rig, &made]() -> std::unique_ptr<BatchStore> {
    ++made;
    return rig.store.factory()();
  };
}

}  // namespace

TEST_CASE("stop() writes, summarises and acks everything still buffered", "[batch_flusher]") {
  BatchRig rig;
  int made = 0;
  {
    BatchFlusher flusher(rig.clock, counting(rig, made), rig.publisher, rig.settler, rig.buffer,
                         rig.inflight, rig.metrics, rig.options);
    flusher.start(2);
    CHECK(made == 2);  // one store per writer
    push(rig, rig.buffer, 1, 3);
    push(rig, rig.buffer, 2, 4);
    REQUIRE_FALSE(rig.buffer.due());  // the manual clock stands still: only stop() flushes
    flusher.stop();
  }
  CHECK(rig.store.rows() == 7);
  CHECK(rig.summarised_readings() == 7);
  for (natsMsg* m : rig.messages) CHECK(rig.fake_settler.last(m).kind == Settlement::Kind::ack);
  CHECK(rig.journal.last(JournalEntry::Kind::publish) < rig.journal.first(JournalEntry::Kind::ack));
  CHECK(rig.inflight.count() == 0);
  CHECK(rig.buffer.size() == 0);
}

TEST_CASE("a kick on a full buffer wakes a writer", "[batch_flusher]") {
  BatchRig rig;
  ste::ingest::BatchBuffer buffer(4, 500ms, rig.clock);
  BatchFlusher flusher(rig.clock, rig.store.factory(), rig.publisher, rig.settler, buffer,
                       rig.inflight, rig.metrics, rig.options);
  flusher.start(1);
  push(rig, buffer, 1, 2);
  push(rig, buffer, 2, 2);  // full
  flusher.kick();
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  while (rig.fake_settler.count(Settlement::Kind::ack) < 2 &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(1ms);
  }
  CHECK(rig.fake_settler.count(Settlement::Kind::ack) == 2);
  CHECK(rig.store.rows() == 4);
  flusher.stop();
}

TEST_CASE("a batch older than the interval is flushed on a kick", "[batch_flusher]") {
  BatchRig rig;
  BatchFlusher flusher(rig.clock, rig.store.factory(), rig.publisher, rig.settler, rig.buffer,
                       rig.inflight, rig.metrics, rig.options);
  flusher.start(1);
  push(rig, rig.buffer, 1, 2);
  rig.clock.advance(500ms);
  flusher.kick();
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  while (rig.fake_settler.count(Settlement::Kind::ack) < 1 &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(1ms);
  }
  CHECK(rig.fake_settler.count(Settlement::Kind::ack) == 1);
  flusher.stop();
}

TEST_CASE("start refuses a NATS server whose max_payload leaves no room for summaries",
          "[batch_flusher][summary]") {
  BatchRig rig;
  rig.fake_publisher.set_max_payload(16 * 1024);
  int made = 0;
  BatchFlusher flusher(rig.clock, counting(rig, made), rig.publisher, rig.settler, rig.buffer,
                       rig.inflight, rig.metrics, rig.options);
  CHECK_THROWS_AS(flusher.start(2), std::runtime_error);
  CHECK(made == 0);
}

TEST_CASE("start fails when a writer's store cannot be made (database unreachable)",
          "[batch_flusher]") {
  BatchRig rig;
  BatchFlusher flusher(
      rig.clock,
      []() -> std::unique_ptr<BatchStore> { throw ste::testing::pg_error("08001", true); },
      rig.publisher, rig.settler, rig.buffer, rig.inflight, rig.metrics, rig.options);
  CHECK_THROWS_AS(flusher.start(2), ste::PgError);
}
