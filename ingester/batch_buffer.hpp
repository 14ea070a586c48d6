#pragma once
/// BatchBuffer: collects validated readings until STE_BATCH_SIZE readings are buffered or
/// STE_BATCH_INTERVAL_MS has passed since the first one arrived, whichever comes first. A batch's
/// age is monotonic time (Clock::mono()): setting the host's clock neither delays nor hastens a
/// flush.
///
/// Concurrency: push() is called by the consumer thread, take_*() by the writer thread(s). One
/// mutex guards the pending batch; take swaps the whole batch out under the lock and the database
/// write happens after the lock is released, so pushes never wait on database I/O.
///
/// A message's readings always travel in one batch (all or nothing), so a source message can be
/// acked exactly when its batch commits. A batch may therefore exceed the size limit by at most
/// one message's readings.
#include <nats/nats.h>

#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "common/clock.hpp"
#include "ingester/reading.hpp"

namespace ste::ingest {

/// A reading with its tenant and device resolved to database ids.
struct BufferedReading {
  std::int64_t tenant_id = 0;
  std::int64_t device_id = 0;
  Reading reading;
};

/// The names behind a device id, carried into the batch summary so the evaluator needs no lookup
/// to match device-specific rules or to write the alert's `tenant` and `device`.
struct DeviceLabel {
  std::string tenant;  ///< slug
  std::string device;  ///< device key
};
using DeviceLabels = std::unordered_map<std::int64_t, DeviceLabel>;

/// A swapped-out batch: the readings and the source messages to ack (JetStream) once committed.
/// Core mode has no messages to ack; entries may then be null.
struct Batch {
  std::vector<BufferedReading> readings;
  std::vector<natsMsg*> messages;
  /// Where each message's readings end in `readings` (one entry per message, in order), so a
  /// failing batch can be written again one message at a time.
  std::vector<std::size_t> ends;
  DeviceLabels labels;      ///< by device id, for every device in `readings`
  MonoPoint opened_at{};    ///< monotonic: when the first message arrived
  MonoPoint progress_at{};  ///< last in-progress signal to the messages (MonoPoint{}: none)
  bool empty() const { return readings.empty() && messages.empty(); }
};

class BatchBuffer {
 public:
  BatchBuffer(std::size_t max_readings, Millis interval, const Clock& clock);

  /// Appends one message's readings. Returns true when the buffer is now full, i.e. the
  /// caller should wake a writer.
  bool push(std::vector<BufferedReading>&& readings, natsMsg* msg,
            const DeviceLabel* label = nullptr);

  /// True when the pending batch should be written now (full, or non-empty and older than the
  /// interval).
  bool due() const;
  /// Swaps out the pending batch if it is due; nullopt otherwise.
  std::optional<Batch> take_if_due();
  /// Swaps out whatever is pending (shutdown drain); may return an empty batch.
  Batch take_all();

  /// How long until the pending batch becomes due by age; nullopt when the buffer is empty.
  std::optional<Millis> time_until_due() const;

  /// The pending batch's messages when in_progress_due(opened_at, progress_at, now, after), and
  /// marks them signalled at `now`; empty otherwise (the common case: no copy). The pointers stay
  /// owned by the batch: the caller may use them only while it prevents the batch from being
  /// settled (HeldMessages holds its lock, which every settle passes through).
  std::vector<natsMsg*> messages_due_for_progress(MonoPoint now, Millis after);
  std::size_t size() const;

 private:
  bool due_locked(MonoPoint now) const;
  Batch swap_locked();

  const std::size_t max_readings_;
  const Millis interval_;
  const Clock& clock_;
  mutable std::mutex mu_;
  Batch pending_;  // guarded by mu_
};

}  // namespace ste::ingest
