#include "evaluator/stream/sse_frame.hpp"

#include <charconv>

namespace ste::stream {

std::string format_event_id(const EventId& id) { return id.epoch + "-" + std::to_string(id.seq); }

std::optional<EventId> parse_event_id(std::string_view text) {
  const auto dash = text.find('-');
  if (dash == std::string_view::npos || dash == 0 || dash > 32) return std::nullopt;
  const std::string_view epoch = text.substr(0, dash);
  for (char c : epoch) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z'))) return std::nullopt;
  }
  const std::string_view digits = text.substr(dash + 1);
  if (digits.empty() || (digits.size() > 1 && digits[0] == '0')) return std::nullopt;
  std::uint64_t seq = 0;
  const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), seq);
  if (ec != std::errc{} || end != digits.data() + digits.size()) return std::nullopt;
  return EventId{std::string(epoch), seq};
}

std::string sse_frame(std::string_view event, std::string_view data, std::string_view id) {
  std::string out;
  out.reserve(data.size() + event.size() + id.size() + 32);
  if (!id.empty()) out.append("id: ").append(id).append("\n");
  out.append("event: ").append(event).append("\n");
  std::size_t start = 0;
  while (true) {
    const auto nl = data.find('\n', start);
    out.append("data: ").append(data.substr(start, nl - start)).append("\n");
    if (nl == std::string_view::npos) break;
    start = nl + 1;
  }
  out.append("\n");
  return out;
}

std::string sse_comment(std::string_view text) {
  return std::string(": ").append(text).append("\n\n");
}

}  // namespace ste::stream
