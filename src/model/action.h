// Actions returned by model::transition(): the effects the supervisor's executor carries out.
#pragma once

#include <string>
#include <sys/types.h>
#include <variant>

#include "base/time.h"
#include "model/event.h"

namespace watchd::model {

// What a log line / alert is about; names are journal WATCHD_EVENT values.
enum class Announcement {
    Started,    // a new instance runs (spawned or found)
    Exited,     // an instance ended
    Restarting, // a restart is scheduled (with its delay)
    Failed,     // start limit hit / cannot start: given up until toggled
    Stopping,   // a stop was requested
    Stopped,    // stopped and not wanted up
    Timeout,    // ping deadline or execute-timeout passed
    Error,      // something went wrong that is not the app's exit (pid file garbage, spawn error)
};
std::string_view to_string(Announcement a);

namespace act {
// Start a new instance: spawn the binary. adopt_first: pidfile mode tries the existing pid file first.
struct Spawn { bool adopt_first = false; };
// Send a signal to the watched process (and its process group when watchd spawned it).
struct Kill { int signal; };
// Read pid-path; the result comes back as ev::PidFileRead (watching the PID when it is valid).
struct ReadPidFile {};
// Watch a process watchd did not spawn (the PID an http/udp ping named); its exit comes as ev::ProcessExited.
struct WatchPid { pid_t pid; };
struct ArmTimer { TimerKind kind; base::Usec at; }; // CLOCK_MONOTONIC µs
struct CancelTimer { TimerKind kind; };
// Log (journal, WATCHD_EVENT=...) and, in later issues, alert.
struct Announce { Announcement what; std::string message; int priority = 6; };
} // namespace act

using Action = std::variant<act::Spawn, act::Kill, act::ReadPidFile, act::WatchPid, act::ArmTimer, act::CancelTimer,
                            act::Announce>;

} // namespace watchd::model
