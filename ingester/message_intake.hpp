#pragma once
/// MessageIntake: everything that happens to one NATS message before it waits in the
/// BatchBuffer — subject, tenant, payload validation, device registration — and the rejection
/// path (metric, rate-limited log line, republish on `ste.rejected.<tenant>`).
/// Outcome per message: buffered (acked later by the writer), acked now (nothing accepted),
/// handed back (JetStream nak with delay / core drop) when a dependency failed, or handed back to
/// wait for the next new-device cap window (device_cap_deferral.hpp; nothing of it is buffered or
/// counted in flight).
/// Not thread-safe: one instance per consuming thread (it owns a ReadingParser).
#include <nats/nats.h>

#include <string>

#include "common/clock.hpp"
#include "common/nats_client.hpp"
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
  NatsClient& nats;
  TenantResolver& tenants;
  DeviceRegistry& devices;
  BatchBuffer& buffer;
  InflightGate& inflight;
  IngestMetrics& metrics;
  RejectLog& reject_log;
  std::chrono::hours retention;
  bool jetstream;
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
                const std::string& tenant, std::uint64_t seq, std::uint64_t delivered,
                std::optional<TimePoint> first_deferred);

  IntakeDeps d_;
  ReadingParser parser_;
  TimePoint last_dependency_warning_{};
  DeferralBook deferrals_;
  TimePoint last_deferral_log_{};
  std::uint64_t deferrals_since_log_ = 0;
};

}  // namespace ste::ingest
