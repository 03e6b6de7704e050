// Signed pings: the signature members, the signed text, HMAC-SHA256 through OpenSSL, and the replay cache.
#include "api/udp/signature.h"

#include <algorithm>
#include <functional>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "api/patrol/json_doc.h"

namespace watchd::api::udp {

namespace {

using patrol::JsonNode;

int hex_digit(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

bool parse_mac(const std::string &hex, Mac &out) {
    if (hex.size() != 2 * out.size()) return false;
    for (std::size_t i = 0; i < out.size(); ++i) {
        const int hi = hex_digit(hex[2 * i]), lo = hex_digit(hex[2 * i + 1]);
        if (hi < 0 || lo < 0) return false;
        out[i] = static_cast<unsigned char>(hi * 16 + lo);
    }
    return true;
}

// An unsigned integer literal (a JSON number with digits only) that fits 64 bits.
bool parse_ts(const std::string &text, std::uint64_t &out) {
    if (text.empty() || text.size() > 20) return false;
    std::uint64_t n = 0;
    for (const char c : text) {
        if (c < '0' || c > '9') return false;
        const auto d = static_cast<std::uint64_t>(c - '0');
        if (n > (UINT64_MAX - d) / 10) return false;
        n = n * 10 + d;
    }
    out = n;
    return true;
}

bool nonce_ok(const std::string &n) {
    if (n.size() < kNonceMin || n.size() > kNonceMax) return false;
    return std::all_of(n.begin(), n.end(), [](char c) {
        return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == '-';
    });
}

bool has_control(std::string_view s) {
    return std::any_of(s.begin(), s.end(), [](char c) { return static_cast<unsigned char>(c) < 0x20 || c == 0x7f; });
}

std::uint64_t hash_nonce(std::string_view nonce) { return std::hash<std::string_view>{}(nonce); }

// HMAC-SHA256 into `out`; false if OpenSSL fails (it does not for SHA-256, short of memory).
bool compute_hmac(std::string_view key, std::string_view data, Mac &out) {
    static const unsigned char kEmpty = 0; // HMAC() wants a key pointer even for an empty key
    const void *k = key.empty() ? static_cast<const void *>(&kEmpty) : key.data();
    unsigned int len = 0;
    return HMAC(EVP_sha256(), k, static_cast<int>(key.size()), reinterpret_cast<const unsigned char *>(data.data()),
                data.size(), out.data(), &len) != nullptr &&
           len == out.size();
}

} // namespace

SignatureParse parse_signature(std::string_view datagram, Signature &out) {
    // Most datagrams are plain patrol pings: no parse unless a key could spell "hmac" (literally or through a
    // \u escape). Patrol's parser has accepted the datagram already; this second, rarer parse reads three members.
    if (datagram.find("hmac") == std::string_view::npos && datagram.find("\\u") == std::string_view::npos)
        return SignatureParse::Unsigned;
    const auto doc = patrol::parse_json(datagram);
    if (!doc || doc->kind != JsonNode::Kind::Object) return SignatureParse::Unsigned;
    const JsonNode *ts = nullptr, *nonce = nullptr, *mac = nullptr;
    bool repeated = false;
    for (const JsonNode &m : doc->children) {
        const JsonNode **slot = m.key == "ts" ? &ts : m.key == "nonce" ? &nonce : m.key == "hmac" ? &mac : nullptr;
        if (!slot) continue;
        repeated = repeated || *slot;
        *slot = &m;
    }
    if (!mac) return SignatureParse::Unsigned;
    if (repeated || !ts || !nonce) return SignatureParse::Malformed;
    if (mac->kind != JsonNode::Kind::String || !parse_mac(mac->text, out.mac)) return SignatureParse::Malformed;
    if (ts->kind != JsonNode::Kind::Number || !parse_ts(ts->text, out.ts)) return SignatureParse::Malformed;
    if (nonce->kind != JsonNode::Kind::String || !nonce_ok(nonce->text)) return SignatureParse::Malformed;
    out.nonce = nonce->text;
    return SignatureParse::Signed;
}

bool signable(const patrol::ApiRequest &r) {
    return r.ping && r.toggle == 0 && !r.keyvalue && !r.keyvalue_replace && r.cas == 0 && r.secret.empty() &&
           !has_control(r.group) && !has_control(r.id);
}

std::string canonical_string(const patrol::ApiRequest &r, const Signature &s) {
    std::string out;
    out.reserve(kSignatureVersion.size() + r.group.size() + r.id.size() + s.nonce.size() + 40);
    out.append(kSignatureVersion).append("\n");
    out.append(r.group).append("\n");
    out.append(r.id).append("\n");
    out.append(std::to_string(r.pid)).append("\n");
    out.append(std::to_string(s.ts)).append("\n");
    out.append(s.nonce);
    return out;
}

Mac hmac_sha256(std::string_view key, std::string_view data) {
    Mac out{};
    if (!compute_hmac(key, data, out)) out.fill(0);
    return out;
}

std::string to_hex(const Mac &mac) {
    static constexpr char kDigits[] = "0123456789abcdef";
    std::string out;
    out.reserve(2 * mac.size());
    for (const unsigned char b : mac) {
        out += kDigits[b >> 4];
        out += kDigits[b & 15];
    }
    return out;
}

bool verify(std::string_view secret, std::string_view canonical, const Mac &mac) {
    if (secret.empty()) return false; // nothing to prove with (the core never asks for a unit without a secret)
    Mac expected{};
    if (!compute_hmac(secret, canonical, expected)) return false;
    return CRYPTO_memcmp(expected.data(), mac.data(), mac.size()) == 0;
}

std::string make_signed_ping(std::string_view id, std::uint32_t pid, std::uint64_t ts, std::string_view nonce,
                             std::string_view secret) {
    patrol::ApiRequest r;
    r.group = "app";
    r.id = std::string(id);
    r.pid = pid;
    Signature s;
    s.ts = ts;
    s.nonce = std::string(nonce);
    const std::string mac = to_hex(hmac_sha256(secret, canonical_string(r, s)));
    // id and nonce are plain ASCII in every caller; no JSON escaping needed.
    return "{\"id\":\"" + r.id + "\",\"group\":\"app\",\"ping\":true,\"pid\":" + std::to_string(pid) +
           ",\"ts\":" + std::to_string(ts) + ",\"nonce\":\"" + s.nonce + "\",\"hmac\":\"" + mac + "\"}";
}

void ReplayCache::PerUnit::expire(std::uint64_t now) {
    // Entries the window refuses anyway are no use any more. The floor stays: it only ever rises.
    std::size_t kept = 0;
    for (std::size_t i = 0; i < size; ++i)
        if (entries[i].ts + kWindowSec >= now) entries[kept++] = entries[i];
    size = kept;
}

ReplayCache::Verdict ReplayCache::check(const supervisor::UnitRef &unit, std::uint64_t ts, std::string_view nonce,
                                        std::uint64_t now) {
    auto it = units_.find(unit);
    if (it == units_.end()) {
        if (units_.size() < kMaxUnits) return Verdict::Fresh;
        // Make room: units whose every entry has expired (and whose floor the window has passed) can go.
        for (auto i = units_.begin(); i != units_.end();) {
            i->second.expire(now);
            if (i->second.size == 0 && i->second.floor + kWindowSec < now) i = units_.erase(i);
            else ++i;
        }
        return units_.size() < kMaxUnits ? Verdict::Fresh : Verdict::Full;
    }
    PerUnit &u = it->second;
    if (u.floor && ts <= u.floor) return Verdict::Replayed;
    u.expire(now);
    const std::uint64_t h = hash_nonce(nonce);
    for (std::size_t i = 0; i < u.size; ++i)
        if (u.entries[i].nonce_hash == h) return Verdict::Replayed;
    return Verdict::Fresh;
}

void ReplayCache::record(const supervisor::UnitRef &unit, std::uint64_t ts, std::string_view nonce,
                         std::uint64_t now) {
    PerUnit &u = units_[unit];
    u.expire(now);
    if (u.size == kPerUnit) {
        // Full of live entries: the oldest goes, and the floor makes sure it cannot be replayed.
        auto oldest = std::min_element(u.entries.begin(), u.entries.begin() + static_cast<std::ptrdiff_t>(u.size),
                                       [](const Entry &a, const Entry &b) { return a.ts < b.ts; });
        u.floor = std::max(u.floor, oldest->ts);
        *oldest = u.entries[--u.size];
    }
    u.entries[u.size++] = Entry{ts, hash_nonce(nonce)};
}

std::size_t ReplayCache::entries() const {
    std::size_t n = 0;
    for (const auto &[ref, u] : units_) n += u.size;
    return n;
}

} // namespace watchd::api::udp
