#include "ingester/batch_flusher.hpp"

#include <algorithm>
#include <span>
#include <stdexcept>

#include "common/dead_letter.hpp"
#include "common/log.hpp"
#include "common/pg_connection.hpp"
#include "common/uuid.hpp"
#include "ingester/batch_keys.hpp"
#include "ingester/batch_summary.hpp"
#include "ingester/batch_writer.hpp"
#include "ingester/in_progress.hpp"

namespace ste::ingest {

namespace {
constexpr auto kRetryDelay = std::chrono::milliseconds{100};  // the contract's single retry
}  // namespace

std::size_t summary_budget(std::int64_t max_payload) {
  if (max_payload <= 0) return 0;
  const auto max = static_cast<std::size_t>(max_payload);
  if (max < kMinSummaryBudget + kSummaryHeadroom) return 0;
  return max - kSummaryHeadroom;
}

BatchFlusher::BatchFlusher(const Clock& clock, std::string database_url, NatsClient& nats,
                           BatchBuffer& buffer, InflightGate& inflight, IngestMetrics& metrics,
                           bool jetstream, WriteMethod write_method, RedeliveryPolicy redelivery)
    : clock_(clock),
      database_url_(std::move(database_url)),
      nats_(nats),
      buffer_(buffer),
      inflight_(inflight),
      metrics_(metrics),
      jetstream_(jetstream),
      write_method_(write_method),
      redelivery_(redelivery) {}

BatchFlusher::~BatchFlusher() { stop(); }

void BatchFlusher::start(int writers) {
  const std::int64_t max_payload = natsConnection_GetMaxPayload(nats_.conn());
  if (summary_budget(max_payload) == 0) {
    throw std::runtime_error(
        "the NATS server's max_payload (" + std::to_string(max_payload) + " bytes) is below the " +
        std::to_string(kMinSummaryBudget + kSummaryHeadroom) + " bytes batch summaries need");
  }
  for (int i = 0; i < writers; ++i)
    connections_.push_back(std::make_unique<PgConnection>(database_url_));
  {
    std::lock_guard lock(held_mu_);
    held_.assign(static_cast<size_t>(writers), Held{});
  }
  for (int i = 0; i < writers; ++i) threads_.emplace_back([this, i] { writer_loop(i); });
  if (jetstream_) progress_thread_ = std::thread([this] { progress_loop(); });
}

void BatchFlusher::kick() {
  if (!buffer_.due()) return;
  // A writer holds wake_mu_ from its predicate check until wait() releases it. Taking the mutex
  // here, after the buffer became due, orders this notify after that wait began (or the writer
  // checks later and sees the buffer due): the wake-up cannot be lost.
  { std::lock_guard lock(wake_mu_); }
  wake_cv_.notify_one();
}

void BatchFlusher::stop() {
  {
    std::lock_guard lock(wake_mu_);
    if (stopping_ && threads_.empty() && !progress_thread_.joinable()) return;
    stopping_ = true;
  }
  wake_cv_.notify_all();
  for (auto& t : threads_) t.join();
  threads_.clear();
  progress_cv_.notify_all();
  if (progress_thread_.joinable()) progress_thread_.join();
}

void BatchFlusher::writer_loop(int index) {
  PgConnection& db = *connections_[static_cast<size_t>(index)];
  for (;;) {
    std::optional<Batch> batch;
    {
      std::unique_lock lock(wake_mu_);
      wake_cv_.wait(lock, [this] { return stopping_ || buffer_.due(); });
      batch = buffer_.take_if_due();
      if (!batch && stopping_) {
        Batch rest = buffer_.take_all();
        if (rest.empty()) return;
        batch = std::move(rest);
      }
    }
    metrics_.buffered_readings.Set(static_cast<double>(buffer_.size()));
    if (batch && !batch->empty()) process(std::move(*batch), db, index);
  }
}

void BatchFlusher::progress_loop() {
  std::unique_lock lock(wake_mu_);
  while (!stopping_) {
    progress_cv_.wait_for(lock, kInProgressTick, [this] { return stopping_; });
    lock.unlock();
    signal_in_progress();
    lock.lock();
  }
}

void BatchFlusher::signal_in_progress() {
  const TimePoint now = clock_.now();
  std::size_t sent = 0, failed = 0;
  auto signal = [&](const std::vector<natsMsg*>& messages) {
    for (natsMsg* m : messages) {
      if (m == nullptr) continue;
      if (ack_results_.check(natsMsg_InProgress(m, nullptr), "in_progress", now)) {
        ++sent;
      } else {
        ++failed;
      }
    }
  };
  {
    // Held for the whole round: no writer can settle (and free) a message signalled here.
    std::lock_guard lock(held_mu_);
    // The buffer's lock is held only to copy the pointers, and only when they are due.
    signal(buffer_.messages_due_for_progress(now, kInProgressAfter));
    for (Held& h : held_) {
      if (h.messages == nullptr || !in_progress_due(h.since, h.signalled, now)) continue;
      signal(*h.messages);
      h.signalled = now;
    }
  }
  if (sent > 0) {
    metrics_.messages_in_progress.Increment(static_cast<double>(sent));
    log::info("messages held over 10 s signalled in progress", {{"messages", sent}});
  }
  if (failed > 0) metrics_.in_progress_failures.Increment(static_cast<double>(failed));
}

std::optional<WriteResult> BatchFlusher::write_with_retry(const Batch& batch, PgConnection& db,
                                                          int index, WriteFailure& failure) {
  for (int attempt = 1; attempt <= 2; ++attempt) {
    try {
      if (!db.healthy()) db.reconnect();
      BatchWriter writer(db, write_method_);
      const auto started = std::chrono::steady_clock::now();
      WriteResult r = writer.write(batch.readings);
      const double secs =
          std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
      log::debug("batch written", {{"writer", index},
                                   {"readings", batch.readings.size()},
                                   {"inserted", r.inserted},
                                   {"stored_differently", r.differing.size()},
                                   {"write_ms", secs * 1000}});
      if (!db_ok_.exchange(true)) log::info("database writes recovered", {{"writer", index}});
      return r;
    } catch (const PgError& e) {
      failure = {e.sqlstate(), e.what(),
                 pg_error_is_environmental(e.sqlstate(), e.connection_lost())};
      // A statement the data made fail says nothing about the database's health.
      if (failure.environmental) db_ok_ = false;
      log::error("batch write failed", {{"writer", index},
                                        {"attempt", attempt},
                                        {"readings", batch.readings.size()},
                                        {"sqlstate", e.sqlstate()},
                                        {"error", e.what()}});
      if (attempt == 1) {
        metrics_.write_retries.Increment();
        std::this_thread::sleep_for(kRetryDelay);
      }
    }
  }
  return std::nullopt;
}

void BatchFlusher::unhold(int index) {
  std::lock_guard lock(held_mu_);
  held_[static_cast<size_t>(index)] = Held{};
}

void BatchFlusher::ack(natsMsg* m) {
  if (!ack_results_.check(natsMsg_Ack(m, nullptr), "ack")) metrics_.ack_failures.Increment();
}

void BatchFlusher::nak(natsMsg* m, std::chrono::milliseconds delay) {
  if (!ack_results_.check(natsMsg_NakWithDelay(m, delay.count(), nullptr), "nak")) {
    metrics_.nak_failures.Increment();
  }
  metrics_.messages_naked.Increment();
}

void BatchFlusher::fail_message(natsMsg* m, const WriteFailure& failure) {
  const std::int64_t delivered = delivery_count(m);
  const FailureAction action = after_failure(
      redelivery_, failure.environmental ? FailureCause::environment : FailureCause::message,
      delivered);
  if (action.dead_letter) {
    try {
      const natsStatus term = dead_letter(nats_, m, kSensorsStream.name, "write_failed",
                                          failure.sqlstate + ": " + failure.error);
      metrics_.dead_lettered.Increment();
      log::warn("message dead-lettered: its readings cannot be written",
                {{"subject", natsMsg_GetSubject(m)},
                 {"deliveries", delivered},
                 {"sqlstate", failure.sqlstate},
                 {"error", failure.error},
                 {"dead_letter_subject", dead_letter_subject(kSensorsStream.name)}});
      if (!ack_results_.check(term, "term")) metrics_.ack_failures.Increment();
      return;
    } catch (const NatsError& e) {  // not stored anywhere else: hand it back
      log::warn("dead letter not published; message handed back", {{"error", e.what()}});
    }
  }
  nak(m, action.dead_letter ? redelivery_.first_delay : action.delay);
}

void BatchFlusher::settle(Batch& batch, int index, bool ok, std::size_t held_readings,
                          const FailureOf& failure_of) {
  unhold(index);
  // A refused ack or nak is counted and logged (throttled); the message comes back after the
  // ack wait either way.
  for (std::size_t i = 0; i < batch.messages.size(); ++i) {
    natsMsg* m = batch.messages[i];
    if (jetstream_ && m != nullptr) {
      if (const WriteFailure* failure = failure_of ? failure_of(i) : nullptr) {
        fail_message(m, *failure);
      } else if (ok) {
        ack(m);
      } else {
        nak(m, std::chrono::milliseconds{kRedeliveryDelayMs});
      }
    }
    natsMsg_Destroy(m);
  }
  batch.messages.clear();
  inflight_.release(static_cast<std::int64_t>(held_readings));
  metrics_.inflight_readings.Set(static_cast<double>(inflight_.count()));
}

void BatchFlusher::isolate(Batch& batch, PgConnection& db, int index, std::size_t held_readings) {
  log::warn("batch failed for its data; writing its messages one at a time",
            {{"messages", batch.messages.size()}, {"readings", batch.readings.size()}});
  Batch good;  // the readings of the messages that stored, for their summary
  good.labels = batch.labels;
  std::vector<bool> stored(batch.messages.size(), false);
  std::vector<WriteFailure> failures(batch.messages.size());
  std::optional<WriteFailure> outage;  // once the database itself fails, stop trying
  std::int64_t inserted = 0;
  std::size_t begin = 0;
  for (std::size_t i = 0; i < batch.messages.size(); ++i) {
    const std::size_t end = batch.ends[i];
    std::span<BufferedReading> mine(batch.readings.data() + begin, end - begin);
    begin = end;
    if (outage) {
      failures[i] = *outage;
      continue;
    }
    try {
      if (!db.healthy()) db.reconnect();
      WriteResult r = BatchWriter(db, write_method_).write(mine);
      inserted += r.inserted;
      apply_stored_values(mine, r.differing);
      good.readings.insert(good.readings.end(), std::make_move_iterator(mine.begin()),
                           std::make_move_iterator(mine.end()));
      stored[i] = true;
    } catch (const PgError& e) {
      failures[i] = {e.sqlstate(), e.what(),
                     pg_error_is_environmental(e.sqlstate(), e.connection_lost())};
      if (failures[i].environmental) {
        db_ok_ = false;
        outage = failures[i];
      }
    }
  }
  metrics_.readings_stored.Increment(static_cast<double>(inserted));
  metrics_.readings_duplicate.Increment(static_cast<double>(good.readings.size()) -
                                        static_cast<double>(inserted));

  // Repeated keys reached the database and it kept one of each; the summary names each once.
  if (static_cast<std::size_t>(inserted) < good.readings.size()) drop_repeated_keys(good.readings);

  const auto failed = static_cast<std::size_t>(std::count(stored.begin(), stored.end(), false));
  std::lock_guard nats_lock(nats_mu_);
  const bool published = good.readings.empty() || publish_summary(good);
  settle(batch, index, published, held_readings,
         [&](std::size_t i) { return stored[i] ? nullptr : &failures[i]; });
  (published ? metrics_.batches_ok : metrics_.batches_summary_failed).Increment();
  log::info("batch written one message at a time",
            {{"messages", batch.ends.size()}, {"failed", failed}, {"inserted", inserted}});
}

bool BatchFlusher::publish_summary(const Batch& batch) {
  const BatchSummary summary =
      build_summary(batch.readings, new_uuid_v4(), clock_.now(), batch.labels);
  std::vector<std::string> parts;
  try {
    // Read per batch: a reconnect may reach a server with another max_payload.
    const std::size_t budget = summary_budget(natsConnection_GetMaxPayload(nats_.conn()));
    parts = summary_parts_json(summary, budget > 0 ? budget : kMinSummaryBudget);
  } catch (const std::length_error& e) {
    metrics_.summary_failures.Increment();
    log::error("summary does not fit the NATS max_payload",
               {{"batch_id", summary.batch_id}, {"error", e.what()}});
    return false;
  }
  // Every part is a complete summary of its tuples; all are published before the batch is
  // acked. When one fails the batch is redone, and the parts already sent are evaluated twice,
  // which the alerts' unique (rule, device, reading_ts) absorbs.
  for (const auto& part : parts) {
    try {
      if (jetstream_) {
        nats_.js_publish(kBatchesSubject, part);
      } else {
        nats_.publish(kBatchesSubject, part);
      }
      metrics_.summary_parts.Increment();
    } catch (const NatsError& e) {
      metrics_.summary_failures.Increment();
      log::error("summary publish failed", {{"batch_id", summary.batch_id},
                                            {"parts", parts.size()},
                                            {"bytes", part.size()},
                                            {"error", e.what()}});
      return false;
    }
  }
  if (parts.size() > 1) {
    log::debug("summary split", {{"batch_id", summary.batch_id},
                                 {"tuples", summary.tuples.size()},
                                 {"parts", parts.size()}});
  }
  return true;
}

void BatchFlusher::process(Batch&& batch, PgConnection& db, int index) {
  const auto started = std::chrono::steady_clock::now();
  const std::size_t held_readings = batch.readings.size();  // what the in-flight gate counted
  if (jetstream_) {
    std::lock_guard lock(held_mu_);
    held_[static_cast<size_t>(index)] = Held{&batch.messages, batch.opened_at, batch.progress_at};
  }
  metrics_.batch_size.Observe(static_cast<double>(held_readings));
  WriteFailure failure;
  std::optional<WriteResult> written = write_with_retry(batch, db, index, failure);
  if (!written && jetstream_ && !failure.environmental &&
      batch.ends.size() == batch.messages.size()) {
    metrics_.batches_failed.Increment();
    isolate(batch, db, index, held_readings);
    return;
  }
  if (!written) {
    metrics_.batches_failed.Increment();
    if (!jetstream_) metrics_.readings_dropped.Increment(static_cast<double>(held_readings));
    log::error("batch given up", {{"readings", held_readings},
                                  {"messages", batch.messages.size()},
                                  {"action", jetstream_ ? "redeliver" : "dropped"}});
    std::lock_guard nats_lock(nats_mu_);
    settle(batch, index, false, held_readings, [&](std::size_t) { return &failure; });
    return;
  }
  metrics_.readings_stored.Increment(static_cast<double>(written->inserted));
  metrics_.readings_duplicate.Increment(static_cast<double>(held_readings) -
                                        static_cast<double>(written->inserted));
  // Only when some readings were not inserted (a redelivery, a key re-sent, or repeated within
  // this batch; the common path skips it): every reading takes the value the database holds for
  // its key, and each key is summarised once.
  if (static_cast<std::size_t>(written->inserted) < batch.readings.size()) {
    if (const std::size_t changed = apply_stored_values(batch.readings, written->differing)) {
      log::info("readings re-sent with another value; the stored value is kept and evaluated",
                {{"readings", changed}});
    }
    drop_repeated_keys(batch.readings);
  }
  // Summary before ack: a crash in between re-sends the batch, which the idempotent write absorbs.
  // Writers publish and ack one at a time. The database writes above run in parallel; the NATS
  // calls are short, and serializing them keeps the writers from racing inside the client library
  // (a release ingester crashed once under load with two writers; see the closing note of #6).
  std::lock_guard nats_lock(nats_mu_);
  const bool published = publish_summary(batch);
  // In JetStream mode an unpublished summary means the messages come back and the summary is sent
  // again; the readings themselves are already stored and will not be duplicated.
  settle(batch, index, published || !jetstream_, held_readings);
  if (published) {
    metrics_.batches_ok.Increment();
  } else {
    metrics_.batches_summary_failed.Increment();
  }
  metrics_.batch_seconds.Observe(
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
}

}  // namespace ste::ingest
