#pragma once
/// Pieces of the JSON grammar (RFC 8259) that simdjson does not answer on its own. simdjson
/// reports a malformed number and a number beyond a double (1e400) alike as NUMBER_ERROR; the
/// ingester and the API tell the two apart (malformed JSON vs an invalid value) with
/// is_json_number(). Pure.
#include <string_view>

namespace ste {

inline bool is_ascii_digit(char c) { return c >= '0' && c <= '9'; }

/// -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)? and nothing else.
bool is_json_number(std::string_view s);

}  // namespace ste
