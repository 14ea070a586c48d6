#pragma once
/// How long JetStream waits before redelivering a message we handed back (nak) after a
/// dependency failure: long enough not to spin on a database that is away, short enough that
/// recovery is quick. cnats takes this in milliseconds.
#include <cstdint>

namespace ste::ingest {
inline constexpr std::int64_t kRedeliveryDelayMs = 1000;
}
