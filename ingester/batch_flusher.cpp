#include "ingester/batch_flusher.hpp"

#include "common/log.hpp"
#include "common/pg_connection.hpp"
#include "common/uuid.hpp"
#include "ingester/batch_summary.hpp"
#include "ingester/batch_writer.hpp"

namespace ste::ingest {

namespace {
constexpr auto kRetryDelay = std::chrono::milliseconds{100};  // the contract's single retry
}  // namespace

BatchFlusher::BatchFlusher(const Clock& clock, std::string database_url, NatsClient& nats,
                           BatchBuffer& buffer, InflightGate& inflight, IngestMetrics& metrics,
                           bool jetstream, WriteMethod write_method)
    : clock_(clock),
      database_url_(std::move(database_url)),
      nats_(nats),
      buffer_(buffer),
      inflight_(inflight),
      metrics_(metrics),
      jetstream_(jetstream),
      write_method_(write_method) {}

BatchFlusher::~BatchFlusher() { stop(); }

void BatchFlusher::start(int writers) {
  for (int i = 0; i < writers; ++i)
    connections_.push_back(std::make_unique<PgConnection>(database_url_));
  for (int i = 0; i < writers; ++i) threads_.emplace_back([this, i] { writer_loop(i); });
}

void BatchFlusher::kick() {
  if (buffer_.due()) wake_cv_.notify_one();
}

void BatchFlusher::stop() {
  {
    std::lock_guard lock(wake_mu_);
    if (stopping_ && threads_.empty()) return;
    stopping_ = true;
  }
  wake_cv_.notify_all();
  for (auto& t : threads_) t.join();
  threads_.clear();
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

bool BatchFlusher::write_with_retry(const Batch& batch, PgConnection& db, int index) {
  for (int attempt = 1; attempt <= 2; ++attempt) {
    try {
      if (!db.healthy()) db.reconnect();
      BatchWriter writer(db, write_method_);
      const auto started = std::chrono::steady_clock::now();
      const WriteResult r = writer.write(batch.readings);
      const double secs =
          std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
      metrics_.readings_stored.Increment(static_cast<double>(r.inserted));
      metrics_.readings_duplicate.Increment(static_cast<double>(batch.readings.size()) -
                                            static_cast<double>(r.inserted));
      log::debug("batch written", {{"writer", index},
                                   {"readings", batch.readings.size()},
                                   {"inserted", r.inserted},
                                   {"write_ms", secs * 1000}});
      if (!db_ok_.exchange(true)) log::info("database writes recovered", {{"writer", index}});
      return true;
    } catch (const PgError& e) {
      db_ok_ = false;
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
  return false;
}

void BatchFlusher::settle(Batch& batch, bool ok) {
  for (natsMsg* m : batch.messages) {
    if (jetstream_) {
      if (ok) {
        natsMsg_Ack(m, nullptr);
      } else {
        natsMsg_NakWithDelay(m, kRedeliveryDelayMs, nullptr);
        metrics_.messages_naked.Increment();
      }
    }
    natsMsg_Destroy(m);
  }
  batch.messages.clear();
  inflight_.release(static_cast<std::int64_t>(batch.readings.size()));
  metrics_.inflight_readings.Set(static_cast<double>(inflight_.count()));
}

void BatchFlusher::process(Batch&& batch, PgConnection& db, int index) {
  const auto started = std::chrono::steady_clock::now();
  metrics_.batch_size.Observe(static_cast<double>(batch.readings.size()));
  if (!write_with_retry(batch, db, index)) {
    metrics_.batches_failed.Increment();
    if (!jetstream_)
      metrics_.readings_dropped.Increment(static_cast<double>(batch.readings.size()));
    log::error("batch given up", {{"readings", batch.readings.size()},
                                  {"messages", batch.messages.size()},
                                  {"action", jetstream_ ? "redeliver" : "dropped"}});
    std::lock_guard nats_lock(nats_mu_);
    settle(batch, false);
    return;
  }
  // Summary before ack: a crash in between re-sends the batch, which the idempotent write absorbs.
  const BatchSummary summary =
      build_summary(batch.readings, new_uuid_v4(), clock_.now(), batch.labels);
  const std::string json = summary_to_json(summary);
  bool published = true;
  // Writers publish and ack one at a time. The database writes above run in parallel; the NATS
  // calls are short, and serializing them keeps the writers from racing inside the client library
  // (a release ingester crashed once under load with two writers; see the closing note of #6).
  std::lock_guard nats_lock(nats_mu_);
  try {
    if (jetstream_) {
      nats_.js_publish(kBatchesSubject, json);
    } else {
      nats_.publish(kBatchesSubject, json);
    }
  } catch (const NatsError& e) {
    published = false;
    metrics_.summary_failures.Increment();
    log::error("summary publish failed", {{"batch_id", summary.batch_id}, {"error", e.what()}});
  }
  // In JetStream mode an unpublished summary means the messages come back and the summary is sent
  // again; the readings themselves are already stored and will not be duplicated.
  settle(batch, published || !jetstream_);
  metrics_.batches_ok.Increment();
  metrics_.batch_seconds.Observe(
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
}

}  // namespace ste::ingest
