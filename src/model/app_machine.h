// The app state machine: transition(spec, settings, status, event, now) → actions. Pure: no I/O, no clock.
//
// States (see unit_state.h) and what holds in each:
//   Inactive  no process, no timer. Desired Down (disabled, run-once consumed, removed, shut down).
//   Starting  a Spawn was issued (patrol mode leaves Starting as soon as ev::Spawned arrives).
//             pidfile: on the first start the pid file is read first (adopting: a running daemon is taken over
//             without a spawn); after a spawn the State timer polls pid-path every 100 ms until
//             state_deadline_limit (pid-wait): a live, verified PID → Running, else the start failed and what the
//             launch left in its session is killed before the next start.
//             http/udp: the State timer is the ping deadline; the first ping → Running.
//   Running   the main process is watched through a pidfd (patrol, pidfile) and/or pings keep it alive
//             (http/udp: the State timer is the ping deadline, re-armed by every ping). ExecuteTimeout armed
//             when execute-timeout is set.
//   Stopping  stop-signal sent to every live process of the instance; State timer = stop-timeout, then SIGKILL.
//             When the last process is gone: "stopped", then Desired Down → Inactive; Up after a missed deadline
//             (stop_is_failure) → the restart path below; Up otherwise (restart toggle, re-added) → start at once.
//   Backoff   the instance died while wanted up; the State timer is the restart delay.
//   Failed    the start limit was hit (start-limit-burst starts within start-limit-interval); no timer.
//             Left only by a toggle or a reload (ev::Activate / ev::Reconfigured); pings do not revive it.
//
// Desired state (unit_state.h) is set by requests only: ev::Activate and ev::Reconfigured (Up unless the toggles
// say Down), ev::Deactivate (Down), toggles (unit_core.h apply_toggle), and the end of a run-once instance. An
// exit while Up restarts: the first restart after a quick failure is immediate, then the delay doubles from
// backoff-initial to backoff-max; a run of at least backoff-reset forgets earlier failures. Every start is
// recorded against the start limit; toggles and reloads forget earlier failures.
// enter() is the one place that changes state; it cancels the timers the new state does not own.
#pragma once

#include <vector>

#include "model/action.h"
#include "model/app_status.h"
#include "model/event.h"
#include "model/unit_spec.h"

namespace watchd::model {

inline constexpr base::Usec kPidFilePoll = 100 * base::kUsecPerMsec;

// Applies `event` to `status` and returns the effects to carry out, in order.
std::vector<Action> transition(const AppSpec &spec, const Settings &settings, AppStatus &status, const Event &event,
                               Now now);

// A fresh status for a newly configured app (toggles and key/value from its spec; cas_seed: its first CAS).
AppStatus initial_status(const AppSpec &spec, std::uint64_t cas_seed = 1);

} // namespace watchd::model
