#pragma once
/// Random (version 4) UUIDs from OpenSSL's CSPRNG.
#include <string>

namespace ste {
std::string new_uuid_v4();
}
