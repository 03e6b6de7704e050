// patrol's answers as JSON: API_Response (one unit), History, API_Status (/status/) and error lists, with Go's
// field order and `omitempty` (false, 0, "" and empty lists/maps are left out), timestamps in the json-timestamp
// layout. Everything here is compact; http_body() lays it out as patrol's HTTP endpoints do.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/time.h"
#include "supervisor/view.h"

namespace watchd::api::patrol {

// Which of patrol's views of a unit (its api_endpoint_*): what the HTTP API sends, the reduced UDP reply (no
// history, keyvalue or errors: it must fit a datagram), or an entry of /status/ (no id, group or shutdown).
enum class Shape { Http, Udp, Status };

struct RenderContext {
    std::string_view layout; // json-timestamp: a Go layout; empty = RFC 3339
    base::Usec now = 0;      // realtime µs: the "lastseen" of apps watched without pings (patrol: now)
};

// One unit as patrol's API_Response. Apps and services only (patrol's groups). What is shown:
// - pid: apps only; an http/udp app's after its first ping with a PID;
// - started: while an instance runs;
// - lastseen: patrol-mode and pidfile apps while they run: now (watched without pause through a pidfd; patrol
//   shows now for patrol mode, and its last poll for pidfile mode); http/udp apps: their last ping, none before
//   the first one; services: their last sign of life;
// - history (not Udp): oldest first, see render_history; keyvalue (not Udp): values as Go writes them.
std::string render_unit(const supervisor::UnitView &v, Shape shape, const RenderContext &ctx,
                        bool cas_invalid = false, const supervisor::ResourceUsage *usage = nullptr);
// The same into `out` (replacing what it held, keeping its capacity: a UDP reply buffer reused datagram after
// datagram).
void render_unit(std::string &out, const supervisor::UnitView &v, Shape shape, const RenderContext &ctx,
                 bool cas_invalid = false, const supervisor::ResourceUsage *usage = nullptr);

// One closed instance as patrol's History: lastseen as above, with the stop time standing for "now" (patrol-mode
// and pidfile apps), none for an http/udp app never pinged; exit-code for patrol-mode apps only (as patrol):
// 1..255, 255 for a death by signal (Go's -1 as a uint8), none for 0 or an unknown code.
std::string render_history(const supervisor::HistoryEntry &h, const std::optional<supervisor::KeepAlive> &keepalive,
                           const RenderContext &ctx);

// patrol's API_Status for /status/: instance-id, apps and services by id (Go's tag for services is "service"),
// started, shutdown. Checks are not patrol's and are not shown.
// Beyond patrol, each app entry ends with what its processes use when `usage` tells (fields patrol's clients
// ignore): "cpu-usec", "memory-bytes" (left out when unknown), "tasks", "processes".
std::string render_status(const supervisor::SupervisorView &v, base::Usec now,
                          const std::function<std::optional<supervisor::ResourceUsage>(const supervisor::UnitRef &)>
                              &usage = {});

// {"errors":[...]}
std::string render_errors(const std::vector<std::string_view> &errors);

// What patrol's HTTP endpoints send: json.MarshalIndent(v, "", "\t") and a newline.
std::string http_body(std::string_view compact);

} // namespace watchd::api::patrol
