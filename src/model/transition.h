// The app state machine: transition(spec, settings, status, event, now) → actions. Pure: no I/O, no clock.
//
// States (see unit_state.h) and what holds in each:
//   Inactive  no process, no timer. Entered when disabled, when run-once is consumed, or at shutdown.
//   Starting  a Spawn was issued (patrol mode leaves Starting as soon as ev::Spawned arrives).
//             pidfile: the launcher runs or has exited; the State timer polls pid-path every 100 ms until
//             state_deadline (10 s): a live, verified PID → Running, else the start failed.
//             http/udp: the State timer is the ping deadline; the first ping → Running.
//   Running   the main process is watched through a pidfd (patrol, pidfile) and/or pings keep it alive
//             (http/udp: the State timer is the ping deadline, re-armed by every ping). ExecuteTimeout armed
//             when execute-timeout is set.
//   Stopping  stop-signal sent to every live process of the instance; State timer = stop-timeout, then SIGKILL.
//             When the last process is gone, after_stop decides: Rest → Inactive, Start → start at once
//             (restart toggle), Backoff → the restart path below (ping/execute timeouts).
//   Backoff   the instance died while wanted up; the State timer is the restart delay.
//   Failed    the start limit was hit (start-limit-burst starts within start-limit-interval); no timer.
//             Left only by a toggle (enable/restart...) or a reload that changes the app.
//
// Wanted up = !disabled && !(run_once && run_once_consumed) && !shutdown. An exit while wanted up restarts:
// the first restart after a quick failure is immediate, then the delay doubles from backoff-initial to
// backoff-max; a run of at least backoff-reset forgets earlier failures. Every start is recorded against
// the start limit. Toggles follow patrol's semantics (model/event.h Toggle) and reset the start limit.
// enter() is the one place that changes state; it cancels the timers the new state does not own.
#pragma once

#include <vector>

#include "model/action.h"
#include "model/app_status.h"
#include "model/event.h"
#include "model/unit_spec.h"

namespace watchd::model {

// Daemon-wide settings the machine needs.
struct Settings {
    unsigned history = 100;
    base::Usec ping_timeout = 30 * base::kUsecPerSec;
};

inline constexpr base::Usec kPidFilePoll = 100 * base::kUsecPerMsec;
inline constexpr base::Usec kPidFileWait = 10 * base::kUsecPerSec;

// Applies `event` to `status` and returns the effects to carry out, in order.
std::vector<Action> transition(const AppSpec &spec, const Settings &settings, AppStatus &status, const Event &event,
                               Now now);

// A fresh status for a newly configured app (toggles and key/value from its spec).
AppStatus initial_status(const AppSpec &spec);

} // namespace watchd::model
