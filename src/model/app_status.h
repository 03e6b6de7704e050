// AppStatus: everything the model knows about one app at run time (no resources, only facts).
#pragma once

#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <sys/types.h>

#include "model/restart_policy.h"
#include "model/unit_spec.h"
#include "model/unit_state.h"

namespace watchd::model {

// One closed instance, as patrol's History.
struct HistoryEntry {
    std::string instance_id;
    pid_t pid = 0;
    base::Usec started = 0;   // realtime µs
    base::Usec last_seen = 0; // realtime µs
    base::Usec stopped = 0;   // realtime µs
    bool disabled = false, restart = false, run_once = false, shutdown = false;
    int exit_code = -1;       // 0..255; -1 when unknown (not our child)
    int signal = 0;           // terminating signal, 0 if it exited
    KeyValue keyvalue;
    bool operator==(const HistoryEntry &) const = default;
};

// What to do once the process of a Stopping unit is gone.
enum class AfterStop { Rest, Start, Backoff };

struct AppStatus {
    UnitState state = UnitState::Inactive;
    bool disabled = false;         // patrol's disabled toggle (not wanted up)
    bool restart = false;          // patrol's restart toggle, consumed by the next start
    bool run_once = false;         // patrol's run-once toggle
    bool run_once_consumed = false;
    bool shutdown = false;         // watchd (or this unit) is going away
    AfterStop after_stop = AfterStop::Rest;
    std::string stop_reason;       // why the current stop happens (for the log and history)

    pid_t pid = 0;                 // the watched (main) process, 0 when none
    pid_t launcher_pid = 0;        // pidfile/http/udp modes: the spawned process, while it runs
    pid_t instance_pid = 0;        // the main PID this instance had (kept after it exits, for history)
    pid_t rechecking = 0;          // pidfile mode: this PID just exited; is another one in the pid file now?
    std::string instance_id;       // UUIDv4 of the current instance, empty when none
    base::Usec started_real = 0, started_mono = 0;
    base::Usec last_seen_real = 0, last_seen_mono = 0;
    base::Usec state_deadline = 0; // monotonic deadline of the State timer, 0 when not armed
    base::Usec state_deadline_limit = 0; // pidfile mode: when waiting for the pid file gives up
    base::Usec exec_deadline = 0;  // monotonic deadline of the ExecuteTimeout timer, 0 when not armed

    int last_exit_code = -1;       // of the previous instance
    int last_signal = 0;
    std::string last_error;        // last spawn/pid-file error, for status views
    std::uint64_t restarts = 0;    // automatic restarts since watchd started
    std::uint64_t cas = 1;         // patrol's CAS: bumped on every change
    RestartTracker tracker;        // backoff attempt count and recent start times
    KeyValue keyvalue;
    std::deque<HistoryEntry> history; // newest last, bounded by Config::history
};

} // namespace watchd::model
