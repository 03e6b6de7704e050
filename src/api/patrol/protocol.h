// patrol's API (patrol_api.go) over watchd's command sink: a request is checked as patrol checks it, turned into a
// supervisor::Command for one unit, submitted, and answered with the unit as it was before the command. Shared by
// the HTTP server and the UDP listener; no transport here.
#pragma once

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
std::variant<Target, std::string_view> translate(const ApiRequest &r, Endpoint ep);

struct Reply {
    bool error = false;  // an errors list (HTTP 400; UDP sends nothing)
    std::string body;    // compact JSON: an API_Response (reduced for UDP) or {"errors":[...]}
};

// The whole of patrol's api(): translate, submit, render. layout: json-timestamp; now: realtime µs.
Reply handle(supervisor::CommandSink &sink, const ApiRequest &r, Endpoint ep, std::string_view layout,
             base::Usec now);

// The reply to a request patrol could not read ("Invalid Request"): an error.
Reply invalid_request();

} // namespace watchd::api::patrol
