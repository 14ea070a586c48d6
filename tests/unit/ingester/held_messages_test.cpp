#include "ingester/held_messages.hpp"

#include <catch2/catch.hpp>
#include <chrono>
#include <vector>

#include "ingester/in_progress.hpp"
#include "tests/unit/support/batch_rig.hpp"

using ste::ingest::Batch;
using ste::testing::BatchRig;
using ste::testing::JournalEntry;
using ste::testing::make_message;
using ste::testing::readings_of;
using ste::testing::Settlement;
using namespace std::chrono_literals;

namespace {

/// Pushes a message with `n` readings from `device` into the rig's buffer (as the intake would).
natsMsg* buffered(BatchRig& rig, std::int64_t device, std::size_t n = 2) {
  natsMsg* m = make_message("sensors.acme.d" + std::to_string(device), "{}");
  rig.messages.push_back(m);
  rig.buffer.push(readings_of(device, "temperature", n), m);
  return m;
}

/// Frees what the buffer still holds (the writer would have).
void drain(BatchRig& rig) {
  for (natsMsg* m : rig.buffer.take_all().messages) natsMsg_Destroy(m);
}

std::size_t signals(const BatchRig& rig, natsMsg* m) {
  std::size_t n = 0;
  for (const auto& s : rig.fake_settler.of(m)) n += s.kind == Settlement::Kind::in_progress;
  return n;
}

}  // namespace

TEST_CASE("buffered messages are signalled in progress once held 10 s, then every 10 s, not before",
          "[held_messages][in_progress]") {
  BatchRig rig;
  natsMsg* a = buffered(rig, 1);
  rig.clock.advance(4s);
  natsMsg* b = buffered(rig, 2);  // joins the same batch: held since the batch opened

  rig.clock.advance(5999ms);
  CHECK(rig.held.signal_due() == 0);
  CHECK(rig.fake_settler.count(Settlement::Kind::in_progress) == 0);

  rig.clock.advance(1ms);  // 10 s since the batch opened
  CHECK(rig.held.signal_due() == 2);
  CHECK(signals(rig, a) == 1);
  CHECK(signals(rig, b) == 1);

  rig.clock.advance(9s);
  CHECK(rig.held.signal_due() == 0);
  rig.clock.advance(1s);
  CHECK(rig.held.signal_due() == 2);
  CHECK(signals(rig, a) == 2);
  CHECK(rig.metrics.messages_in_progress.Value() == 4);
  drain(rig);
}

TEST_CASE("setting the wall clock forward does not make held messages due for in-progress",
          "[held_messages][in_progress][clock]") {
  BatchRig rig;
  buffered(rig, 1);
  rig.clock.set(rig.clock.now() + 1h);
  CHECK(rig.held.signal_due() == 0);
  rig.clock.set(rig.clock.now() - 2h);
  rig.clock.advance(ste::ingest::kInProgressAfter);
  CHECK(rig.held.signal_due() == 1);
  drain(rig);
}

TEST_CASE(
    "a batch whose write takes 10 s is signalled in progress before it is acked — a quicker "
    "one is not",
    "[held_messages][in_progress][batch_commit]") {
  const auto write_takes =
      GENERATE(ste::Millis{9000}, ste::Millis{9999}, ste::Millis{10000}, ste::Millis{25000});
  INFO("the write takes " << write_takes.count() << " ms");
  BatchRig rig;
  // The progress thread's tick, as it would come at the end of a slow statement.
  rig.store.on_write = [&](auto) {
    rig.clock.advance(write_takes);
    rig.held.signal_due();
  };
  Batch b;
  rig.add(b, readings_of(1, "temperature", 2));
  rig.add(b, readings_of(2, "temperature", 2));
  rig.run(std::move(b));

  const bool due = write_takes >= 10s;
  for (natsMsg* m : rig.messages) {
    CHECK(signals(rig, m) == (due ? 1u : 0u));
    CHECK(rig.fake_settler.last(m).kind == Settlement::Kind::ack);
  }
  if (due) {
    CHECK(rig.journal.last(JournalEntry::Kind::in_progress) <
          rig.journal.first(JournalEntry::Kind::ack));
  }
}

TEST_CASE("once a writer releases its batch, no in-progress signal reaches its messages",
          "[held_messages][in_progress]") {
  BatchRig rig;
  Batch b;
  rig.add(b, readings_of(1, "temperature", 2));
  rig.held.hold(0, b);
  rig.clock.advance(10s);
  rig.held.release(0);
  CHECK(rig.held.signal_due() == 0);
  for (natsMsg* m : b.messages) natsMsg_Destroy(m);
}

TEST_CASE("a writer settles its batch only after releasing it from the in-progress signals",
          "[held_messages][in_progress][batch_commit]") {
  BatchRig rig;
  rig.store.on_write = [&](auto) { rig.clock.advance(11s); };  // held long enough to be due
  std::size_t signalled_while_settling = 0;
  // A progress tick that comes while the writer acks: it must find nothing of this batch.
  rig.settler.before_ack = [&] { signalled_while_settling += rig.held.signal_due(); };
  Batch b;
  rig.add(b, readings_of(1, "temperature", 2));
  rig.add(b, readings_of(2, "temperature", 2));
  rig.run(std::move(b));

  CHECK(rig.fake_settler.count(Settlement::Kind::ack) == 2);
  CHECK(signalled_while_settling == 0);
  CHECK(rig.fake_settler.count(Settlement::Kind::in_progress) == 0);
}

TEST_CASE("a batch signalled while buffered is signalled again 10 s after that, not at once",
          "[held_messages][in_progress]") {
  BatchRig rig;
  buffered(rig, 1);
  rig.clock.advance(10s);
  REQUIRE(rig.held.signal_due() == 1);  // signalled in the buffer at 10 s
  Batch b = rig.buffer.take_all();
  rig.inflight.add(static_cast<std::int64_t>(b.readings.size()));
  int ticks = 0;
  rig.store.on_write = [&](auto) {
    rig.clock.advance(5s);  // 15 s held, 5 s since the signal: not due
    ticks += static_cast<int>(rig.held.signal_due());
    rig.clock.advance(5s);  // 10 s since the signal: due
    ticks += static_cast<int>(rig.held.signal_due());
  };
  rig.run(std::move(b));
  CHECK(ticks == 1);
  CHECK(signals(rig, rig.messages[0]) == 2);
}

TEST_CASE("a refused in-progress signal is counted", "[held_messages][in_progress]") {
  BatchRig rig;
  buffered(rig, 1);
  buffered(rig, 2);
  rig.fake_settler.fail_all = true;
  rig.clock.advance(10s);
  CHECK(rig.held.signal_due() == 0);
  CHECK(rig.metrics.in_progress_failures.Value() == 2);
  drain(rig);
}
