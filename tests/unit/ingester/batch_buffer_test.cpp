#include "ingester/batch_buffer.hpp"

#include <catch2/catch.hpp>
#include <chrono>
#include <cstdint>
#include <future>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "common/clock.hpp"
#include "ingester/in_progress.hpp"

using ste::ManualClock;
using ste::Millis;
using ste::ingest::Batch;
using ste::ingest::BatchBuffer;
using ste::ingest::BufferedReading;
using namespace std::chrono_literals;

namespace {

// BatchBuffer only stores and hands back the message pointers; it never dereferences them, so
// distinct fake addresses are enough to follow them through a batch.
natsMsg* fake_msg(std::uintptr_t n) { return reinterpret_cast<natsMsg*>(n * 16); }

// `n` readings for one message; values count up from `first` so batches can be told apart.
std::vector<BufferedReading> readings(std::size_t n, double first = 0) {
  std::vector<BufferedReading> out;
  for (std::size_t i = 0; i < n; ++i) {
    BufferedReading r;
    r.tenant_id = 1;
    r.device_id = 2;
    r.reading.metric = "temperature";
    r.reading.value = first + static_cast<double>(i);
    out.push_back(std::move(r));
  }
  return out;
}

}  // namespace

TEST_CASE("push reports full exactly when the buffer reaches its size limit", "[batch_buffer]") {
  ManualClock clock;
  BatchBuffer buf(3, 500ms, clock);

  CHECK_FALSE(buf.push(readings(1), fake_msg(1)));
  CHECK_FALSE(buf.due());
  CHECK_FALSE(buf.push(readings(1), fake_msg(2)));
  CHECK_FALSE(buf.take_if_due().has_value());
  CHECK(buf.push(readings(1), fake_msg(3)));
  CHECK(buf.size() == 3);
  CHECK(buf.due());
  CHECK(buf.time_until_due() == Millis{0});

  auto batch = buf.take_if_due();
  REQUIRE(batch.has_value());
  CHECK(batch->readings.size() == 3);
  CHECK(batch->messages == std::vector<natsMsg*>{fake_msg(1), fake_msg(2), fake_msg(3)});

  CHECK(buf.size() == 0);
  CHECK_FALSE(buf.due());
  CHECK_FALSE(buf.time_until_due().has_value());
  CHECK_FALSE(buf.take_if_due().has_value());
}

TEST_CASE("a partial batch becomes due exactly when the interval has passed since its first push",
          "[batch_buffer]") {
  ManualClock clock;
  BatchBuffer buf(100, 500ms, clock);
  const auto opened = clock.mono();

  CHECK_FALSE(buf.time_until_due().has_value());  // nothing pending, nothing to wait for
  buf.push(readings(2), fake_msg(1));
  CHECK(buf.time_until_due() == Millis{500});

  clock.advance(200ms);
  buf.push(readings(1), fake_msg(2));  // a later push does not restart the interval
  CHECK(buf.time_until_due() == Millis{300});
  CHECK_FALSE(buf.due());

  clock.advance(299ms);
  CHECK(buf.time_until_due() == Millis{1});
  CHECK_FALSE(buf.due());
  CHECK_FALSE(buf.take_if_due().has_value());

  clock.advance(1ms);
  CHECK(buf.time_until_due() == Millis{0});
  CHECK(buf.due());
  auto batch = buf.take_if_due();
  REQUIRE(batch.has_value());
  CHECK(batch->readings.size() == 3);
  CHECK(batch->opened_at == opened);
  CHECK(batch->messages.size() == 2);

  clock.advance(10s);
  CHECK_FALSE(buf.due());  // an empty buffer is never due, however long it waits
  CHECK_FALSE(buf.take_if_due().has_value());
}

TEST_CASE("setting the wall clock back or forward does not change when a batch is due",
          "[batch_buffer][clock]") {
  ManualClock clock;
  BatchBuffer buf(100, 500ms, clock);
  buf.push(readings(1), fake_msg(1));

  clock.set(clock.now() + 1h);  // the host's clock jumps forward: the batch is not suddenly old
  CHECK_FALSE(buf.due());
  CHECK(buf.time_until_due() == Millis{500});
  CHECK_FALSE(buf.take_if_due().has_value());

  clock.set(clock.now() - 2h);  // and back: the batch does not wait an hour longer
  clock.advance(500ms);
  CHECK(buf.due());
  CHECK(buf.time_until_due() == Millis{0});
  REQUIRE(buf.take_if_due().has_value());
}

TEST_CASE("the interval of a new batch starts at its own first push, not at the previous flush",
          "[batch_buffer]") {
  ManualClock clock;
  BatchBuffer buf(100, 500ms, clock);
  buf.push(readings(1), fake_msg(1));
  clock.advance(500ms);
  REQUIRE(buf.take_if_due().has_value());

  clock.advance(1s);
  buf.push(readings(1), fake_msg(2));
  CHECK(buf.time_until_due() == Millis{500});
  CHECK_FALSE(buf.due());
}

TEST_CASE("time until due reports zero for a full batch even before the interval has passed",
          "[batch_buffer]") {
  ManualClock clock;
  BatchBuffer buf(2, 500ms, clock);
  buf.push(readings(2), fake_msg(1));
  CHECK(buf.time_until_due() == Millis{0});
}

TEST_CASE("a message's readings are never split across batches", "[batch_buffer]") {
  ManualClock clock;
  BatchBuffer buf(5, 500ms, clock);

  CHECK_FALSE(buf.push(readings(4, 0), fake_msg(1)));
  // Crosses the limit: the whole message joins this batch, which exceeds the limit by its size.
  CHECK(buf.push(readings(3, 100), fake_msg(2)));
  CHECK(buf.size() == 7);

  auto batch = buf.take_if_due();
  REQUIRE(batch.has_value());
  REQUIRE(batch->readings.size() == 7);
  CHECK(batch->readings[3].reading.value == 3);
  CHECK(batch->readings[4].reading.value == 100);
  CHECK(batch->readings[6].reading.value == 102);
  CHECK(batch->messages == std::vector<natsMsg*>{fake_msg(1), fake_msg(2)});
  CHECK(buf.size() == 0);
}

TEST_CASE("a single message larger than the limit travels whole in one batch", "[batch_buffer]") {
  ManualClock clock;
  BatchBuffer buf(10, 500ms, clock);
  CHECK(buf.push(readings(25), fake_msg(7)));
  auto batch = buf.take_if_due();
  REQUIRE(batch.has_value());
  CHECK(batch->readings.size() == 25);
  CHECK(batch->messages == std::vector<natsMsg*>{fake_msg(7)});
}

TEST_CASE("readings keep their order and content through the buffer", "[batch_buffer]") {
  ManualClock clock;
  BatchBuffer buf(100, 500ms, clock);
  auto first = readings(2, 10);
  first[1].tenant_id = 9;
  first[1].device_id = 8;
  first[1].reading.unit = "C";
  buf.push(std::move(first), fake_msg(1));
  buf.push(readings(1, 20), fake_msg(2));

  const Batch batch = buf.take_all();
  REQUIRE(batch.readings.size() == 3);
  CHECK(batch.readings[0].reading.value == 10);
  CHECK(batch.readings[1].reading.value == 11);
  CHECK(batch.readings[1].tenant_id == 9);
  CHECK(batch.readings[1].device_id == 8);
  CHECK(batch.readings[1].reading.unit == std::optional<std::string>{"C"});
  CHECK(batch.readings[2].reading.value == 20);
  CHECK(batch.readings[2].reading.metric == "temperature");
}

TEST_CASE("core-mode pushes without a message carry readings and no message pointers",
          "[batch_buffer]") {
  ManualClock clock;
  BatchBuffer buf(3, 500ms, clock);
  CHECK_FALSE(buf.push(readings(2), nullptr));
  CHECK(buf.push(readings(1), nullptr));
  auto batch = buf.take_if_due();
  REQUIRE(batch.has_value());
  CHECK(batch->readings.size() == 3);
  CHECK(batch->messages.empty());
  CHECK_FALSE(batch->empty());
}

TEST_CASE("take_all drains a batch that is not yet due", "[batch_buffer]") {
  ManualClock clock;
  BatchBuffer buf(100, 500ms, clock);
  buf.push(readings(2), fake_msg(1));
  REQUIRE_FALSE(buf.due());

  const Batch batch = buf.take_all();
  CHECK(batch.readings.size() == 2);
  CHECK(batch.messages == std::vector<natsMsg*>{fake_msg(1)});
  CHECK(buf.size() == 0);
  CHECK_FALSE(buf.time_until_due().has_value());
}

TEST_CASE("take_all on an empty buffer returns an empty batch", "[batch_buffer]") {
  ManualClock clock;
  BatchBuffer buf(100, 500ms, clock);
  const Batch batch = buf.take_all();
  CHECK(batch.empty());
  CHECK(batch.readings.empty());
  CHECK(batch.messages.empty());
}

TEST_CASE("pushes complete while a writer holding a taken batch is blocked on its I/O",
          "[batch_buffer][concurrency]") {
  ManualClock clock;
  constexpr std::size_t kMax = 4;
  constexpr std::size_t kMorePushes = 50;
  BatchBuffer buf(kMax, 500ms, clock);

  for (std::uintptr_t i = 1; i <= kMax; ++i) buf.push(readings(1, 0), fake_msg(i));
  REQUIRE(buf.due());

  std::promise<std::size_t> first_taken;  // writer -> main: batch swapped out, I/O starts
  std::promise<void> release_io;          // main -> writer: the "database" answers
  auto first_taken_f = first_taken.get_future();
  auto release_io_f = release_io.get_future();
  auto writer = std::async(std::launch::async, [&]() -> Batch {
    auto batch = buf.take_if_due();
    first_taken.set_value(batch ? batch->readings.size() : 0);
    release_io_f.wait();  // stands in for a slow INSERT; no BatchBuffer lock may be held here
    return buf.take_all();
  });

  REQUIRE(first_taken_f.wait_for(10s) == std::future_status::ready);
  REQUIRE(first_taken_f.get() == kMax);

  // All pushes must finish while the writer is still parked inside its "I/O".
  auto pusher = std::async(std::launch::async, [&] {
    for (std::uintptr_t i = 0; i < kMorePushes; ++i) {
      buf.push(readings(1, 1000 + static_cast<double>(i)), fake_msg(100 + i));
    }
  });
  const auto pushes_done = pusher.wait_for(10s);
  CHECK(writer.wait_for(0s) == std::future_status::timeout);  // writer is still blocked
  release_io.set_value();
  REQUIRE(pushes_done == std::future_status::ready);
  pusher.get();

  REQUIRE(writer.wait_for(10s) == std::future_status::ready);
  const Batch second = writer.get();
  REQUIRE(second.readings.size() == kMorePushes);
  CHECK(second.messages.size() == kMorePushes);
  CHECK(second.readings.front().reading.value == 1000);
  CHECK(second.readings.back().reading.value == 1000 + static_cast<double>(kMorePushes - 1));
  CHECK(second.messages.front() == fake_msg(100));
  CHECK(buf.size() == 0);
}

TEST_CASE("held messages are due for in-progress after 10 s, then every 10 s", "[in_progress]") {
  using ste::ingest::in_progress_due;
  const ste::MonoPoint t0{std::chrono::hours{2}};
  const ste::MonoPoint never{};
  CHECK_FALSE(in_progress_due(t0, never, t0, 10s));
  CHECK_FALSE(in_progress_due(t0, never, t0 + 9999ms, 10s));
  CHECK(in_progress_due(t0, never, t0 + 10s, 10s));
  CHECK(in_progress_due(t0, never, t0 + 25s, 10s));
  // Signalled at 10 s: the next signal at 20 s.
  CHECK_FALSE(in_progress_due(t0, t0 + 10s, t0 + 19s, 10s));
  CHECK(in_progress_due(t0, t0 + 10s, t0 + 20s, 10s));
  // A signal from before this hold (a batch signalled while buffered) counts from the hold.
  CHECK_FALSE(in_progress_due(t0 + 5s, t0, t0 + 12s, 10s));
  CHECK(in_progress_due(t0 + 5s, t0, t0 + 15s, 10s));
  CHECK(ste::ingest::kInProgressAfter < std::chrono::seconds{30});  // the consumer's ack wait
}

TEST_CASE("the pending batch's messages are handed out for in-progress only when due",
          "[in_progress][batch_buffer]") {
  ManualClock clock;
  BatchBuffer buf(1000, 500ms, clock);
  CHECK(buf.messages_due_for_progress(clock.mono(), 10s).empty());  // empty buffer
  buf.push(readings(1), fake_msg(1));
  clock.advance(9s);
  buf.push(readings(1), fake_msg(2));
  CHECK(buf.messages_due_for_progress(clock.mono(), 10s).empty());  // 9 s: not yet
  clock.advance(1s);
  CHECK(buf.messages_due_for_progress(clock.mono(), 10s) ==
        std::vector<natsMsg*>{fake_msg(1), fake_msg(2)});
  clock.advance(5s);
  CHECK(buf.messages_due_for_progress(clock.mono(), 10s).empty());  // signalled 5 s ago
  clock.advance(5s);
  CHECK(buf.messages_due_for_progress(clock.mono(), 10s).size() == 2);

  // The batch carries when it was signalled to its writer, and the next batch starts afresh.
  const ste::MonoPoint signalled = clock.mono();
  Batch b = buf.take_all();
  CHECK(b.progress_at == signalled);
  buf.push(readings(1), fake_msg(3));
  CHECK(buf.messages_due_for_progress(clock.mono(), 10s).empty());
  clock.advance(10s);
  CHECK(buf.messages_due_for_progress(clock.mono(), 10s) == std::vector<natsMsg*>{fake_msg(3)});
}
