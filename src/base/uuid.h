// Random UUIDv4 strings for instance ids.
#pragma once

#include <string>

namespace watchd::base {

// A new random (version 4) UUID, lower-case, 36 characters.
std::string uuid_v4();

} // namespace watchd::base
