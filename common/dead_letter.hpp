#pragma once
/// Dead letters: a JetStream message that can never succeed is republished, byte for byte, on
/// `ste.dead.<stream>` (stream STE_DEAD) with headers saying why, then terminated, so it is
/// neither retried forever nor lost (docs/DESIGN.md §2, docs/operations.md "Dead letters").
/// STE_DEAD keeps messages by limits (kDeadLetterMaxAge, kDeadLetterMaxBytes, oldest dropped
/// first) since nothing consumes it; an operator inspects and replays with `ste-admin
/// dead-letters`. Stateless functions; thread-safe as NatsClient is.
#include <nats/nats.h>

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "common/nats_client.hpp"

namespace ste {

inline constexpr std::chrono::hours kDeadLetterMaxAge{24 * 14};
inline constexpr std::int64_t kDeadLetterMaxBytes = std::int64_t{1} << 30;  // 1 GiB
inline const StreamSpec kDeadStream{"STE_DEAD", "ste.dead.>", StreamRetention::limits,
                                    kDeadLetterMaxAge, kDeadLetterMaxBytes};

/// Headers a dead letter carries (the original's own headers are kept, except `Nats-*` ones).
inline constexpr const char* kDeadReasonHeader = "Ste-Dead-Reason";        ///< e.g. undecodable
inline constexpr const char* kDeadDetailHeader = "Ste-Dead-Detail";        ///< error text, one line
inline constexpr const char* kDeadSubjectHeader = "Ste-Original-Subject";  ///< replay target
inline constexpr const char* kDeadStreamHeader = "Ste-Original-Stream";
inline constexpr const char* kDeadSequenceHeader = "Ste-Original-Sequence";  ///< stream sequence
inline constexpr const char* kDeadDeliveriesHeader = "Ste-Deliveries";
inline constexpr std::size_t kDeadDetailMaxBytes = 1024;

/// `ste.dead.<stream>`.
std::string dead_letter_subject(std::string_view stream);

/// `text` made fit for a NATS header value: control characters (CR, LF, ...) become spaces and
/// it is cut to at most `max_bytes` bytes (not inside a UTF-8 sequence). Pure.
std::string header_safe(std::string_view text, std::size_t max_bytes);

/// JetStream-publishes `msg`'s exact data on `ste.dead.<stream>` with the headers above, then
/// terminates `msg` (natsMsg_Term: never redelivered). Throws NatsError when the publish fails;
/// the message is then untouched and the caller naks it, so nothing is lost. Returns Term's
/// status: when it failed the message comes back after the ack wait and is dead-lettered again,
/// which STE_DEAD drops as a duplicate (Nats-Msg-Id `<stream>:<sequence>`, 2-minute window).
/// `msg` stays owned by the caller. JetStream messages only.
[[nodiscard]] natsStatus dead_letter(NatsClient& nats, natsMsg* msg, std::string_view stream,
                                     std::string_view reason, std::string_view detail);

}  // namespace ste
