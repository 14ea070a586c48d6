#pragma once
/// PurgeProbe: finds out, on the connected nats-server itself, whether a stream purge keeps the
/// consumers' unacked deliveries (nats-server 2.9.15 and later) or forgets them (before 2.9.15,
/// including Debian 12's 2.9.10). cnats does not report the server's version, and a behaviour
/// test is what matters anyway: on a scratch in-memory stream it publishes two messages, delivers
/// both to a consumer made as the ingester's durable is, acks the first, purges below the second
/// and asks how many are still pending. Takes a few milliseconds at start-up; the scratch stream is
/// deleted afterwards. First it asks whether its NATS user may purge and delete streams at all (a
/// request about a stream that does not exist: "not found" if allowed, no answer within 1 s if
/// denied, as deploy/nats/accounts.conf does): without those rights SENSORS cannot be trimmed
/// anyway, and no scratch stream is created that could not be deleted again.
#include "common/nats_client.hpp"
#include "ingester/sensors_retention.hpp"

namespace ste::ingest {

/// Never throws: a probe that cannot run (no permission to create a stream, a timeout) reports
/// the purge as unsafe, with the reason in `detail`.
PurgeSafety probe_purge_safety(NatsClient& nats);

}  // namespace ste::ingest
