// Events fed into the state machines: everything that can happen to a unit.
#pragma once

#include <string>
#include <sys/types.h>
#include <variant>

#include "base/time.h"
#include "model/unit_spec.h"

namespace watchd::model {

// The time an event is handled at: monotonic for deadlines, realtime for timestamps shown to people.
struct Now {
    base::Usec mono = 0;
    base::Usec real = 0;
};

// patrol's API toggles, with patrol's numbers.
enum class Toggle : int {
    Enable = 1,
    Disable = 2,
    Restart = 3,
    RunOnceEnable = 4,
    RunOnceDisable = 5,
    EnableRunOnceEnable = 6,
    EnableRunOnceDisable = 7,
};

// Which of a unit's timers fired.
enum class TimerKind {
    State,          // per-state deadline: restart delay, stop timeout, ping deadline, pid-file wait
    ExecuteTimeout, // execute-timeout of the running instance
};

// Why a unit is asked to go down for good (its desired state becomes Down until an Activate).
enum class DeactivateWhy {
    Shutdown,    // watchd is stopping (patrol's "shutdown" flag in history)
    Removed,     // a reload dropped the unit
    Reconfigure, // a reload changed its spec: once down, the new spec comes with ev::Reconfigured
};

// What watchd follows of a systemd unit (properties of org.freedesktop.systemd1.Unit and .Service), as last read.
struct SystemdUnit {
    std::string load_state;   // "loaded", "not-found", "masked", "bad-setting", "error"; empty: not read yet
    std::string load_error;   // LoadError's message when not loaded
    std::string active_state; // "active", "reloading", "inactive", "failed", "activating", "deactivating"
    std::string sub_state;    // "running", "exited", "dead", "auto-restart", ...
    std::string invocation_id; // 32 lower-case hex digits; empty when the unit has none
    pid_t main_pid = 0;       // MainPID: 0 while the unit has no main process
    pid_t exec_main_pid = 0;  // ExecMainPID: the main process of the last activation (kept after it ended)
    int exec_main_code = 0;   // how the main process ended: CLD_EXITED (1), CLD_KILLED (2), CLD_DUMPED (3); 0: not yet
    int exec_main_status = 0; // its exit status, or the signal that ended it
    std::string result;       // "success", "exit-code", "signal", "core-dump", "timeout", "watchdog", ...
    bool operator==(const SystemdUnit &) const = default;
};

namespace ev {
// The unit is configured (start-up, or a reload kept or re-added it): wanted up as its toggles say; a failed unit
// is retried (the operator may have fixed the cause); a running unit is left alone.
struct Activate {};
struct Deactivate { DeactivateWhy why; };
// The unit was down and its new spec is now in place: take the spec's toggles and key/value, then Activate.
struct Reconfigured {};
struct ToggleCmd { Toggle toggle; };
// patrol's key/value: merge (null values are kept, as patrol keeps them) or replace the whole map.
struct KeyValueSet { KeyValue keyvalue; bool replace = false; };
struct Spawned { pid_t pid; std::string instance_id; };
struct SpawnFailed { std::string error; };
// A watched process ended. code/signal as from waitid(); known=false when it was not our child (pidfile mode).
struct ProcessExited { pid_t pid; int code = 0; int signal = 0; bool known = true; };
// What pid-path says: pid > 0 when it names a live process that passed the age and pid-verify checks (not yet
// watched: the machine decides, and asks for act::WatchPid); error otherwise. instance_id: for an adopted instance.
struct PidFileRead { pid_t pid = 0; std::string instance_id; std::string error; };
// An HTTP/UDP keepalive ping; pid 0 when the ping carried none.
struct HeartbeatSeen { pid_t pid = 0; std::string instance_id; };
struct TimerFired { TimerKind kind; };
// A check's probe ended: ok (the target answered as the check wants), how long it took, and why not.
struct ProbeFinished { bool ok = false; base::Usec latency = 0; std::string error; std::string warning = {}; };
// A service's unit as systemd reports it now (read, or followed through PropertiesChanged).
struct SystemdChanged { SystemdUnit unit; };
// A call made for the service ended: result as systemd's JobRemoved says ("done", "canceled", "timeout", "failed",
// "dependency", "skipped", ...), or "error" when the call itself was refused (error: systemd's message).
struct SystemdJobDone { SystemdVerb verb; std::string result; std::string error; };
// systemd's D-Bus API became reachable or unreachable (why: the reason, when not).
struct SystemdAvailability { bool available = false; std::string why; };
} // namespace ev

using Event = std::variant<ev::Activate, ev::Deactivate, ev::Reconfigured, ev::ToggleCmd, ev::KeyValueSet,
                           ev::Spawned, ev::SpawnFailed, ev::ProcessExited, ev::PidFileRead, ev::HeartbeatSeen,
                           ev::TimerFired, ev::SystemdChanged, ev::SystemdJobDone, ev::SystemdAvailability,
                           ev::ProbeFinished>;

} // namespace watchd::model
