#pragma once
/// MessageIntake: everything that happens to one NATS message before it waits in the
/// BatchBuffer — subject, tenant, payload validation, device registration — and the rejection
/// path (metric, rate-limited log line, republish on `ste.rejected.<tenant>`).
/// Outcome per message: buffered (acked later by the writer), acked now (nothing accepted),
/// handed back (JetStream nak with delay / core drop) when a dependency failed, or handed back to
/// wait for the next new-device cap window (device_cap_deferral.hpp; nothing of it is buffered or
/// counted in flight). Verdicts go through the MessageSettler port (JetStreamSettler, or
/// CoreSettler, whose verdicts are no-ops), rejections through the Publisher port, lookups
/// through the TenantResolver and DeviceRegistry's injected functions: unit tests drive it with
/// fakes and a ManualClock.
/// Not thread-safe: one instance per consuming thread (it owns a ReadingParser).
#include <nats/nats.h>

#include <optional>
#include <string>

#include "common/clock.hpp"
#include "common/log_throttle.hpp"
#include "common/message_settler.hpp"
#include "common/publisher.hpp"
#include "ingester/batch_buffer.hpp"
#include "ingester/device_cap_deferral.hpp"
#include "ingester/device_registry.hpp"
#include "ingester/inflight_gate.hpp"
#include "ingester/ingest_metrics.hpp"
#include "ingester/reading_parser.hpp"
#include "ingester/reject_log.hpp"
#include "ingester/tenant_resolver.hpp"

namespace ste::ingest {

struct IntakeDeps {
  const Clock& clock;
  Publisher& publisher;     ///< rejections, on ste.rejected.<tenant>
  MessageSettler& settler;  ///< ack, nak with delay, delivery count
  TenantResolver& tenants;
  DeviceRegistry& devices;
  BatchBuffer& buffer;
  InflightGate& inflight;
  IngestMetrics& metrics;
  RejectLog& reject_log;
  std::chrono::hours retention;
  bool jetstream;  ///< false: core NATS (no redelivery: a message that cannot wait is dropped)
  ParseLimits limits;
  DeferralPolicy deferral;
};

class MessageIntake {
 public:
  explicit MessageIntake(IntakeDeps deps) : d_(deps), parser_(deps.limits) {}
  /// Takes ownership of `msg`. Returns true when the buffer became full (wake a writer).
  bool handle(natsMsg* msg);

 private:
  void reject(const std::string& subject, const Rejection& r);
  void finish_now(natsMsg* msg);                          ///< ack (JetStream) and free
  void hand_back(natsMsg* msg, const std::exception& e);  ///< nak with delay / drop, and free
  /// The device is new and the cap is reached: wait (nak with delay) or reject; frees `msg`.
  void over_cap(natsMsg* msg, const std::string& subject, std::string_view payload,
                const std::string& tenant, std::uint64_t seq,
                std::optional<TimePoint> first_deferred);

  IntakeDeps d_;
  ReadingParser parser_;
  LogThrottle dependency_warnings_{std::chrono::seconds{1}};
  DeferralBook deferrals_;
  LogThrottle deferral_logs_{std::chrono::seconds{10}};  // counts the deferrals between lines
};

}  // namespace ste::ingest
