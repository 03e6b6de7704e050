// Events fed into model::transition(): everything that can happen to an app.
#pragma once

#include <string>
#include <sys/types.h>
#include <variant>

#include "base/time.h"

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

namespace ev {
struct Activate {};                 // the unit was created (start-up, reload added it): start it if enabled
struct Shutdown {};                 // watchd is stopping, or the unit was removed: stop for good
struct ToggleCmd { Toggle toggle; };
struct Spawned { pid_t pid; std::string instance_id; };
struct SpawnFailed { std::string error; };
// A watched process ended. code/signal as from waitid(); known=false when it was not our child (pidfile mode).
struct ProcessExited { pid_t pid; int code = 0; int signal = 0; bool known = true; };
// Result of reading pid-path: pid > 0 when it names a live, verified process (now watched); error otherwise.
struct PidFileRead { pid_t pid = 0; std::string instance_id; std::string error; };
// An HTTP/UDP keepalive ping; pid 0 when the ping carried none.
struct HeartbeatSeen { pid_t pid = 0; std::string instance_id; };
struct TimerFired { TimerKind kind; };
} // namespace ev

using Event = std::variant<ev::Activate, ev::Shutdown, ev::ToggleCmd, ev::Spawned, ev::SpawnFailed,
                           ev::ProcessExited, ev::PidFileRead, ev::HeartbeatSeen, ev::TimerFired>;

} // namespace watchd::model
