#pragma once
/// `ste-admin dead-letters list | replay`: what an operator does with messages the services moved
/// to STE_DEAD (common/dead_letter.hpp; docs/operations.md "Dead letters"). Listing reads the
/// stream without consuming it; replaying JetStream-publishes a dead letter's exact data on its
/// original subject (Ste-Original-Subject), waits for the stream's ack, and only then deletes it
/// from STE_DEAD, so a failed replay leaves it where it was. Not thread-safe (one CLI run).
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/nats_client.hpp"

namespace ste::admin {

struct DeadLetterEntry {
  std::uint64_t seq = 0;  ///< sequence in STE_DEAD (what `replay --seq` takes)
  std::string subject;    ///< ste.dead.<stream>
  std::string reason;
  std::string detail;
  std::string original_subject;
  std::string original_stream;
  std::string original_sequence;
  std::string deliveries;
  std::size_t bytes = 0;
  std::string data;
};

/// Dead letters in STE_DEAD, oldest first, of `stream` only when given; at most `limit`.
std::vector<DeadLetterEntry> list_dead_letters(NatsClient& nats,
                                               const std::optional<std::string>& stream,
                                               std::size_t limit);

/// One JSON object per entry (without the data unless `with_data`).
std::string dead_letter_json(const DeadLetterEntry& e, bool with_data);

/// Replays the dead letter `seq`; throws (NatsError, std::runtime_error) when it is missing or
/// the publish fails, in which case it stays in STE_DEAD.
void replay_dead_letter(NatsClient& nats, std::uint64_t seq);

/// The `dead-letters` subcommand: `list` prints dead_letter_json lines; `replay` replays `seqs`
/// (or, with `all`, every dead letter of `stream`, or of all streams when it is empty) and
/// prints one {"seq", "replayed_to"} line each. Returns the exit code: 1 when any replay failed.
int dead_letters_command(const NatsSettings& settings, bool list, const std::string& stream,
                         std::size_t limit, bool with_data, const std::vector<std::uint64_t>& seqs,
                         bool all);

}  // namespace ste::admin
