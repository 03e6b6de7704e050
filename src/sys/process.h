// Process primitives: spawn with a pidfd (clone3), pidfd_open/send_signal, waitid, /proc identity checks.
#pragma once

#include <string>
#include <sys/types.h>
#include <vector>

#include "base/result.h"
#include "base/unique_fd.h"

namespace watchd::sys {

// Everything the child needs, prepared in the parent (nothing is allocated between fork and exec).
struct ExecSpec {
    std::string path;                 // absolute path of the binary (argv[0] too)
    std::vector<std::string> argv;    // full argv, argv[0] included
    std::vector<std::string> envp;    // full environment, "KEY=value"
    std::string working_directory;
    int stdout_fd = -1, stderr_fd = -1; // dup2'ed onto 1 and 2 (-1: /dev/null)
    uid_t uid = static_cast<uid_t>(-1); // -1: keep watchd's
    gid_t gid = static_cast<gid_t>(-1);
    std::vector<gid_t> groups;        // supplementary groups (used when uid/gid change)
    bool new_session = true;          // setsid(): the app leads its own process group
};

struct Spawned {
    pid_t pid;
    base::Pidfd pidfd;
};

// Starts the child. The child closes every other fd, resets signals, chdir()s, drops privileges and execs;
// if any step fails it writes "watchd: <step>: <error>" to its stderr and exits 127.
base::Result<Spawned> spawn(const ExecSpec &spec);

base::Result<base::Pidfd> pidfd_open(pid_t pid);
// Signals the process behind pidfd; ESRCH (already gone) counts as success.
base::Result<void> pidfd_kill(int pidfd, int sig);
// Signals a process group; ESRCH counts as success.
base::Result<void> kill_group(pid_t pgid, int sig);

struct ExitInfo {
    int code = 0;   // exit status when it exited
    int signal = 0; // terminating signal, 0 when it exited
};
// Reaps the exited child behind pidfd (waitid P_PIDFD, WNOHANG). Error ECHILD when it is not our child.
base::Result<ExitInfo> reap(int pidfd);

// Reads a PID file: a decimal PID, optional surrounding white space, nothing else. Errors say what was wrong.
base::Result<pid_t> read_pid_file(const std::string &path);
// True when /proc/<pid>/exe is `binary`, or argv[0] of the process names it (patrol's pid-verify).
base::Result<void> verify_pid_binary(pid_t pid, const std::string &binary);

// When `pid` started, in seconds since the epoch, as the kernel tells it (/proc/stat btime plus field 22 of
// /proc/<pid>/stat in clock ticks); 0 when the kernel does not tell. An error when the process does not run.
base::Result<double> process_start_time(pid_t pid);

// A PID file naming a process that started after the file was written names a reused PID, not the app.
base::Result<void> check_pid_file_age(const std::string &path, pid_t pid);

// Checks that path is an executable regular file (clear error before any fork).
base::Result<void> check_executable(const std::string &path);

} // namespace watchd::sys
