// libFuzzer target: one UDP datagram through DatagramHandler (patrol's parser, the signature members, the window,
// the replay cache, the HMAC check the core runs through Command::authenticate), against a fake command sink with
// an app that has a secret and one that has none. The clock is fixed at ts 1700000000, so seeds signed for then
// (corpus-udp-datagram/) reach the HMAC. Besides crashes and sanitizer reports it checks:
// - only Replied has a reply, and a reply is one compact JSON object with no history or keyvalue;
// - every datagram is counted once, under its outcome;
// - a signed ping with a secret is accepted only with a valid HMAC (checked again here), and never twice.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "api/patrol/json_doc.h"
#include "api/udp/datagram.h"

namespace {

using namespace watchd;
using api::udp::Outcome;

constexpr std::string_view kSecret = "fuzz-secret";
constexpr base::Usec kNow = 1700000000 * base::kUsecPerSec;

[[noreturn]] void fail(const char *what, std::string_view detail = "") {
    std::fprintf(stderr, "fuzz-udp-datagram: %s %.*s\n", what, static_cast<int>(detail.size()), detail.data());
    std::abort();
}

// Two udp apps: "app" (secret kSecret) and "open" (none). patrol's secret rules as the engine applies them.
class FakeSink final : public supervisor::CommandSink {
public:
    bool authenticated = false;
    supervisor::CommandResult submit(const supervisor::UnitRef &ref, const supervisor::Command &cmd) override {
        supervisor::CommandResult r;
        if (cmd.via != supervisor::Command::Via::Udp) fail("a command not marked Via::Udp");
        if (cmd.authenticate && !cmd.secret.empty()) fail("a signed command carries a secret");
        const bool known = ref.kind == supervisor::UnitKind::App && (ref.id == "app" || ref.id == "open");
        if (!known) {
            r.error = supervisor::CommandError::UnknownUnit;
            return r;
        }
        const bool has_secret = ref.id == "app";
        if (has_secret && cmd.authenticate) {
            authenticated = cmd.authenticate(kSecret);
            if (!authenticated) r.error = supervisor::CommandError::SecretInvalid;
        } else if (has_secret && cmd.secret.empty()) {
            r.cas_invalid = true;
        } else if (has_secret && cmd.secret != kSecret) {
            r.error = supervisor::CommandError::SecretInvalid;
        }
        if (!r.ok()) return r;
        supervisor::UnitView v;
        v.ref = ref;
        v.name = "App";
        v.has_secret = has_secret;
        v.keepalive = supervisor::KeepAlive::Udp;
        v.keyvalue = {{"k", "1"}};
        v.history.resize(2);
        v.cas = 42;
        r.before = v;
        return r;
    }
};

void check_reply(const std::string &reply) {
    const auto doc = api::patrol::parse_json(reply);
    if (!doc || doc->kind != api::patrol::JsonNode::Kind::Object) fail("reply is not a JSON object:", reply);
    for (const auto &m : doc->children)
        if (m.key == "history" || m.key == "keyvalue" || m.key == "errors") fail("reply is not reduced:", reply);
    if (reply.find('\n') != std::string::npos) fail("reply is not compact:", reply);
}

std::uint64_t counted(const api::udp::UdpStats &s) {
    return s.malformed + s.refused + s.bad_signature + s.replayed + s.outside_window;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t *data, std::size_t size) {
    const std::string_view datagram(reinterpret_cast<const char *>(data), size);
    FakeSink sink;
    api::udp::DatagramHandler handler(sink, [] { return kNow; });
    std::uint64_t replied = 0;
    for (int round = 0; round < 2; ++round) { // the same datagram twice: the second is a replay if it was signed
        sink.authenticated = false;
        std::string reply = "untouched";
        const Outcome o = handler.handle(datagram, reply);
        if (o == Outcome::Replied) {
            ++replied;
            check_reply(reply);
        } else if (reply != "untouched") {
            fail("a reply was written for a datagram that gets none");
        }
        if (sink.authenticated) {
            // Accepted with the secret: the signature must really be valid.
            api::udp::Signature sig;
            const auto request = api::patrol::parse_request_json(datagram);
            if (!request || api::udp::parse_signature(datagram, sig) != api::udp::SignatureParse::Signed)
                fail("authenticated without a signature");
            if (!api::udp::verify(kSecret, api::udp::canonical_string(*request, sig), sig.mac))
                fail("authenticated with an invalid HMAC");
            if (round == 1) fail("a signed ping was accepted twice");
        }
        const auto &s = handler.stats();
        if (s.received != static_cast<std::uint64_t>(round + 1) || counted(s) + replied != s.received)
            fail("the counts do not add up");
    }
    if (handler.replay_cache().entries() > 1) fail("the replay cache holds more than the one datagram");
    return 0;
}
