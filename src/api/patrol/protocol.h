// patrol's API (patrol_api.go) over watchd's command sink: a request is checked as patrol checks it, turned into a
// supervisor::Command for one unit, submitted, and answered with the unit as it was before the command. Shared by
// the HTTP server and the UDP listener; no transport here.
#pragma once

#include <array>
#include <string>
#include <string_view>
#include <variant>

#include "api/patrol/request.h"
#include "api/patrol/response.h"
#include "supervisor/command_sink.h"

namespace watchd::api::patrol {

// patrol's own error texts, besides supervisor::describe()'s.
inline constexpr std::string_view kUnknownGroup = "Unknown Group";
inline constexpr std::string_view kInvalidRequest = "Invalid Request";
inline constexpr std::string_view kInvalidMethod = "Invalid Method";
inline constexpr std::string_view kInvalidBody = "Invalid Body";
inline constexpr std::string_view kServicesNoPing = "Services don't support Ping";

// Where a request came from: a ping must come through the endpoint of its app's keepalive mode.
enum class Endpoint { Http, Udp };

struct Target {
    supervisor::UnitRef ref;
    supervisor::Command cmd;
};

// The unit and the command a request means, or patrol's error text when it names no unit:
// - "Services don't support Ping": a ping with group exactly "service" or "services" (patrol checks this before
//   it lower-cases the group, so "Service" with a ping is served and the ping ignored, as patrol ignores it);
// - "Unknown Group": a group other than app(s)/service(s) in any case.
// The id is lower-cased. Services take no ping or PID (patrol's service branch ignores them). A toggle other than
// 1..7 changes nothing; keyvalue-replace without a keyvalue empties it (Go: a nil map). HTTP always returns the
// history (patrol ignores "history"), UDP never does.
using Translation = std::variant<Target, std::string_view>;
Translation translate(const ApiRequest &r, Endpoint ep);

// The translations of recent requests, by their bytes: an app pings with the same bytes ping after ping, and what
// they mean (patrol's parse, then translate) depends on those bytes alone, so a request seen again skips the JSON
// parse. One entry a slot, the slot chosen by the bytes' hash; a request longer than kLargest is not kept (held
// only until the next one like it), so what is kept stays under kSlots x kLargest bytes of requests.
class TranslationMemo {
public:
    static constexpr std::size_t kSlots = 64;
    static constexpr std::size_t kLargest = 512; // bytes: a ping is under 200

    // What `bytes` was translated to when kept, or nullptr.
    const Translation *find(std::string_view bytes) const;
    // Keeps `t` as what `bytes` means; returns it as kept.
    const Translation &keep(std::string_view bytes, Translation t);

    static std::size_t slot(std::string_view bytes);
    std::size_t kept_bytes() const; // of the requests kept

private:
    struct Entry {
        std::string bytes; // empty: unused (an empty request is not JSON)
        Translation translated;
    };
    std::array<Entry, kSlots> slots_;
    Translation large_; // the last request longer than kLargest
};

struct Reply {
    bool error = false;  // an errors list (HTTP 400; UDP sends nothing)
    std::string body;    // compact JSON: an API_Response (reduced for UDP) or {"errors":[...]}
};

// The whole of patrol's api(): translate, submit, render. layout: json-timestamp; now: realtime µs.
Reply handle(supervisor::CommandSink &sink, const ApiRequest &r, Endpoint ep, std::string_view layout,
             base::Usec now);
// The same from a translation (translate(r, ep) or a memo's).
Reply handle(supervisor::CommandSink &sink, const Translation &t, Endpoint ep, std::string_view layout,
             base::Usec now);

// The reply to a request patrol could not read ("Invalid Request"): an error.
Reply invalid_request();

} // namespace watchd::api::patrol
