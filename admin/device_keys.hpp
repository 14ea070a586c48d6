#pragma once
/// Reads the device keys for `ste-admin devices register`: one key per line, or a CSV whose
/// first column is the key (further columns are ignored). Blank lines are skipped; surrounding
/// spaces and double quotes around the first column are removed; a first line whose first column
/// is `device`, `device_key`, `device_id` or `key` (any case) is a header and skipped. Each key is
/// checked with the contract's device-key rule (ident::is_device_key, [A-Za-z0-9_-]{1,128}).
/// Pure.
#include <cstddef>
#include <istream>
#include <string>
#include <vector>

namespace ste::admin {

struct InvalidKeyLine {
  std::size_t line;  ///< 1-based
  std::string text;  ///< the first column as read (cut to 200 bytes)
};

struct DeviceKeyList {
  std::vector<std::string> keys;  ///< valid keys, in input order (duplicates kept)
  std::vector<InvalidKeyLine> invalid;
};

DeviceKeyList read_device_keys(std::istream& in);

}  // namespace ste::admin
