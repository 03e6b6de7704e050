// UnitState: where a supervised unit is in its life cycle, its coarse systemd-style ActiveState, and the
// DesiredState beside it (dinit's desired_state next to service_state).
#pragma once

#include <cstddef>
#include <string_view>

namespace watchd::model {

enum class UnitState {
    Inactive, // not running and not wanted (disabled, run-once consumed, removed, or stopped at shutdown)
    Starting, // spawned (or adopting), not yet confirmed: pidfile not read yet / first ping not seen
    Running,  // the process (or its pings) is being watched
    Stopping, // stop signal sent, waiting for the exit; SIGKILL after stop-timeout
    Backoff,  // exited while wanted up; waiting for the restart delay
    Failed,   // start limit hit (or a service's unit cannot be loaded); stays down until a toggle or a reload
    Unavailable, // services: systemd's D-Bus API cannot be reached, so the unit's state is not known
};
inline constexpr std::size_t kUnitStateCount = 7;

// What the unit should be doing, set only by requests (configuration, toggles, shutdown) and by the end of a
// run-once instance. The machines read it wherever they decide between starting and resting.
enum class DesiredState {
    Down, // stop what runs, start nothing
    Up,   // keep it running: start it, restart it when it ends
};

// "inactive", "starting", ... (watchd's own fine-grained names).
std::string_view to_string(UnitState s);
// systemd's coarse ActiveState for D-Bus/HTTP: "active", "activating", "deactivating", "failed", "inactive".
std::string_view to_active_state(UnitState s);
// "down", "up".
std::string_view to_string(DesiredState d);

} // namespace watchd::model
