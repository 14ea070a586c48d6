#pragma once
/// SensorsRetention: which retention a new SENSORS stream gets, and whether the ingester trims it.
///
/// Limits retention trimmed by the ingester (StreamTrimmer) is several times cheaper for the
/// broker than a work queue when devices send one reading per message. But trimming is a stream
/// purge, and nats-server before 2.9.15 (Debian 12 ships 2.9.10) forgets every consumer's
/// delivered-but-unacked messages on any purge, even those above the purged range: a batch that
/// then fails, or an ingester killed with it in hand, is never redelivered and its readings are
/// lost. So limits retention is only used where the server's purge is known to keep unacked
/// deliveries (PurgeProbe, ingester/purge_probe.hpp); elsewhere SENSORS is a work queue.
#include <optional>
#include <string>
#include <string_view>

#include "common/nats_client.hpp"

namespace ste::ingest {

/// What the operator asked for (--sensors-retention).
enum class RetentionRequest {
  automatic,   ///< limits where trimming is safe, else work-queue (the default)
  limits,      ///< limits; refuse to start where trimming would lose readings
  work_queue,  ///< work-queue: each ack deletes
};
std::string_view retention_request_name(RetentionRequest r);
/// "auto", "limits", "work-queue" (also "work_queue"); nullopt for anything else.
std::optional<RetentionRequest> parse_retention_request(std::string_view s);

/// What the probe found out about the connected server's purge.
struct PurgeSafety {
  bool keeps_unacked = false;  ///< a purge leaves unacked deliveries above it pending
  std::string detail;          ///< how that was found out, for the log
};

/// The retention a newly created SENSORS stream gets, or an error (a sentence naming the problem
/// and the way out) when the operator asked for limits on a server where trimming is unsafe.
struct RetentionDecision {
  StreamRetention create_with = StreamRetention::work_queue;
  std::string error;
};
RetentionDecision decide_sensors_retention(RetentionRequest request, const PurgeSafety& safety);

/// Whether the ingester trims SENSORS, given the retention the stream has (an existing stream
/// keeps the one it was created with) and the probe: only limits retention on a safe server.
bool should_trim(StreamRetention effective, const PurgeSafety& safety);

}  // namespace ste::ingest
