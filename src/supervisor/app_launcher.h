// AppLauncher: starts one instance of an app: argv, environment, credentials, output (pipes or patrol's dated log
// files), the pid file around the spawn. No event loop: the engine watches what it returns.
#pragma once

#include <cstdint>
#include <string>
#include <sys/types.h>
#include <vector>

#include "base/result.h"
#include "base/unique_fd.h"
#include "model/unit_spec.h"

namespace watchd::supervisor {

struct Launched {
    pid_t pid = 0;
    base::Pidfd pidfd;
    base::UniqueFd stdout_read, stderr_read; // pipes to forward to the journal; invalid when output goes to files
    std::string instance_id;                 // the UUIDv4 the app was told (WATCHD_INSTANCE_ID)
    std::string warning;                     // a problem that did not stop the start (e.g. log files)
};

class AppLauncher {
public:
    // Captures watchd's environment (for env-parent), minus its service manager's private variables.
    // fd_soft_limit: the soft RLIMIT_NOFILE apps get (0: watchd's own).
    explicit AppLauncher(std::uint64_t fd_soft_limit = 0);

    // The addresses apps are told to ping (WATCHD_HTTP/PATROL_HTTP, WATCHD_UDP/PATROL_UDP).
    void set_listen(std::vector<std::string> http, std::vector<std::string> udp);

    // Starts the app. Errors name the config key at fault (/apps/<id>/binary, /apps/<id>/user, ...) or the step
    // of the child that failed (chdir, setresuid, execve...).
    // cgroup_fd: the app's cgroup (-1: watchd's own).
    base::Result<Launched> launch(const model::AppSpec &spec, int cgroup_fd = -1) const;

    // The environment of an instance, later entries of a duplicated key winning: watchd's own (env-parent), the
    // user's HOME/USER/LOGNAME (`user` set), `env`, then WATCHD_* and PATROL_* variables.
    std::vector<std::string> environment(const model::AppSpec &spec, const std::vector<std::string> &user_env,
                                         const std::string &instance_id) const;

private:
    std::uint64_t fd_soft_limit_ = 0;
    std::vector<std::string> parent_env_;
    std::vector<std::string> listen_http_, listen_udp_;
};

} // namespace watchd::supervisor
