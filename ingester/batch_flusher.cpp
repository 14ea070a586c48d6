#include "ingester/batch_flusher.hpp"

#include <optional>
#include <stdexcept>
#include <string>

#include "common/log.hpp"
#include "ingester/in_progress.hpp"

namespace ste::ingest {

BatchFlusher::BatchFlusher(const Clock& clock, BatchStoreFactory stores, Publisher& publisher,
                           MessageSettler& settler, BatchBuffer& buffer, InflightGate& inflight,
                           IngestMetrics& metrics, BatchCommit::Options options)
    : make_store_(std::move(stores)),
      publisher_(publisher),
      buffer_(buffer),
      metrics_(metrics),
      jetstream_(options.jetstream),
      held_(clock, buffer, settler, metrics),
      commit_(clock, publisher, settler, inflight, metrics, held_, std::move(options)) {}

BatchFlusher::~BatchFlusher() { stop(); }

void BatchFlusher::start(int writers) {
  const std::int64_t max_payload = publisher_.max_payload();
  if (summary_budget(max_payload) == 0) {
    throw std::runtime_error(
        "the NATS server's max_payload (" + std::to_string(max_payload) + " bytes) is below the " +
        std::to_string(kMinSummaryBudget + kSummaryHeadroom) + " bytes batch summaries need");
  }
  for (int i = 0; i < writers; ++i) stores_.push_back(make_store_());
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
  BatchStore& store = *stores_[static_cast<std::size_t>(index)];
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
    if (batch && !batch->empty()) commit_.run(std::move(*batch), store, index);
  }
}

void BatchFlusher::progress_loop() {
  std::unique_lock lock(wake_mu_);
  while (!stopping_) {
    // A real wait, not the injected Clock: this thread only paces the checks; whether a message
    // is due is decided by HeldMessages on Clock::mono().
    progress_cv_.wait_for(lock, kInProgressTick, [this] { return stopping_; });
    lock.unlock();
    try {
      held_.signal_due();
    } catch (const std::exception& e) {  // the firewall: a failed round is retried next tick
      log::error("in-progress signalling failed", {{"error", e.what()}});
    }
    lock.lock();
  }
}

}  // namespace ste::ingest
