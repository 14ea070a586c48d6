#include "common/redact.hpp"

namespace ste {

std::string redact_url_credentials(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  std::size_t pos = 0;
  for (;;) {
    const std::size_t scheme_end = text.find("://", pos);
    if (scheme_end == std::string_view::npos) break;
    const std::size_t authority = scheme_end + 3;
    // The authority ends at the first '/', '?', '#', ',' or whitespace; user-info is what comes
    // before its last '@' (a password may itself contain '@' when not percent-encoded).
    std::size_t end = text.find_first_of("/?#, \t\r\n", authority);
    if (end == std::string_view::npos) end = text.size();
    const std::size_t at = text.substr(authority, end - authority).rfind('@');
    out.append(text.substr(pos, authority - pos));
    if (at != std::string_view::npos) {
      out.append("***");
      out.append(text.substr(authority + at, end - authority - at));
    } else {
      out.append(text.substr(authority, end - authority));
    }
    pos = end;
  }
  out.append(text.substr(pos));
  return out;
}

}  // namespace ste
