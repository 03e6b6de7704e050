// Announcement: every kind of event watchd logs about a unit, with its journal name (WATCHD_EVENT=) and its
// stable, random 128-bit MESSAGE_ID (as systemd's catalog uses). Unit events reach the journal only through this
// table.
#pragma once

#include <cstddef>
#include <string_view>

namespace watchd::model {

enum class Announcement {
    Started,      // a new instance runs (spawned, adopted from a pid file, or found by a ping)
    Exited,       // an instance ended
    Restarting,   // a restart is scheduled (with its delay)
    Failed,       // the start limit was hit: given up until a toggle or a reload
    Stopping,     // a stop was requested
    Stopped,      // a stop completed
    Timeout,      // a ping deadline, execute-timeout, stop-timeout or pid-file wait passed
    Error,        // something went wrong that is not the unit's exit (pid file garbage, spawn error, log files)
    Removed,      // a reload dropped the unit from the configuration
    Reconfigured, // a reload changed the unit's configuration: it restarts with the new one
    NotRun,       // configured, but this version of watchd does not run units of its kind yet
    Down,         // a check failed (the first failure, then as gossm's notification backoff allows)
    Up,           // a check that was down succeeds again ("up again after 3m12s", which gossm never sends)
};
inline constexpr std::size_t kAnnouncementCount = 13;

// "started", "exited", ...: the journal's WATCHD_EVENT values.
std::string_view to_string(Announcement a);
// 32 lower-case hex digits, stable per announcement kind (journalctl MESSAGE_ID=...).
std::string_view message_id(Announcement a);

} // namespace watchd::model
