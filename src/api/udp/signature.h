// Signed pings (watchd's own, beyond patrol): an API_Request datagram with "ts", "nonce" and "hmac" members proves
// that its sender knows the app's secret without sending it, only within a time window, and only once. The format
// is documented in watchd(8), SIGNED PINGS; everything here is pure (no clock read, no I/O).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>

#include "api/patrol/request.h"
#include "supervisor/view.h"

namespace watchd::api::udp {

inline constexpr std::string_view kSignatureVersion = "watchd-ping-v1"; // first line of the signed text
inline constexpr std::uint64_t kWindowSec = 30;                          // |ts - now| may be at most this
inline constexpr std::size_t kNonceMin = 16, kNonceMax = 64;             // nonce length, [A-Za-z0-9_-]

using Mac = std::array<unsigned char, 32>; // an HMAC-SHA256

struct Signature {
    std::uint64_t ts = 0; // unix seconds
    std::string nonce;
    Mac mac{};
};

enum class SignatureParse {
    Unsigned,  // no "hmac" member: an ordinary patrol request
    Signed,    // "ts", "nonce" and "hmac" present and well-formed: filled in
    Malformed, // an "hmac" member, but a signature member missing, repeated or ill-formed
};

// Reads the signature members of a datagram: a JSON object whose top level has "hmac" (64 hex digits), "ts" (an
// unsigned integer literal) and "nonce" (kNonceMin..kNonceMax characters of [A-Za-z0-9_-]), keys matched exactly
// after JSON decoding, each at most once. Other members are not looked at (patrol's parser reads them).
SignatureParse parse_signature(std::string_view datagram, Signature &out);

// Whether a signed request carries only what the signature covers: a ping, and no toggle, keyvalue,
// keyvalue-replace, cas or secret (all of which it would let through unsigned); group and id free of control
// characters, so that the signed text has one reading.
bool signable(const patrol::ApiRequest &r);

// The signed text: "watchd-ping-v1\n<group>\n<id>\n<pid>\n<ts>\n<nonce>", group and id as sent (decoded JSON
// strings, before patrol lower-cases them), pid and ts in decimal (pid 0 when absent).
std::string canonical_string(const patrol::ApiRequest &r, const Signature &s);

// HMAC-SHA256(key, data) (OpenSSL).
Mac hmac_sha256(std::string_view key, std::string_view data);
std::string to_hex(const Mac &mac);

// Whether `mac` is HMAC-SHA256(secret, canonical), compared in constant time (CRYPTO_memcmp).
bool verify(std::string_view secret, std::string_view canonical, const Mac &mac);

// A signed ping as a client sends it (tests, fuzz seeds and the benchmark; configs/watchd-ping is the shipped one).
std::string make_signed_ping(std::string_view id, std::uint32_t pid, std::uint64_t ts, std::string_view nonce,
                             std::string_view secret);

// The signed pings accepted recently, per unit, so that no nonce is accepted twice. Bounded whatever arrives: at most
// kPerUnit entries per unit and kMaxUnits units, and only authenticated pings are recorded (a flood of forged ones
// leaves it as it is). Entries older than the window expire. When a unit's entries are full, the one with the
// oldest ts is dropped and no ping with a ts at or before it is accepted any more for that unit: a dropped nonce
// can never come back.
class ReplayCache {
public:
    static constexpr std::size_t kPerUnit = 64;
    static constexpr std::size_t kMaxUnits = 4096;
    enum class Verdict { Fresh, Replayed, Full };

    // Whether (ts, nonce) may be accepted for `unit` now (unix seconds); Full: kMaxUnits other units hold live
    // entries. Expired entries are dropped on the way.
    Verdict check(const supervisor::UnitRef &unit, std::uint64_t ts, std::string_view nonce, std::uint64_t now);
    // Remembers an accepted ping (after check() said Fresh).
    void record(const supervisor::UnitRef &unit, std::uint64_t ts, std::string_view nonce, std::uint64_t now);
    std::size_t entries() const;
    std::size_t units() const { return units_.size(); }

private:
    struct Entry {
        std::uint64_t ts = 0;
        std::uint64_t nonce_hash = 0; // a hash stands for the nonce: 16 bytes an entry, whatever its length
    };
    struct PerUnit {
        std::array<Entry, kPerUnit> entries{};
        std::size_t size = 0;
        std::uint64_t floor = 0; // nothing at or before this ts is accepted (0: no floor yet)
        void expire(std::uint64_t now);
    };
    std::map<supervisor::UnitRef, PerUnit> units_;
};

} // namespace watchd::api::udp
