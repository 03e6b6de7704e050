// patrol's HandleUDPConnection (patrol_udp.go) without the socket, and the checks of signed pings around the
// submit: the window and the replay cache before it, the HMAC inside it (the secret never leaves the core).
#include "api/udp/datagram.h"

#include <variant>

namespace watchd::api::udp {

DatagramHandler::DatagramHandler(supervisor::CommandSink &sink, std::function<base::Usec()> clock)
    : sink_(sink), clock_(std::move(clock)) {}

Outcome DatagramHandler::count(Outcome o) {
    switch (o) {
    case Outcome::Replied: break; // counted by the listener once the kernel has taken the reply
    case Outcome::Malformed: ++stats_.malformed; break;
    case Outcome::Refused: ++stats_.refused; break;
    case Outcome::BadSignature: ++stats_.bad_signature; break;
    case Outcome::Replayed: ++stats_.replayed; break;
    case Outcome::OutsideWindow: ++stats_.outside_window; break;
    }
    return o;
}

Outcome DatagramHandler::refuse(std::string_view why) {
    last_refusal_ = why;
    return count(Outcome::Refused);
}

Outcome DatagramHandler::truncated() {
    ++stats_.received;
    return count(Outcome::Malformed);
}

Outcome DatagramHandler::handle(std::string_view datagram, std::string &reply) {
    return handle(datagram, reply, clock_());
}

Outcome DatagramHandler::handle(std::string_view datagram, std::string &reply, base::Usec now) {
    ++stats_.received;
    if (const patrol::Translation *kept = memo_.find(datagram)) return serve_translated(*kept, now, reply);
    // patrol: json.Unmarshal fails → no answer.
    const auto request = patrol::parse_request_json(datagram);
    if (!request) return count(Outcome::Malformed);
    Signature sig;
    switch (parse_signature(datagram, sig)) {
    case SignatureParse::Malformed: return count(Outcome::Malformed);
    case SignatureParse::Signed: return handle_signed(*request, sig, now, reply);
    case SignatureParse::Unsigned: break;
    }
    return serve_translated(memo_.keep(datagram, patrol::translate(*request, patrol::Endpoint::Udp)), now, reply);
}

Outcome DatagramHandler::serve_translated(const patrol::Translation &translated, base::Usec now, std::string &reply) {
    if (const auto *error = std::get_if<std::string_view>(&translated)) return refuse(*error);
    return serve(std::get<patrol::Target>(translated), now, false, reply);
}

Outcome DatagramHandler::handle_signed(const patrol::ApiRequest &request, const Signature &sig, base::Usec now,
                                       std::string &reply) {
    if (!signable(request)) return count(Outcome::Malformed);
    auto translated = patrol::translate(request, patrol::Endpoint::Udp);
    if (const auto *error = std::get_if<std::string_view>(&translated)) return refuse(*error);
    patrol::Target &target = std::get<patrol::Target>(translated);
    const std::uint64_t now_sec = now / base::kUsecPerSec;
    // Cheap refusals first: the window and the replay cache need no HMAC.
    if (sig.ts + kWindowSec < now_sec || sig.ts > now_sec + kWindowSec) return count(Outcome::OutsideWindow);
    if (replay_.check(target.ref, sig.ts, sig.nonce, now_sec) != ReplayCache::Verdict::Fresh)
        return count(Outcome::Replayed);
    const std::string canonical = canonical_string(request, sig);
    bool authenticated = false;
    // Called by the core with the unit's secret, only when the unit has one.
    target.cmd.authenticate = [&](std::string_view secret) {
        authenticated = verify(secret, canonical, sig.mac);
        return authenticated;
    };
    const Outcome o = serve(target, now, true, reply);
    if (o != Outcome::Replied) return o;
    if (authenticated) replay_.record(target.ref, sig.ts, sig.nonce, now_sec);
    ++stats_.signed_ok;
    return o;
}

Outcome DatagramHandler::serve(const patrol::Target &target, base::Usec now, bool is_signed, std::string &reply) {
    const supervisor::CommandResult result = sink_.submit(target.ref, target.cmd);
    if (!result.ok() || !result.before) {
        if (is_signed && result.error == supervisor::CommandError::SecretInvalid) return count(Outcome::BadSignature);
        return refuse(supervisor::describe(result.error, target.ref.kind));
    }
    patrol::render_unit(reply, *result.before, patrol::Shape::Udp, patrol::RenderContext{layout_, now},
                        result.cas_invalid);
    return count(Outcome::Replied);
}

} // namespace watchd::api::udp
