#include "ingester/held_messages.hpp"

#include "common/log.hpp"
#include "ingester/in_progress.hpp"

namespace ste::ingest {

void HeldMessages::hold(int writer, const Batch& batch) {
  std::lock_guard lock(mu_);
  const auto i = static_cast<std::size_t>(writer);
  if (slots_.size() <= i) slots_.resize(i + 1);
  slots_[i] = Slot{&batch.messages, batch.opened_at, batch.progress_at};
}

void HeldMessages::release(int writer) {
  std::lock_guard lock(mu_);
  const auto i = static_cast<std::size_t>(writer);
  if (i < slots_.size()) slots_[i] = Slot{};
}

std::size_t HeldMessages::signal_due() {
  const MonoPoint now = clock_.mono();
  std::size_t sent = 0, failed = 0;
  auto signal = [&](const std::vector<natsMsg*>& messages) {
    for (natsMsg* m : messages) {
      if (m == nullptr) continue;
      if (settler_.in_progress(m)) {
        ++sent;
      } else {
        ++failed;
      }
    }
  };
  {
    // Held for the whole round: no writer can settle (and free) a message signalled here.
    std::lock_guard lock(mu_);
    // The buffer's lock is held only to copy the pointers, and only when they are due.
    signal(buffer_.messages_due_for_progress(now, kInProgressAfter));
    for (Slot& s : slots_) {
      if (s.messages == nullptr || !in_progress_due(s.since, s.signalled, now)) continue;
      signal(*s.messages);
      s.signalled = now;
    }
  }
  if (sent > 0) {
    metrics_.messages_in_progress.Increment(static_cast<double>(sent));
    log::info("messages held over 10 s signalled in progress", {{"messages", sent}});
  }
  if (failed > 0) metrics_.in_progress_failures.Increment(static_cast<double>(failed));
  return sent;
}

}  // namespace ste::ingest
