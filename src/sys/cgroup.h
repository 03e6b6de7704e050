// cgroup v2, as watchd uses it under systemd with Delegate=yes: find the cgroup delegated to watchd, move watchd
// into a leaf of it, make one child cgroup per app, and read, signal, kill and remove those. Works on a pure v2
// host (/sys/fs/cgroup) and on the hybrid layout (the v2 hierarchy at /sys/fs/cgroup/unified, without
// controllers): cgroup.procs, cgroup.events and cgroup.kill are there either way; memory.*, pids.* and cpu.max
// only where those controllers are enabled for watchd's subtree.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <sys/types.h>
#include <vector>

#include "base/result.h"
#include "base/unique_fd.h"

namespace watchd::sys::cgroup {

// Where the v2 hierarchy is mounted (from /proc/self/mountinfo), e.g. "/sys/fs/cgroup" or
// "/sys/fs/cgroup/unified"; an error when there is none.
base::Result<std::string> v2_mount();

// The v2 cgroup of this process as /proc/self/cgroup's "0::" line names it (e.g. "/system.slice/watchd.service").
base::Result<std::string> own_path();

// Did the service manager delegate `dir` to its process? systemd (251 and later) marks a unit's cgroup with the
// xattr trusted.delegate=1 (user.delegate=1 for a user manager) when the unit has Delegate=yes.
bool delegated(const std::string &dir);

// The cgroup directory delegated to watchd, or why there is none (not under systemd, Delegate= not set, no v2
// hierarchy): the absolute path of its own cgroup.
base::Result<std::string> find_delegated();

// watchd's delegated cgroup: watchd itself in the leaf `supervisor/` (cgroup v2 keeps processes out of inner
// nodes once controllers are enabled), each app in `app-<id>/`.
class Tree {
public:
    // Creates `supervisor/` under `dir` and moves this process there.
    static base::Result<Tree> setup(const std::string &dir);

    const std::string &path() const { return path_; }
    // The controllers enabled for the apps' cgroups (cgroup.subtree_control of `path()`), e.g. "memory pids".
    std::string controllers() const;

    // Opens the app's cgroup, making it when it does not exist: an fd on the directory, for spawn (CLONE_INTO_CGROUP)
    // and the calls below.
    base::Result<base::UniqueFd> open_app(const std::string &id) const;
    // The app's cgroup made anew (removed and made again; it must be empty): after cgroup.kill, Linux 6.x kills
    // every child later cloned into that cgroup at birth (its kill_seq no longer matches the parent's).
    base::Result<base::UniqueFd> renew_app(const std::string &id) const;
    // Removes the app's cgroup; it must be empty (EBUSY otherwise). ENOENT counts as done.
    base::Result<void> remove_app(const std::string &id) const;

private:
    std::string path_;
    base::UniqueFd dir_;
};

// Writes one of the cgroup's files (memory.max, pids.max, cpu.max...).
base::Result<void> set(int dirfd, const char *file, std::string_view value);

// The processes in the cgroup (cgroup.procs).
base::Result<std::vector<pid_t>> procs(int dirfd);
// Does the cgroup or any below it hold a live process (cgroup.events "populated")?
base::Result<bool> populated(int dirfd);
// Sends sig to every process in the cgroup; returns how many it reached.
base::Result<std::size_t> signal_all(int dirfd, int sig);
// SIGKILL to everything in the cgroup and below, which cannot escape it: cgroup.kill (Linux 5.14), else
// signal_all(SIGKILL) (a process forking at that moment may then survive: call it again until empty).
base::Result<void> kill_all(int dirfd);

// An inotify fd that becomes readable when the cgroup's cgroup.events changes (e.g. populated 1 → 0); drain it with
// drain_events() and read populated() again.
base::Result<base::UniqueFd> watch_events(int dirfd);
void drain_events(int inotify_fd);

// What the cgroup uses now: cpu.stat (always there in v2), memory.current and pids.current where those
// controllers are enabled.
struct Usage {
    std::uint64_t cpu_usec = 0;
    std::optional<std::uint64_t> memory_bytes;
    std::optional<std::uint64_t> tasks;
};
base::Result<Usage> usage(int dirfd);

} // namespace watchd::sys::cgroup
