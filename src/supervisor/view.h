// Read-only snapshots of units and of the whole supervisor: what the API layers (HTTP, UDP, D-Bus, metrics) read.
// A view is a copy: it stays valid and unchanged whatever the core does after it was taken.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <sys/types.h>
#include <vector>

#include "base/time.h"
#include "model/check_machine.h"
#include "model/unit_core.h"

namespace watchd::supervisor {

using model::DesiredState;
using model::HistoryEntry;
using model::KeepAlive;
using model::KeyValue;
using model::Toggle;
using model::UnitKind;
using model::UnitRef;
using model::UnitState;

// The facts of the unit's core (state, desired state, patrol's flags, CAS, PID, instance, times, last exit,
// key/value: model::UnitFacts, with started/last_seen 0 when no instance runs), and what the supervisor adds.
struct UnitView : model::UnitFacts {
    UnitRef ref;
    std::string name;
    bool supervised = true;       // false: configured, but this version of watchd does not run units of its kind
    bool has_secret = false;      // the secret itself never leaves the core
    pid_t launcher_pid = 0;       // apps in pidfile/http/udp mode: the spawned process while it runs
    std::vector<HistoryEntry> history;  // oldest first; filled only when asked for (with_history)
    std::uint64_t history_total = 0;    // entries ever added to the history (the newest one's number)
    std::optional<KeepAlive> keepalive; // apps only
    // Services only: the unit and what systemd last said of it.
    struct Systemd {
        std::string unit;          // "ssh.service"
        std::string load_state;    // "loaded", "not-found", ...; empty until read
        std::string active_state;  // systemd's ActiveState
        std::string sub_state;
        std::string result;        // systemd's Result
    };
    std::optional<Systemd> systemd;
    // Checks only: the target, and the probes' results (oldest first; filled only with the history).
    struct Check {
        std::string protocol;
        std::string endpoint; // "10.0.0.1:80" (model::CheckSpec::endpoint)
        std::vector<model::CheckSample> samples; // with history only
        base::Usec last_latency = 0;             // of the last probe (µs)
        std::uint64_t probes = 0;                // results so far
        std::uint64_t probes_ok = 0, probes_failed = 0;
        model::LatencyBuckets latency;           // of every probe so far
    };
    std::optional<Check> check;
};

struct SupervisorView {
    std::string instance_id;       // of this watchd run (patrol's /status/ instance-id)
    base::Usec started = 0;        // realtime µs
    bool shutting_down = false;
    std::string json_timestamp;    // patrol's json-timestamp (a Go layout); empty = RFC 3339
    base::Usec ping_timeout = 0;
    std::vector<UnitView> units;   // apps, then services, then checks; each kind by id
};

// What an app's processes use now, read when asked (never part of a view: a view is taken on every ping).
struct ResourceUsage {
    // CPU time (user + system) of this instance: in cgroup mode all its processes' since it started, those gone
    // included; otherwise that of its processes running now and of the children they have reaped.
    std::uint64_t cpu_usec = 0;
    // Memory: the cgroup's memory.current where the memory controller is enabled, else the sum of the processes'
    // resident set sizes; nullopt when neither can be read.
    std::optional<std::uint64_t> memory_bytes;
    std::uint64_t tasks = 0;     // threads of all its processes (cgroup: pids.current where enabled)
    std::uint64_t processes = 0; // its processes (for a pidfile app: the whole tree, its daemon included)
    bool from_cgroup = false;    // read from the app's cgroup (else summed from /proc)
};

// An app's last lines of output (the dashboard's), read when asked.
struct RecentOutput {
    std::string source;             // "journal": what watchd forwarded there (kept in memory); "files": its log files
    std::string where;              // files: the log directory
    std::vector<std::string> lines; // oldest first
};

// The daemon's own figures (metrics), read when asked.
struct DaemonStats {
    std::uint64_t cpu_usec = 0;       // watchd's own CPU time (user + system), not its children's
    std::uint64_t rss_bytes = 0;
    std::uint64_t open_fds = 0, max_fds = 0;
    base::Usec loop_lag = 0;          // how late the loop ran its last 1-second tick
    std::uint64_t pings_refused = 0;  // pings an app would not take (another PID than its own, a stopped app...)
    struct Notifier {
        std::string name;             // "email 1"
        std::uint64_t delivered = 0, failed = 0, retried = 0, dropped = 0;
    };
    std::vector<Notifier> notifiers;
};

// Where views come from (the supervisor).
class ViewProvider {
public:
    // One unit, or nullopt when there is no such unit (or it is being removed).
    virtual std::optional<UnitView> unit(const UnitRef &ref, bool with_history) const = 0;
    virtual SupervisorView view(bool with_history) const = 0;
    // An app's resource usage now; nullopt for another kind, an unknown id, or an app with no process.
    virtual std::optional<ResourceUsage> usage(const UnitRef &ref) const = 0;
    // An app's last `max_lines` lines of output; nullopt for another kind or an unknown id. Nothing by default.
    virtual std::optional<RecentOutput> recent_output(const UnitRef &, std::size_t) const { return std::nullopt; }
    // The daemon's own figures; nothing known by default (test doubles).
    virtual DaemonStats stats() const { return {}; }

protected:
    ~ViewProvider() = default;
};

} // namespace watchd::supervisor
