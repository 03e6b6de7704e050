// What /proc says about processes watchd did not start: PID files and the processes they name (start time,
// owner, binary), and the processes a launcher left in its session.
#pragma once

#include <string>
#include <string_view>
#include <sys/types.h>
#include <vector>

#include "base/result.h"

namespace watchd::sys {

// Reads a PID file: a decimal PID, optional surrounding white space, nothing else. Errors say what was wrong.
base::Result<pid_t> read_pid_file(const std::string &path);
// True when /proc/<pid>/exe is `binary`, or argv[0] of the process names it (patrol's pid-verify).
base::Result<void> verify_pid_binary(pid_t pid, const std::string &binary);

// When `pid` started, in seconds since the epoch, as the kernel tells it (/proc/stat btime plus field 22 of
// /proc/<pid>/stat in clock ticks); 0 when the kernel does not tell. An error when the process does not run.
base::Result<double> process_start_time(pid_t pid);

// A PID file naming a process that started after the file was written names a reused PID, not the app.
base::Result<void> check_pid_file_age(const std::string &path, pid_t pid);

// The real uid a process runs as (/proc/<pid>/status); an error when it does not run.
base::Result<uid_t> process_uid(pid_t pid);

// A process's place in the process tree (/proc/<pid>/stat); a zombie still has one until it is reaped.
struct ProcessIds {
    pid_t ppid = 0, pgrp = 0, session = 0;
    bool zombie = false;
};
base::Result<ProcessIds> process_ids(pid_t pid);

// The children of this process (/proc/self/task/*/children): its own, and the orphans it adopted as a subreaper.
std::vector<pid_t> own_children();

// The value of NAME in the environment a process was started with (/proc/<pid>/environ), empty when it is not
// there or cannot be read (a zombie has none).
std::string process_env(pid_t pid, std::string_view name);

// What one process uses: CPU time (user + system, its own and that of the children it reaped), resident memory,
// threads (/proc/<pid>/stat); an error when it does not run.
struct ProcessUsage {
    std::uint64_t cpu_usec = 0, rss_bytes = 0, threads = 0;
};
base::Result<ProcessUsage> process_usage(pid_t pid);

// This process's own figures: CPU time (user + system, not its reaped children's), resident memory, open fds and
// the soft RLIMIT_NOFILE. Zeros for what cannot be read.
struct SelfStats {
    std::uint64_t cpu_usec = 0, rss_bytes = 0, open_fds = 0, max_fds = 0;
};
SelfStats self_stats();

// The live processes whose session or process group is one of `ids` (never pid 1 or this process).
std::vector<pid_t> processes_in_sessions(const std::vector<pid_t> &ids);

// Sends sig to every process whose session or process group is `id` (what a launcher that leads its own session
// left behind, unless it left the session); returns the PIDs signalled. Never signals pid 1 or watchd.
std::vector<pid_t> kill_session(pid_t id, int sig);

} // namespace watchd::sys
