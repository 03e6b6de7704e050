// UnitState: where a supervised unit is in its life cycle, and its coarse systemd-style ActiveState.
#pragma once

#include <cstddef>
#include <string_view>

namespace watchd::model {

enum class UnitState {
    Inactive, // not running and not wanted (disabled, run-once consumed, or stopped at shutdown)
    Starting, // spawned (or adopting), not yet confirmed: pidfile not read yet / first ping not seen
    Running,  // the process (or its pings) is being watched
    Stopping, // stop signal sent, waiting for the exit; SIGKILL after stop-timeout
    Backoff,  // exited while wanted up; waiting for the restart delay
    Failed,   // start limit hit or could not start; stays down until toggled or reconfigured
};
inline constexpr std::size_t kUnitStateCount = 6;

// "inactive", "starting", ... (watchd's own fine-grained names).
std::string_view to_string(UnitState s);
// systemd's coarse ActiveState for D-Bus/HTTP: "active", "activating", "deactivating", "failed", "inactive".
std::string_view to_active_state(UnitState s);

} // namespace watchd::model
