// The service state machine: a systemd unit kept running through systemd's D-Bus API. Pure: no I/O, no clock.
//
// watchd does not run the unit's processes: systemd does. The machine follows the unit's state as systemd reports
// it (ev::SystemdChanged: read once, then every PropertiesChanged) and asks systemd for jobs (act::CallSystemd:
// StartUnit, StopUnit, RestartUnit/ReloadOrRestartUnit), whose ends come back as ev::SystemdJobDone.
//
// States (unit_state.h) and what holds in each:
//   Inactive     desired Down (disabled, run-once over, shut down, removed) and the unit is not active; or the
//                unit is left to systemd (watchd shuts down, or a reload dropped or changed the service).
//   Starting     wanted up, the unit is activating (our StartUnit job, or systemd's own start), or its state has
//                not been read yet.
//   Running      the unit is active (or reloading); its InvocationID is the instance id, MainPID the pid.
//   Stopping     the unit is deactivating: our StopUnit job (desired Down), a restart, or someone else's stop.
//   Backoff      the unit ended while wanted up; the State timer is the restart delay (as for apps: the first
//                quick restart is immediate, then backoff-initial doubling to backoff-max).
//   Failed       watchd's start limit was hit, a stop failed, or the unit cannot be loaded (not found, masked,
//                bad setting): left until a toggle, a reload, or (load errors) systemd's daemon-reload fixes it.
//   Unavailable  systemd's D-Bus API is unreachable: the unit's state is not known; it is read again when the bus
//                is back.
//
// An instance is one activation of the unit: it begins when the unit is active with a new InvocationID and ends
// when the unit is inactive/failed or has another InvocationID. Its exit is the main process's (ExecMainCode,
// ExecMainStatus) and systemd's Result. An end counts as a failure when Result is not "success", unless the main
// process exited with a status in ignore-exit-codes (any end), ignore-exit-codes-status (an end watchd did not
// ask for), ignore-exit-codes-stop (an end after watchd's StopUnit) or ignore-exit-codes-restart (after its
// RestartUnit). A failed job (StartUnit failing, say) is a failure unless the unit's main process exited with a
// status in ignore-exit-codes or the job's own list (-start, -stop, -restart). Failures are logged at warning
// level and step the restart backoff; other ends at notice, restarted at once. Units watchd does not manage are
// never called; a disabled service's running unit is stopped (patrol).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "model/action.h"
#include "model/event.h"
#include "model/unit_core.h"
#include "model/unit_spec.h"

namespace watchd::model {

struct ServiceStatus : UnitCore {
    SystemdUnit sd;                 // the unit as last read (load_state empty: not read yet)
    std::string sd_unit;            // the unit `sd` describes (a reload may name another)
    enum class Bus { Unknown, Up, Down } bus = Bus::Unknown; // systemd's API reachable?
    std::optional<SystemdVerb> job; // a call of watchd's in flight
    std::optional<SystemdVerb> asked; // the last call made for the current instance (whose list its end uses)
    std::optional<SystemdVerb> settling; // this job of ours ended: waiting for the state signals behind its JobRemoved
    base::Usec state_deadline = 0;  // monotonic deadline of the State timer (restart delay, settling), 0: not armed
    bool load_failed = false;       // Failed because the unit cannot be loaded (not the start limit)
    bool released = false;          // watchd stopped keeping the unit (shutdown, reload): it calls nothing
    std::string last_invocation;    // the InvocationID of the newest instance recorded
};

// Applies `event` to `status` and returns the effects to carry out, in order.
std::vector<Action> transition(const ServiceSpec &spec, const Settings &settings, ServiceStatus &status,
                               const Event &event, Now now);

// A fresh status for a newly configured service (toggles and key/value from its spec; cas_seed: its first CAS).
ServiceStatus initial_status(const ServiceSpec &spec, std::uint64_t cas_seed = 1);

} // namespace watchd::model
