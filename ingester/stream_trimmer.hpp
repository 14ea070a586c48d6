#pragma once
/// StreamTrimmer: keeps the SENSORS stream as small as a work queue would, without a work queue's
/// per-message cost.
///
/// On work-queue retention nats-server 2.9 deletes every message the moment it is acked, and each
/// delete updates that subject's state in the file store: with one message per reading from
/// thousands of devices that bookkeeping, not the ingester or PostgreSQL, caps the pipeline
/// (docs/operations.md "The SENSORS stream's retention"). On limits retention acks delete nothing;
/// instead this trimmer purges, every 10 s (--trim-interval-seconds), everything below the lowest
/// ack floor of the stream's consumers in one request. Disk use stays bounded by the backlog (plus
/// one interval of traffic), nothing unacknowledged is ever removed, and a second consumer (an
/// archive, a replay) holds the trim back instead of losing messages. It runs only where the
/// server's purge keeps unacked deliveries (nats-server 2.9.15 and later): older servers forget a
/// consumer's pending messages on any purge (ingester/sensors_retention.hpp).
///
/// `trim_point` is the decision, a plain function; StreamTrimmer::run_once is the thin shell
/// around two JetStream API calls.
#include <cstdint>
#include <optional>

#include "common/nats_client.hpp"

namespace ste::ingest {

/// The sequence to purge below (exclusive), or nullopt when nothing may go: no consumer (nobody
/// has read anything), or the slowest consumer's ack floor is still below the first message.
std::optional<std::uint64_t> trim_point(const StreamPosition& position);

/// StreamPosition (common/nats_client.hpp): first and last sequence, each consumer's ack floor.
class StreamTrimmer {
 public:
  StreamTrimmer(NatsClient& nats, std::string stream) : nats_(nats), stream_(std::move(stream)) {}

  /// One trim: reads the stream's position, purges below the trim point. Returns how many messages
  /// were purged (0 when nothing was due). Throws NatsError when the server does not answer.
  std::uint64_t run_once();

 private:
  NatsClient& nats_;
  std::string stream_;
};

}  // namespace ste::ingest
