// Actions returned by the state machines: the effects the supervisor's executor carries out.
#pragma once

#include <string>
#include <sys/types.h>
#include <variant>

#include "base/time.h"
#include "model/announcement.h"
#include "model/event.h"

namespace watchd::model {

namespace act {
// Start a new instance: spawn the binary. Its result comes back as ev::Spawned or ev::SpawnFailed.
struct Spawn {};
// Send a signal to the watched processes (and their process groups when watchd spawned them).
struct Kill { int signal; };
// Read pid-path; the result comes back as ev::PidFileRead.
struct ReadPidFile {};
// Watch a process watchd did not spawn (named by a pid file or a ping); its exit comes as ev::ProcessExited
// (at once, with known=false, when it is already gone).
struct WatchPid { pid_t pid; };
// Signal every process left in the session (or process group) `session` of a launcher: what a pidfile app's
// failed start left behind, so that the next start does not run beside it.
struct KillSession { pid_t session; int signal; };
// Services: follow the unit the spec names (read its state now, then follow its changes: ev::SystemdChanged).
struct WatchUnit {};
// Services: ask systemd for a job on the unit; its end comes back as ev::SystemdJobDone.
struct CallSystemd { SystemdVerb verb; };
// Checks: probe the target now (its result comes back as ev::ProbeFinished) / drop the probe in flight.
struct StartProbe {};
struct StopProbe {};
struct ArmTimer { TimerKind kind; base::Usec at; }; // CLOCK_MONOTONIC µs
struct CancelTimer { TimerKind kind; };
// Log (journal, WATCHD_EVENT=...) and, in later issues, alert. priority: syslog's (3 err ... 7 debug).
struct Announce { Announcement what; std::string message; int priority = 6; };
} // namespace act

using Action = std::variant<act::Spawn, act::Kill, act::KillSession, act::ReadPidFile, act::WatchPid, act::ArmTimer,
                            act::CancelTimer, act::Announce, act::WatchUnit, act::CallSystemd,
                            act::StartProbe, act::StopProbe>;

} // namespace watchd::model
