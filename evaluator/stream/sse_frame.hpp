#pragma once
/// The wire format of GET /api/stream (server-sent events, docs/DESIGN.md §7): one frame per
/// event, and the event ids that make a stream resumable. Pure functions.
///
/// An id is "<epoch>-<seq>": `epoch` names one StreamHub (one evaluator process), `seq` counts
/// its alert events. A client that reconnects with `Last-Event-ID` resumes only on the hub that
/// wrote the id; any other hub (another instance, a restart) answers with a `reset` event.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace ste::stream {

struct EventId {
  std::string epoch;
  std::uint64_t seq = 0;
  bool operator==(const EventId&) const = default;
};

std::string format_event_id(const EventId& id);
/// nullopt unless `text` is "<epoch>-<seq>" with epoch 1..32 characters of [0-9a-z] and seq a
/// decimal number without sign or leading zeros (0 allowed) that fits 64 bits.
std::optional<EventId> parse_event_id(std::string_view text);

/// One SSE frame: `id: <id>` (when not empty), `event: <event>`, one `data:` line per line of
/// `data`, and the blank line that ends the event. `event` and `id` must not contain line breaks
/// (they are ours); `data` may (JSON written by us has none, but a line break cannot split a
/// frame either way).
std::string sse_frame(std::string_view event, std::string_view data, std::string_view id = {});

/// A comment frame (": <text>\n\n"): keeps idle connections and proxies from timing out.
std::string sse_comment(std::string_view text);

}  // namespace ste::stream
