#pragma once
/// A MessageSettler for unit tests: records every verdict per message and can be told to fail.
/// Messages are made with make_message() (natsMsg_Create: no connection, no JetStream metadata);
/// a test sets a message's delivery count with set_deliveries().
#include <nats/nats.h>

#include <chrono>
#include <map>
#include <mutex>
#include <stdexcept>
#include <string>
#include <vector>

#include "common/message_settler.hpp"

namespace ste::testing {

/// One recorded verdict.
struct Settlement {
  enum class Kind { ack, nak, in_progress, dead_letter };
  Kind kind;
  std::chrono::milliseconds delay{0};  ///< nak
  std::string reason;                  ///< dead_letter
  std::string detail;                  ///< dead_letter
};

class FakeSettler final : public MessageSettler {
 public:
  bool ack(natsMsg* m) override { return record(m, {Settlement::Kind::ack, {}, {}, {}}); }
  bool nak(natsMsg* m, std::chrono::milliseconds delay) override {
    return record(m, {Settlement::Kind::nak, delay, {}, {}});
  }
  bool in_progress(natsMsg* m) override {
    return record(m, {Settlement::Kind::in_progress, {}, {}, {}});
  }
  bool dead_letter(natsMsg* m, std::string_view reason, std::string_view detail) override {
    {
      std::lock_guard lock(mu_);
      if (dead_letter_throws) throw NatsError("dead letter stream unavailable", NATS_TIMEOUT);
    }
    return record(m, {Settlement::Kind::dead_letter, {}, std::string(reason), std::string(detail)});
  }
  std::int64_t deliveries(natsMsg* m) override {
    std::lock_guard lock(mu_);
    auto it = deliveries_.find(m);
    return it == deliveries_.end() ? 1 : it->second;
  }

  void set_deliveries(natsMsg* m, std::int64_t n) {
    std::lock_guard lock(mu_);
    deliveries_[m] = n;
  }
  /// Every verdict given to `m`, in order.
  std::vector<Settlement> of(natsMsg* m) const {
    std::lock_guard lock(mu_);
    auto it = log_.find(m);
    return it == log_.end() ? std::vector<Settlement>{} : it->second;
  }
  /// The last verdict's kind given to `m`; throws when it has none.
  Settlement last(natsMsg* m) const {
    auto all = of(m);
    if (all.empty()) throw std::logic_error("message was never settled");
    return all.back();
  }
  /// How many verdicts of `kind` were given, over all messages.
  std::size_t count(Settlement::Kind kind) const {
    std::lock_guard lock(mu_);
    std::size_t n = 0;
    for (const auto& [m, list] : log_)
      for (const auto& s : list) n += s.kind == kind ? 1 : 0;
    return n;
  }

  bool fail_all = false;            ///< every operation returns false (the broker was not told)
  bool dead_letter_throws = false;  ///< dead_letter() throws NatsError (STE_DEAD unavailable)

 private:
  bool record(natsMsg* m, Settlement s) {
    std::lock_guard lock(mu_);
    log_[m].push_back(std::move(s));
    return !fail_all;
  }
  mutable std::mutex mu_;
  std::map<natsMsg*, std::vector<Settlement>> log_;
  std::map<natsMsg*, std::int64_t> deliveries_;
};

/// A message with `subject` and `data`, owned by the caller (natsMsg_Destroy).
inline natsMsg* make_message(const std::string& subject, std::string_view data) {
  // natsMsg_Destroy hands the message to the library's garbage collector, whose lock exists only
  // once the library is open (a connection opens it; these messages have none).
  static const natsStatus opened = nats_Open(-1);
  if (opened != NATS_OK) throw std::runtime_error("nats_Open failed");
  natsMsg* m = nullptr;
  if (natsMsg_Create(&m, subject.c_str(), nullptr, data.data(), static_cast<int>(data.size())) !=
      NATS_OK) {
    throw std::runtime_error("natsMsg_Create failed");
  }
  return m;
}

}  // namespace ste::testing
