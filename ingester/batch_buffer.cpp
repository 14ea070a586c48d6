#include "ingester/batch_buffer.hpp"

#include <algorithm>

#include "ingester/in_progress.hpp"

namespace ste::ingest {

BatchBuffer::BatchBuffer(std::size_t max_readings, Millis interval, const Clock& clock)
    : max_readings_(std::max<std::size_t>(1, max_readings)), interval_(interval), clock_(clock) {}

bool BatchBuffer::push(std::vector<BufferedReading>&& readings, natsMsg* msg,
                       const DeviceLabel* label) {
  const MonoPoint now = clock_.mono();
  std::lock_guard lock(mu_);
  if (label != nullptr && !readings.empty()) {
    pending_.labels.try_emplace(readings.front().device_id, *label);
  }
  if (pending_.empty()) {
    pending_.opened_at = now;
    pending_.readings.reserve(max_readings_);
  }
  if (pending_.readings.empty()) {
    pending_.readings = std::move(readings);
  } else {
    pending_.readings.insert(pending_.readings.end(), std::make_move_iterator(readings.begin()),
                             std::make_move_iterator(readings.end()));
  }
  if (msg != nullptr) {
    pending_.messages.push_back(msg);
    pending_.ends.push_back(pending_.readings.size());
  }

  return pending_.readings.size() >= max_readings_;
}

bool BatchBuffer::due_locked(MonoPoint now) const {
  if (pending_.empty()) return false;
  return pending_.readings.size() >= max_readings_ || now - pending_.opened_at >= interval_;
}

Batch BatchBuffer::swap_locked() {
  Batch out;
  std::swap(out, pending_);
  return out;
}

bool BatchBuffer::due() const {
  const MonoPoint now = clock_.mono();
  std::lock_guard lock(mu_);
  return due_locked(now);
}

std::optional<Batch> BatchBuffer::take_if_due() {
  const MonoPoint now = clock_.mono();
  std::lock_guard lock(mu_);
  if (!due_locked(now)) return std::nullopt;
  return swap_locked();
}

Batch BatchBuffer::take_all() {
  std::lock_guard lock(mu_);
  return swap_locked();
}

std::optional<Millis> BatchBuffer::time_until_due() const {
  const MonoPoint now = clock_.mono();
  std::lock_guard lock(mu_);
  if (pending_.empty()) return std::nullopt;
  if (pending_.readings.size() >= max_readings_) return Millis{0};
  const auto age = std::chrono::duration_cast<Millis>(now - pending_.opened_at);
  return age >= interval_ ? Millis{0} : interval_ - age;
}

std::vector<natsMsg*> BatchBuffer::messages_due_for_progress(MonoPoint now, Millis after) {
  std::lock_guard lock(mu_);
  if (pending_.messages.empty() ||
      !in_progress_due(pending_.opened_at, pending_.progress_at, now, after)) {
    return {};
  }
  pending_.progress_at = now;
  return pending_.messages;
}

std::size_t BatchBuffer::size() const {
  std::lock_guard lock(mu_);
  return pending_.readings.size();
}

}  // namespace ste::ingest
