#pragma once
/// MessageIntake: everything that happens to one NATS message before it waits in the
/// BatchBuffer — subject, tenant, payload validation, device registration — and the rejection
/// path (metric, rate-limited log line, republish on `ste.rejected.<tenant>`).
/// Outcome per message: buffered (acked later by the writer), acked now (nothing accepted), or
/// handed back (JetStream nak with delay / core drop) when a dependency failed.
/// Not thread-safe: one instance per consuming thread (it owns a ReadingParser).
#include <nats/nats.h>

#include <string>

#include "common/clock.hpp"
#include "common/nats_client.hpp"
#include "ingester/batch_buffer.hpp"
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

  IntakeDeps d_;
  ReadingParser parser_;
  TimePoint last_dependency_warning_{};
};

}  // namespace ste::ingest
