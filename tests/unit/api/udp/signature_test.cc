// Signed pings: HMAC-SHA256 against RFC 4231, the signed text, the signature members (well-formed or not), what a
// signed request may carry, and the replay cache's promises (no nonce twice, bounded memory, nothing evicted comes
// back).
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "api/udp/signature.h"

namespace watchd::api::udp {
namespace {

using supervisor::UnitKind;
using supervisor::UnitRef;

constexpr std::string_view kNonce = "0123456789abcdef0123456789abcdef";

TEST(Signature, HmacSha256MatchesRfc4231) {
    // RFC 4231, test case 2.
    EXPECT_EQ(to_hex(hmac_sha256("Jefe", "what do ya want for nothing?")),
              "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

TEST(Signature, CanonicalStringIsTheSignedFieldsOneALine) {
    patrol::ApiRequest r;
    r.group = "App";
    r.id = "Web";
    r.pid = 4242;
    Signature s;
    s.ts = 1700000000;
    s.nonce = std::string(kNonce);
    EXPECT_EQ(canonical_string(r, s), "watchd-ping-v1\nApp\nWeb\n4242\n1700000000\n" + std::string(kNonce));
    r.pid = 0;
    EXPECT_EQ(canonical_string(r, s), "watchd-ping-v1\nApp\nWeb\n0\n1700000000\n" + std::string(kNonce));
}

TEST(Signature, SignedPingVerifiesWithItsSecretOnly) {
    const std::string d = make_signed_ping("web", 77, 1700000000, kNonce, "s3cret");
    Signature s;
    ASSERT_EQ(parse_signature(d, s), SignatureParse::Signed);
    EXPECT_EQ(s.ts, 1700000000u);
    EXPECT_EQ(s.nonce, kNonce);
    auto r = patrol::parse_request_json(d);
    ASSERT_TRUE(r);
    EXPECT_TRUE(signable(*r));
    EXPECT_TRUE(verify("s3cret", canonical_string(*r, s), s.mac));
    EXPECT_FALSE(verify("s3creT", canonical_string(*r, s), s.mac));
    EXPECT_FALSE(verify("", canonical_string(*r, s), s.mac));
    Signature flipped = s;
    flipped.mac[31] ^= 1;
    EXPECT_FALSE(verify("s3cret", canonical_string(*r, flipped), flipped.mac));
    r->pid = 78; // another PID under the same signature
    EXPECT_FALSE(verify("s3cret", canonical_string(*r, s), s.mac));
}

TEST(Signature, MembersMustBeWellFormed) {
    const std::string mac(64, 'a');
    auto parse = [](const std::string &d) {
        Signature s;
        return parse_signature(d, s);
    };
    const std::string nonce = "\"nonce\":\"" + std::string(kNonce) + "\"";
    auto with = [&](const std::string &members) { return "{\"id\":\"web\",\"ping\":true," + members + "}"; };
    EXPECT_EQ(parse(with("\"ts\":1," + nonce + ",\"hmac\":\"" + mac + "\"")), SignatureParse::Signed);
    EXPECT_EQ(parse(with("\"ts\":1," + nonce + ",\"hmac\":\"" + std::string(64, 'F') + "\"")), SignatureParse::Signed);
    EXPECT_EQ(parse(with("\"ts\":1," + nonce + ",\"\\u0068mac\":\"" + mac + "\"")), SignatureParse::Signed);
    // no hmac: an ordinary request, whatever else it has
    EXPECT_EQ(parse(with("\"ts\":1," + nonce)), SignatureParse::Unsigned);
    EXPECT_EQ(parse(with("\"HMAC\":\"" + mac + "\"")), SignatureParse::Unsigned);
    EXPECT_EQ(parse("{\"id\":\"hmac\"}"), SignatureParse::Unsigned);
    // an hmac with something wrong around it
    for (const std::string &bad : std::initializer_list<std::string>{
             "\"ts\":1," + nonce + ",\"hmac\":\"" + mac.substr(1) + "\"",          // 63 digits
             "\"ts\":1," + nonce + ",\"hmac\":\"" + mac.substr(1) + "g\"",         // not hex
             "\"ts\":1," + nonce + ",\"hmac\":7",                                  // not a string
             nonce + ",\"hmac\":\"" + mac + "\"",                                  // no ts
             "\"ts\":1,\"hmac\":\"" + mac + "\"",                                  // no nonce
             "\"ts\":-1," + nonce + ",\"hmac\":\"" + mac + "\"",                   // signed ts
             "\"ts\":1.5," + nonce + ",\"hmac\":\"" + mac + "\"",                  // fraction
             "\"ts\":\"1\"," + nonce + ",\"hmac\":\"" + mac + "\"",                // a string
             "\"ts\":99999999999999999999," + nonce + ",\"hmac\":\"" + mac + "\"", // beyond 64 bits
             "\"ts\":1,\"nonce\":\"" + std::string(15, 'a') + "\",\"hmac\":\"" + mac + "\"",  // nonce too short
             "\"ts\":1,\"nonce\":\"" + std::string(65, 'a') + "\",\"hmac\":\"" + mac + "\"",  // nonce too long
             "\"ts\":1,\"nonce\":\"" + std::string(20, 'a') + "/\",\"hmac\":\"" + mac + "\"", // nonce charset
             "\"ts\":1," + nonce + ",\"hmac\":\"" + mac + "\",\"hmac\":\"" + mac + "\"",      // twice
             "\"ts\":1,\"ts\":2," + nonce + ",\"hmac\":\"" + mac + "\"",
         })
        EXPECT_EQ(parse(with(bad)), SignatureParse::Malformed) << bad;
    EXPECT_EQ(parse(std::string(kNonce.size(), 'x') + "hmac"), SignatureParse::Unsigned); // not JSON: patrol's call
}

TEST(Signature, OnlyAPingWithNothingUnsignedIsSignable) {
    auto request = [](auto change) {
        patrol::ApiRequest r;
        r.id = "web";
        r.group = "app";
        r.ping = true;
        change(r);
        return r;
    };
    EXPECT_TRUE(signable(request([](patrol::ApiRequest &) {})));
    EXPECT_FALSE(signable(request([](patrol::ApiRequest &r) { r.ping = false; })));
    EXPECT_FALSE(signable(request([](patrol::ApiRequest &r) { r.toggle = 2; })));
    EXPECT_FALSE(signable(request([](patrol::ApiRequest &r) { r.keyvalue = supervisor::KeyValue{}; })));
    EXPECT_FALSE(signable(request([](patrol::ApiRequest &r) { r.keyvalue_replace = true; })));
    EXPECT_FALSE(signable(request([](patrol::ApiRequest &r) { r.cas = 5; })));
    EXPECT_FALSE(signable(request([](patrol::ApiRequest &r) { r.secret = "s3cret"; })));
    EXPECT_FALSE(signable(request([](patrol::ApiRequest &r) { r.id = "web\n1"; })));
    EXPECT_FALSE(signable(request([](patrol::ApiRequest &r) { r.group = "app\x7f"; })));
}

TEST(ReplayCache, ANonceIsAcceptedOncePerUnit) {
    ReplayCache c;
    const UnitRef web{UnitKind::App, "web"}, db{UnitKind::App, "db"};
    const std::uint64_t now = 1000;
    EXPECT_EQ(c.check(web, now, "n-1", now), ReplayCache::Verdict::Fresh);
    c.record(web, now, "n-1", now);
    EXPECT_EQ(c.check(web, now, "n-1", now), ReplayCache::Verdict::Replayed);
    EXPECT_EQ(c.check(web, now + 1, "n-1", now + 1), ReplayCache::Verdict::Replayed); // the nonce, whatever the ts
    EXPECT_EQ(c.check(web, now, "n-2", now), ReplayCache::Verdict::Fresh);
    EXPECT_EQ(c.check(db, now, "n-1", now), ReplayCache::Verdict::Fresh); // per unit
    // once the window has passed the entry goes (the window refuses that ts by then)
    EXPECT_EQ(c.check(web, now + kWindowSec + 1, "n-3", now + kWindowSec + 1), ReplayCache::Verdict::Fresh);
    EXPECT_EQ(c.entries(), 0u);
}

TEST(ReplayCache, BoundedAndWhatIsEvictedNeverComesBack) {
    ReplayCache c;
    const UnitRef web{UnitKind::App, "web"};
    const std::uint64_t now = 5000;
    // A flood of distinct nonces signed with the secret, all in the window: memory stays at kPerUnit entries.
    std::vector<std::pair<std::uint64_t, std::string>> accepted;
    for (std::uint64_t i = 0; i < 10000; ++i) {
        const std::uint64_t ts = now - kWindowSec + i * (2 * kWindowSec + 1) / 10000;
        const std::string n = "nonce-" + std::to_string(i);
        if (c.check(web, ts, n, now) != ReplayCache::Verdict::Fresh) continue;
        c.record(web, ts, n, now);
        accepted.emplace_back(ts, n);
    }
    EXPECT_EQ(c.entries(), ReplayCache::kPerUnit);
    EXPECT_GE(accepted.size(), 2 * kWindowSec * 10); // more than a fast client's 10 a second get through
    // every accepted one is refused again: the kept ones by their nonce, the evicted ones by the floor
    for (const auto &[ts, n] : accepted) EXPECT_EQ(c.check(web, ts, n, now), ReplayCache::Verdict::Replayed) << n;
    // a new nonce newer than the floor (which the flood raised to its newest ts) is fine
    EXPECT_EQ(c.check(web, now + kWindowSec, "brand-new", now), ReplayCache::Verdict::Replayed);
    EXPECT_EQ(c.check(web, now + kWindowSec + 1, "brand-new", now + 1), ReplayCache::Verdict::Fresh);
}

TEST(ReplayCache, TenPingsASecondAreAllAccepted) {
    ReplayCache c;
    const UnitRef web{UnitKind::App, "web"};
    for (std::uint64_t i = 0; i < 1000; ++i) {
        const std::uint64_t now = 7000 + i / 10;
        const std::string n = "n" + std::to_string(i);
        ASSERT_EQ(c.check(web, now, n, now), ReplayCache::Verdict::Fresh) << i;
        c.record(web, now, n, now);
    }
    EXPECT_LE(c.entries(), ReplayCache::kPerUnit);
}

TEST(ReplayCache, UnitsAreBoundedTooAndFreedOnceExpired) {
    ReplayCache c;
    const std::uint64_t now = 100000;
    for (std::size_t i = 0; i < ReplayCache::kMaxUnits; ++i) c.record({UnitKind::App, "app" + std::to_string(i)}, now, "n", now);
    EXPECT_EQ(c.units(), ReplayCache::kMaxUnits);
    EXPECT_EQ(c.check({UnitKind::App, "one-more"}, now, "n", now), ReplayCache::Verdict::Full);
    EXPECT_EQ(c.check({UnitKind::App, "app7"}, now, "m", now), ReplayCache::Verdict::Fresh); // known units go on
    const std::uint64_t later = now + 2 * kWindowSec + 1;
    EXPECT_EQ(c.check({UnitKind::App, "one-more"}, later, "n", later), ReplayCache::Verdict::Fresh);
    EXPECT_EQ(c.units(), 0u);
}

} // namespace
} // namespace watchd::api::udp
