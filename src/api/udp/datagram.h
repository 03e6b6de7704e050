// One UDP datagram through patrol's API (patrol_udp.go) and watchd's signed pings: parsed, checked, submitted to the
// command sink, answered with patrol's reduced compact API_Response, or dropped and counted. No sockets here: the
// listener, the unit tests and the fuzzer drive it alike.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "api/patrol/protocol.h"
#include "api/udp/signature.h"
#include "base/time.h"
#include "supervisor/command_sink.h"

namespace watchd::api::udp {

// What became of a datagram. Only Replied gets an answer: patrol answers errors and garbage with silence.
enum class Outcome {
    Replied,       // a request served: `reply` holds the reduced API_Response
    Malformed,     // not an API_Request (bad JSON, wrong types, too large) or a signed one that is ill-formed
    Refused,       // an error of patrol's (Unknown App, Secret Invalid, Invalid Ping Endpoint, ...)
    BadSignature,  // a signed ping whose HMAC does not match the app's secret
    Replayed,      // a signed ping whose nonce was accepted before (or the replay cache is full)
    OutsideWindow, // a signed ping whose ts is more than kWindowSec away from now
};

// Counters since start, for the log and a metrics endpoint.
struct UdpStats {
    std::uint64_t received = 0;        // datagrams read
    std::uint64_t replied = 0;         // replies the kernel took
    std::uint64_t replies_dropped = 0; // replies dropped: the send buffer was full (or the send failed)
    std::uint64_t malformed = 0;       // Outcome::Malformed (truncated datagrams included)
    std::uint64_t refused = 0;         // Outcome::Refused
    std::uint64_t bad_signature = 0;   // Outcome::BadSignature
    std::uint64_t replayed = 0;        // Outcome::Replayed
    std::uint64_t outside_window = 0;  // Outcome::OutsideWindow
    std::uint64_t signed_ok = 0;       // signed pings served (authenticated, or for an app without a secret)
};

class DatagramHandler {
public:
    // clock: realtime µs (the ts window, patrol's "lastseen" of apps watched without pings).
    explicit DatagramHandler(supervisor::CommandSink &sink, std::function<base::Usec()> clock = base::now_realtime);

    // patrol's json-timestamp (a Go layout; empty = RFC 3339) for the replies' timestamps.
    void set_layout(std::string layout) { layout_ = std::move(layout); }

    // Handles one datagram. Replied: `reply` is overwritten with the answer; otherwise it is left alone.
    Outcome handle(std::string_view datagram, std::string &reply);
    // The same at `now` (realtime µs, from now()): one reading of the clock for a batch of datagrams.
    Outcome handle(std::string_view datagram, std::string &reply, base::Usec now);
    base::Usec now() const { return clock_(); }
    // Counts a datagram cut short by the receive buffer (larger than the listener takes): malformed.
    Outcome truncated();

    const UdpStats &stats() const { return stats_; }
    UdpStats &stats() { return stats_; }
    // patrol's text of the last Refused datagram (for the log), e.g. "Unknown App".
    std::string_view last_refusal() const { return last_refusal_; }
    const ReplayCache &replay_cache() const { return replay_; }

    // What recent unsigned datagrams mean (signed ones are never kept: each carries a new nonce).
    const patrol::TranslationMemo &memo() const { return memo_; }

private:
    Outcome count(Outcome o);
    Outcome refuse(std::string_view why); // patrol's error text `why`: kept for the log, counted as Refused
    // Submits the target's command and renders the reply: the end common to plain and signed datagrams.
    Outcome serve(const patrol::Target &target, base::Usec now, bool is_signed, std::string &reply);
    Outcome serve_translated(const patrol::Translation &translated, base::Usec now, std::string &reply);
    Outcome handle_signed(const patrol::ApiRequest &request, const Signature &sig, base::Usec now, std::string &reply);

    supervisor::CommandSink &sink_;
    std::function<base::Usec()> clock_;
    std::string layout_;
    UdpStats stats_;
    ReplayCache replay_;
    std::string last_refusal_;
    patrol::TranslationMemo memo_;
};

} // namespace watchd::api::udp
