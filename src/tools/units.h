// What watchctl knows of watchd's units (read over D-Bus), and how a name on its command line finds one.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace watchd::tools {

// One unit object's properties (org.watchd1.App/.Service/.Check, see org.watchd1(5)).
struct UnitInfo {
    std::string path;         // /org/watchd1/app/web
    std::string kind, id, name;
    std::string state;        // "running", "backoff", ...
    std::string active_state; // "active", "activating", ...
    std::string desired;      // "up" | "down"
    std::string instance_id, last_error, keepalive, log_directory;
    std::uint32_t pid = 0;
    std::uint64_t started = 0, last_seen = 0, restarts = 0; // realtime µs; 0 = none
    std::int32_t last_exit_code = -1, last_signal = 0;
    bool disabled = false, run_once = false, supervised = true;
    std::map<std::string, std::string> keyvalue; // values are JSON text
    // Apps: what their processes use (CPUUsageNSec, MemoryCurrent, TasksCurrent); UINT64_MAX = unknown.
    std::uint64_t cpu_nsec = UINT64_MAX, memory = UINT64_MAX, tasks = UINT64_MAX;
};

// One closed instance (GetHistory()).
struct HistoryRow {
    std::string instance_id;
    std::uint32_t pid = 0;
    std::uint64_t started = 0, stopped = 0; // realtime µs
    std::int32_t exit_code = -1, signal = 0;
    std::vector<std::string> flags;
    std::string result; // services: systemd's Result ("exit-code", ...); empty for apps
};

// The unit a command-line name means among `units`: "kind/id" (kind: app, service, check, or their plurals), or
// a bare id of whichever kind has it. On failure returns nullptr with `error` set, and `unknown` true when no
// unit has that name (false when the name is malformed or ambiguous).
const UnitInfo *resolve(const std::vector<UnitInfo> &units, std::string_view name, std::string &error, bool &unknown);

// "app/web"
std::string display_name(const UnitInfo &u);

} // namespace watchd::tools
