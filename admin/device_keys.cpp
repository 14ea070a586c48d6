#include "admin/device_keys.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <string_view>

#include "common/identifiers.hpp"

namespace ste::admin {

namespace {

constexpr std::size_t kShownMax = 200;

std::string_view trim(std::string_view s) {
  const auto space = [](char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; };
  while (!s.empty() && space(s.front())) s.remove_prefix(1);
  while (!s.empty() && space(s.back())) s.remove_suffix(1);
  return s;
}

std::string_view first_column(std::string_view line) {
  std::string_view col = trim(line.substr(0, line.find(',')));
  if (col.size() >= 2 && col.front() == '"' && col.back() == '"') {
    col = trim(col.substr(1, col.size() - 2));
  }
  return col;
}

bool is_header(std::string_view col) {
  std::string lower(col);
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  constexpr std::array<std::string_view, 4> kHeaders = {"device", "device_key", "device_id", "key"};
  return std::find(kHeaders.begin(), kHeaders.end(), lower) != kHeaders.end();
}

}  // namespace

DeviceKeyList read_device_keys(std::istream& in) {
  DeviceKeyList out;
  std::string line;
  std::size_t number = 0;
  bool seen_content = false;
  while (std::getline(in, line)) {
    ++number;
    const std::string_view col = first_column(line);
    if (trim(line).empty()) continue;
    const bool first = !seen_content;
    seen_content = true;
    if (first && is_header(col)) continue;
    if (ident::is_device_key(col)) {
      out.keys.emplace_back(col);
    } else {
      out.invalid.push_back({number, std::string(col.substr(0, kShownMax))});
    }
  }
  return out;
}

}  // namespace ste::admin
