#include "ingester/stream_trimmer.hpp"

#include <algorithm>

namespace ste::ingest {

std::optional<std::uint64_t> trim_point(const StreamPosition& position) {
  if (position.ack_floors.empty() || position.first_seq == 0) return std::nullopt;
  const std::uint64_t floor =
      *std::min_element(position.ack_floors.begin(), position.ack_floors.end());
  // Purge keeps everything from `floor + 1` on; never past the newest stored message + 1.
  const std::uint64_t below = std::min(floor, position.last_seq) + 1;
  if (below <= position.first_seq) return std::nullopt;
  return below;
}

std::uint64_t StreamTrimmer::run_once() {
  const StreamPosition position = nats_.stream_position(stream_);
  const auto below = trim_point(position);
  if (!below) return 0;
  nats_.purge_below(stream_, *below);
  return *below - position.first_seq;
}

}  // namespace ste::ingest
