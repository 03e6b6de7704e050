// UUIDv4 from getrandom(2).
#include "base/uuid.h"

#include <cstdint>
#include <cstdio>
#include <random>
#include <sys/random.h>

namespace watchd::base {

std::string uuid_v4() {
    std::uint8_t b[16];
    if (getrandom(b, sizeof b, 0) != sizeof b) {
        // Not expected on Linux >= 3.17; a seeded engine still gives distinct ids.
        static std::mt19937_64 rng{std::random_device{}()};
        for (auto &x : b) x = std::uint8_t(rng());
    }
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    char out[37];
    std::snprintf(out, sizeof out, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0], b[1],
                  b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15]);
    return out;
}

} // namespace watchd::base
