// Live resources of one unit: its process watches, timers and output readers. Destroyed with the unit.
#pragma once

#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <sys/types.h>
#include <vector>

#include "base/time.h"
#include "base/unique_fd.h"
#include "event/source.h"
#include "model/event.h"
#include "probe/probe.h"

namespace watchd::supervisor {

// A process being watched through its pidfd. `fd` is declared first so the source goes before it.
struct WatchedProcess {
    pid_t pid = 0;
    bool child = false; // spawned by watchd (reaped by sd-event) vs. found through a pid file or a ping
    bool leftover = false; // killed as a failed launch's leftover: the next spawn waits for its end
    base::Pidfd fd;
    std::unique_ptr<event::ChildSource> child_source;
    std::unique_ptr<event::IoSource> io_source;
};

// Reads an app's stdout or stderr pipe and forwards whole lines to the journal (or watchd's stderr).
struct OutputReader {
    std::string app_id;
    std::string instance;
    pid_t pid = 0;
    int priority = 6;
    std::string partial;
    base::UniqueFd fd;
    std::unique_ptr<event::IoSource> source;
    bool done = false;
};

// An app's budget of forwarded output lines (shared by its stdout and stderr): a window and what it used.
// Lines of an app's forwarded output kept in memory for the dashboard, and the bytes kept of each.
inline constexpr std::size_t kRecentOutputLines = 50, kRecentOutputLineBytes = 500;

struct OutputBudget {
    base::Usec window_start = 0; // monotonic
    std::uint64_t lines = 0;     // forwarded in this window
    std::uint64_t dropped = 0;   // dropped in this window, told when the window ends
};

// An app's cgroup (cgroup mode): the directory, a watch on its cgroup.events, and what waits for it to empty.
struct CgroupRuntime {
    base::UniqueFd dir;
    base::UniqueFd inotify;
    std::unique_ptr<event::IoSource> watch; // after inotify: disabled before the fd is closed
    bool busy = false; // processes were signalled or killed there and the unit waits for them to be gone
    bool killed = false; // cgroup.kill was used: the next instance gets the cgroup made anew (Tree::renew_app)
    std::uint64_t cpu_at_spawn = 0; // cpu.stat usage_usec when the instance started: its CPU time is beyond it
    std::optional<model::ev::ProcessExited> held_exit; // the main process's exit while stopping, until it is empty
};

// restart-if: the periodic check of what the app uses, and how many checks in a row each rule was over.
struct RuleRuntime {
    std::unique_ptr<event::Timer> timer;
    unsigned memory = 0, cpu = 0, tasks = 0;
    std::uint64_t last_cpu_usec = 0; // at the last check of this instance (for the CPU share since)
    base::Usec last_at = 0;          // monotonic; 0: no check of this instance yet
    std::string instance;            // the instance those figures belong to

    // Counting starts again, for `of` (the timer stays).
    void reset(std::string of) {
        memory = cpu = tasks = 0;
        last_cpu_usec = 0;
        last_at = 0;
        instance = std::move(of);
    }
};

struct UnitRuntime {
    std::unique_ptr<probe::Probe> probe; // a check's probe in flight
    bool probe_queued = false;           // a check's probe waits for a free slot (maxConnections)
    std::uint64_t schedule_seq = 0;      // a check's next probe is in Engine's due_ heap under this number (0: not)
    std::vector<std::unique_ptr<WatchedProcess>> processes;
    std::vector<std::unique_ptr<OutputReader>> outputs;
    std::unique_ptr<event::Timer> state_timer;
    std::unique_ptr<event::Timer> exec_timer;
    bool spawn_deferred = false; // a Spawn waits for leftovers of the previous launch to be gone
    OutputBudget output_budget;
    bool failed_unrecovered = false; // it failed and has not run since: running again is a Recovered alert
    std::deque<std::string> recent_output; // its last kRecentOutputLines forwarded lines (the dashboard's)
    CgroupRuntime cgroup;
    RuleRuntime rules;
    std::optional<std::uint64_t> exit_cpu_usec; // CPU time of the instance whose exit is being announced
    bool limits_said = false; // limits that could not be applied were reported
    // Subreaper mode: the sessions of this instance's processes that watchd may end with it (the spawned one's,
    // and that of each watched process leading its own session).
    std::vector<pid_t> sessions;
    std::string spawned_instance;       // WATCHD_INSTANCE_ID of the instance spawned last (its processes carry it)
    std::vector<pid_t> ended_sessions;  // of instances that ended: swept on the next loop iteration
    std::vector<std::string> ended_instances; // their WATCHD_INSTANCE_IDs
    struct RefusedPings {
        base::Usec logged = 0; // monotonic µs of the last message, 0 = none yet
        std::uint64_t count = 0; // refused since then
    } refused_pings;
};

} // namespace watchd::supervisor
