#pragma once
/// API keys: generated from OpenSSL's CSPRNG, stored only as their SHA-256, compared in constant
/// time.
#include <string>
#include <string_view>

namespace ste {

/// "ste_" followed by 40 lowercase hex characters (160 random bits).
std::string generate_api_key();
/// Lowercase hex SHA-256 of `data`.
std::string sha256_hex(std::string_view data);
/// Constant-time equality for equal-length secrets (lengths are not secret).
bool constant_time_equal(std::string_view a, std::string_view b);

}  // namespace ste
