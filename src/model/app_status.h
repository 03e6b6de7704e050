// AppStatus: everything the model knows about one app at run time (no resources, only facts).
#pragma once

#include <sys/types.h>

#include "model/unit_core.h"

namespace watchd::model {

struct AppStatus : UnitCore {
    pid_t launcher_pid = 0;        // pidfile/http/udp modes: the spawned process, while it runs
    pid_t rechecking = 0;          // pidfile mode: this PID just exited; is another one in the pid file now?
    bool adopting = false;         // pidfile mode: the first start looks for a running instance before spawning
    bool stop_is_failure = false;  // the current stop follows a missed deadline: restart through the backoff
    base::Usec state_deadline = 0; // monotonic deadline of the State timer, 0 when not armed
    base::Usec state_deadline_limit = 0; // pidfile mode: when waiting for the pid file gives up
    base::Usec exec_deadline = 0;  // monotonic deadline of the ExecuteTimeout timer, 0 when not armed
};

} // namespace watchd::model
