// UUIDv4 from getrandom(2), drawn from a small pool: every keepalive ping carries a fresh instance id (used when
// the ping discovers a running app), and a getrandom(2) call plus snprintf per ping was a fifth of the UDP API's
// CPU time. One call now fills the pool for 32 ids.
#include "base/uuid.h"

#include <cstddef>
#include <cstdint>
#include <mutex>
#include <pthread.h>
#include <random>
#include <sys/random.h>

namespace watchd::base {

namespace {

constexpr std::size_t kPoolBytes = 512;

struct Pool {
    std::uint8_t bytes[kPoolBytes];
    std::size_t left = 0; // unused bytes at the end of `bytes`
};
thread_local Pool pool;

// A forked child must not hand out the ids its parent will (watchd's children exec at once and never draw any, but
// this is a base function): the pool is emptied in the child.
void forget_pool_in_child() { pool.left = 0; }

void random_bytes(std::uint8_t *out, std::size_t n) {
    static std::once_flag once;
    std::call_once(once, [] { pthread_atfork(nullptr, nullptr, forget_pool_in_child); });
    if (pool.left < n) {
        if (getrandom(pool.bytes, kPoolBytes, 0) == static_cast<ssize_t>(kPoolBytes)) {
            pool.left = kPoolBytes;
        } else {
            // Not expected on Linux >= 3.17; a seeded engine still gives distinct ids.
            static std::mt19937_64 rng{std::random_device{}()};
            for (std::size_t i = 0; i < n; ++i) out[i] = std::uint8_t(rng());
            return;
        }
    }
    const std::uint8_t *from = pool.bytes + kPoolBytes - pool.left;
    for (std::size_t i = 0; i < n; ++i) out[i] = from[i];
    pool.left -= n;
}

} // namespace

std::string uuid_v4() {
    std::uint8_t b[16];
    random_bytes(b, sizeof b);
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    static constexpr char kHex[] = "0123456789abcdef";
    std::string out(36, '-');
    std::size_t o = 0;
    for (std::size_t i = 0; i < 16; ++i) {
        if (i == 4 || i == 6 || i == 8 || i == 10) ++o; // the dashes of 8-4-4-4-12
        out[o++] = kHex[b[i] >> 4];
        out[o++] = kHex[b[i] & 15];
    }
    return out;
}

} // namespace watchd::base
