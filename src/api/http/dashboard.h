// The dashboard's data (GET /ui/state and the server-sent events of GET /ui/events): each unit as one JSON object
// the page renders as it is, and the requests the page sends (POST /ui/command). Pure: no I/O, no clock read.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include "base/time.h"
#include "supervisor/command_sink.h"
#include "supervisor/view.h"

namespace watchd::api::http {

// How many of a unit's newest history entries (apps, services) or probe results (checks) the timeline shows.
inline constexpr std::size_t kTimelineLength = 60;

// One unit: kind, id, name, state (watchd's and systemd's coarse one), "tone" (the colour: ok, busy, bad, off),
// desired state and patrol's flags, pid, instance, start time, restarts, last exit, error, key/value, whether a
// secret guards its toggles, per kind its keepalive / systemd unit / check target and latency, and a timeline of
// its newest history or probes. Times are milliseconds since the epoch. `u` should carry its history.
//
// Each timeline entry has its number "seq" (1: the unit's first run or probe), "timeline_seq" is the newest one's.
// With `since` > 0 the timeline holds only the entries numbered above it ("timeline_partial": true): an event
// stream sends what is new, and the page appends it to what it has (a check probed every second costs one entry
// an event, not the whole timeline).
std::string unit_json(const supervisor::UnitView &u, std::uint64_t since = 0);
void write_unit(std::string &out, const supervisor::UnitView &u, std::uint64_t since = 0); // appends it
// The newest timeline entry's number.
std::uint64_t timeline_seq(const supervisor::UnitView &u);

// Everything: {"host", "instance", "started", "units": [unit_json...]}.
std::string snapshot_json(const supervisor::SupervisorView &v, std::string_view host);
void write_snapshot(std::string &out, const supervisor::SupervisorView &v, std::string_view host);

// "ok" (running / up), "busy" (starting, stopping), "bad" (backoff, failed, down), "off" (inactive), "unknown"
// (a service whose systemd cannot be reached).
std::string_view tone(const supervisor::UnitView &u);

// POST /ui/command: {"kind": "app"|"service"|"check", "id": "...", "toggle": "start"|"stop"|"restart"|"run-once",
// "secret": "..."}. The unit and the command, or the error naming the field.
struct UiCommand {
    supervisor::UnitRef ref;
    supervisor::Command cmd;
};
struct UiCommandError {
    std::string field; // "kind", "toggle", ... or "" for the body as a whole
    std::string message;
};
std::variant<UiCommand, UiCommandError> parse_ui_command(std::string_view body);

// The reply to a command: {"ok": true, "unit": ...} or {"error": "...", "field": "..."}.
std::string ui_error_json(std::string_view message, std::string_view field = {});

} // namespace watchd::api::http
