#include "ingester/batch_commit.hpp"

#include <algorithm>
#include <span>
#include <stdexcept>
#include <thread>

#include "common/dead_letter.hpp"
#include "common/log.hpp"
#include "common/nats_client.hpp"
#include "common/pg_connection.hpp"
#include "common/uuid.hpp"
#include "ingester/batch_keys.hpp"
#include "ingester/batch_summary.hpp"

namespace ste::ingest {

namespace {
double seconds_since(const Clock& clock, MonoPoint started) {
  return std::chrono::duration<double>(clock.mono() - started).count();
}
}  // namespace

std::size_t summary_budget(std::int64_t max_payload) {
  if (max_payload <= 0) return 0;
  const auto max = static_cast<std::size_t>(max_payload);
  if (max < kMinSummaryBudget + kSummaryHeadroom) return 0;
  return max - kSummaryHeadroom;
}

BatchCommit::BatchCommit(const Clock& clock, Publisher& publisher, MessageSettler& settler,
                         InflightGate& inflight, IngestMetrics& metrics, HeldMessages& held,
                         Options options)
    : clock_(clock),
      publisher_(publisher),
      settler_(settler),
      inflight_(inflight),
      metrics_(metrics),
      held_(held),
      jetstream_(options.jetstream),
      redelivery_(options.redelivery),
      pause_(options.pause ? std::move(options.pause)
                           : Pause([](Millis d) { std::this_thread::sleep_for(d); })) {}

std::optional<WriteResult> BatchCommit::write_with_retry(const Batch& batch, BatchStore& store,
                                                         int writer, WriteFailure& failure) {
  for (int attempt = 1; attempt <= 2; ++attempt) {
    try {
      const MonoPoint started = clock_.mono();
      WriteResult r = store.write(batch.readings);
      log::debug("batch written", {{"writer", writer},
                                   {"readings", batch.readings.size()},
                                   {"inserted", r.inserted},
                                   {"stored_differently", r.differing.size()},
                                   {"write_ms", seconds_since(clock_, started) * 1000}});
      if (!db_ok_.exchange(true)) log::info("database writes recovered", {{"writer", writer}});
      return r;
    } catch (const PgError& e) {
      failure = {e.sqlstate(), e.what(), pg_error_is_environmental(e)};
      // A statement the data made fail says nothing about the database's health.
      if (failure.environmental) db_ok_ = false;
      log::error("batch write failed", {{"writer", writer},
                                        {"attempt", attempt},
                                        {"readings", batch.readings.size()},
                                        {"sqlstate", e.sqlstate()},
                                        {"error", e.what()}});
      if (attempt == 1) {
        metrics_.write_retries.Increment();
        pause_(kWriteRetryDelay);
      }
    }
  }
  return std::nullopt;
}

void BatchCommit::ack(natsMsg* m) {
  if (!settler_.ack(m)) metrics_.ack_failures.Increment();
}

void BatchCommit::nak(natsMsg* m, std::chrono::milliseconds delay) {
  if (!settler_.nak(m, delay)) metrics_.nak_failures.Increment();
  metrics_.messages_naked.Increment();
}

void BatchCommit::fail_message(natsMsg* m, const WriteFailure& failure) {
  const FailureSettlement s =
      settle_failure(settler_, m, redelivery_,
                     failure.environmental ? FailureCause::environment : FailureCause::message,
                     "write_failed", failure.sqlstate + ": " + failure.error);
  if (s.kind == FailureSettlement::Kind::dead_lettered) {
    metrics_.dead_lettered.Increment();
    log::warn("message dead-lettered: its readings cannot be written",
              {{"subject", natsMsg_GetSubject(m)},
               {"deliveries", s.deliveries},
               {"sqlstate", failure.sqlstate},
               {"error", failure.error},
               {"dead_letter_subject", dead_letter_subject(kSensorsStream.name)}});
    if (!s.broker_told) metrics_.ack_failures.Increment();
    return;
  }
  if (s.kind == FailureSettlement::Kind::dead_letter_failed) {
    // Not stored anywhere else: settle_failure handed it back.
    log::warn("dead letter not published; message handed back", {{"error", s.dead_letter_error}});
  }
  if (!s.broker_told) metrics_.nak_failures.Increment();
  metrics_.messages_naked.Increment();
}

namespace {
/// Whether the batch this thread is running has been settled (run() resets it, settle() sets it):
/// the error firewall settles a batch only if nothing did.
thread_local bool t_batch_settled = false;
}  // namespace

void BatchCommit::settle(Batch& batch, int writer, bool ok, std::size_t held_readings,
                         const FailureOf& failure_of) {
  t_batch_settled = true;
  held_.release(writer);
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

void BatchCommit::isolate(Batch& batch, BatchStore& store, int writer, std::size_t held_readings) {
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
      WriteResult r = store.write(mine);
      inserted += r.inserted;
      apply_stored_values(mine, r.differing);
      good.readings.insert(good.readings.end(), std::make_move_iterator(mine.begin()),
                           std::make_move_iterator(mine.end()));
      stored[i] = true;
    } catch (const PgError& e) {
      failures[i] = {e.sqlstate(), e.what(), pg_error_is_environmental(e)};
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
  settle(batch, writer, published, held_readings,
         [&](std::size_t i) { return stored[i] ? nullptr : &failures[i]; });
  (published ? metrics_.batches_ok : metrics_.batches_summary_failed).Increment();
  log::info("batch written one message at a time",
            {{"messages", batch.ends.size()}, {"failed", failed}, {"inserted", inserted}});
}

bool BatchCommit::publish_summary(const Batch& batch) {
  const BatchSummary summary =
      build_summary(batch.readings, new_uuid_v4(), clock_.now(), batch.labels);
  std::vector<std::string> parts;
  try {
    // Read per batch: a reconnect may reach a server with another max_payload.
    const std::size_t budget = summary_budget(publisher_.max_payload());
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
        publisher_.js_publish(kBatchesSubject, part, std::chrono::milliseconds{5000});
      } else {
        publisher_.publish(kBatchesSubject, part);
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

void BatchCommit::run(Batch&& batch, BatchStore& store, int writer) {
  const std::size_t held_readings = batch.readings.size();  // what the in-flight gate counted
  t_batch_settled = false;
  std::string error;
  try {
    commit(batch, store, writer, held_readings);
    return;
  } catch (const std::exception& e) {
    error = e.what();
  } catch (...) {
    error = "unknown exception";
  }
  // The error firewall of a writer: an unexpected failure (not the store's or the publisher's,
  // which commit() handles) never ends the thread. The batch's messages go back for a quick
  // redelivery, nothing of it stays in flight, and the writer takes the next batch.
  metrics_.batches_failed.Increment();
  log::error("batch failed unexpectedly; its messages are handed back",
             {{"writer", writer}, {"readings", held_readings}, {"error", error}});
  if (!t_batch_settled) {
    std::lock_guard nats_lock(nats_mu_);
    settle(batch, writer, !jetstream_, held_readings);
  }
}

void BatchCommit::commit(Batch& batch, BatchStore& store, int writer, std::size_t held_readings) {
  const MonoPoint started = clock_.mono();
  if (jetstream_) held_.hold(writer, batch);
  metrics_.batch_size.Observe(static_cast<double>(held_readings));
  WriteFailure failure;
  std::optional<WriteResult> written = write_with_retry(batch, store, writer, failure);
  if (!written && jetstream_ && !failure.environmental &&
      batch.ends.size() == batch.messages.size()) {
    metrics_.batches_failed.Increment();
    isolate(batch, store, writer, held_readings);
    return;
  }
  if (!written) {
    metrics_.batches_failed.Increment();
    if (!jetstream_) metrics_.readings_dropped.Increment(static_cast<double>(held_readings));
    log::error("batch given up", {{"readings", held_readings},
                                  {"messages", batch.messages.size()},
                                  {"action", jetstream_ ? "redeliver" : "dropped"}});
    std::lock_guard nats_lock(nats_mu_);
    settle(batch, writer, false, held_readings, [&](std::size_t) { return &failure; });
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
  // Writers publish and ack one at a time (the database writes above run in parallel; the NATS
  // calls are short). cnats connections are thread-safe; the crash once blamed on two writers
  // racing inside it (#6) was cnats 3.4.1's fetch overflow (common/jetstream_fetch.hpp). The lock
  // stays because it keeps one batch's summary and acks together, which costs nothing measurable.
  std::lock_guard nats_lock(nats_mu_);
  const bool published = publish_summary(batch);
  // In JetStream mode an unpublished summary means the messages come back and the summary is sent
  // again; the readings themselves are already stored and will not be duplicated.
  settle(batch, writer, published || !jetstream_, held_readings);
  if (published) {
    metrics_.batches_ok.Increment();
  } else {
    metrics_.batches_summary_failed.Increment();
  }
  metrics_.batch_seconds.Observe(seconds_since(clock_, started));
}

}  // namespace ste::ingest
