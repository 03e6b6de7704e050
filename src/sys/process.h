// Process primitives: spawn with a pidfd (vfork-style clone), pidfd_open/send_signal, waitid, executable checks.
#pragma once

#include <optional>
#include <string>
#include <sys/resource.h>
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
    // Soft RLIMIT_NOFILE set in the child before exec (watchd raises its own to the hard limit; apps get the
    // limit watchd started with). Unset: the child keeps watchd's. Above the hard limit: spawn() fails.
    std::optional<rlim_t> nofile_soft;
    // A cgroup v2 directory (an fd open on it) the child starts in: clone3(CLONE_INTO_CGROUP) where the kernel and
    // the architecture allow (x86-64 and arm64, Linux 5.7), so it is never anywhere else; otherwise the child
    // writes itself into the cgroup's cgroup.procs before anything of the app runs. -1: watchd's own cgroup.
    int cgroup_fd = -1;
};

struct Spawned {
    pid_t pid;
    base::Pidfd pidfd;
};

// Starts the child. The child joins spec.cgroup_fd's cgroup, resets signals, closes every other fd, sets
// RLIMIT_NOFILE, chdir()s, drops privileges and execs; if any step fails it writes "watchd: <step> <what>: <strerror>" to its stderr (e.g.
// "watchd: chdir /srv/missing: No such file or directory") and exits 127, and spawn() returns that step as the
// error, known before clone() returns: code errno, where the call ("chdir", "setresuid", "execve"...), what its
// object (the directory, "uid 1000", the binary's path...). A child that dies before it can say (killed, or a
// sanitizer report) is an error too ("spawn: the child for <binary> exited 1 before exec, in chdir <dir>"), never a
// started app.
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

// Makes this process the reaper of its descendants' orphans (PR_SET_CHILD_SUBREAPER): they are re-parented to it,
// not to PID 1, and it must reap them.
base::Result<void> become_subreaper();
// Reaps `pid` when it has exited (waitid P_PID, WNOHANG); nullopt while it runs (or when it is not our child).
std::optional<ExitInfo> reap_pid(pid_t pid);

// Checks that path is an executable regular file (clear error before any fork).
base::Result<void> check_executable(const std::string &path);

} // namespace watchd::sys
