// sd-event loop set-up.
#include "event/loop.h"

#include <csignal>
#include <systemd/sd-event.h>

namespace watchd::event {

static_assert(static_cast<int>(Priority::Important) == SD_EVENT_PRIORITY_IMPORTANT);
static_assert(static_cast<int>(Priority::Normal) == SD_EVENT_PRIORITY_NORMAL);
static_assert(static_cast<int>(Priority::Idle) == SD_EVENT_PRIORITY_IDLE);

base::Result<std::unique_ptr<Loop>> Loop::create() {
    sigset_t ss;
    sigemptyset(&ss);
    for (int sig : {SIGTERM, SIGINT, SIGHUP, SIGCHLD}) sigaddset(&ss, sig);
    if (sigprocmask(SIG_BLOCK, &ss, nullptr) < 0) return base::unexpected(base::errno_error(errno, "sigprocmask"));
    signal(SIGPIPE, SIG_IGN);
    std::unique_ptr<Loop> l(new Loop());
    int r = sd_event_new(&l->event_);
    if (r < 0) return base::unexpected(base::errno_error(r, "sd_event_new"));
    return l;
}

Loop::~Loop() { sd_event_unref(event_); }

void Loop::enable_watchdog() { sd_event_set_watchdog(event_, true); }

int Loop::run() {
    int r = sd_event_loop(event_);
    return r < 0 ? 1 : r;
}

void Loop::exit(int code) { sd_event_exit(event_, code); }

bool Loop::run_once(base::Usec timeout) {
    if (sd_event_get_state(event_) == SD_EVENT_FINISHED) return false;
    return sd_event_run(event_, timeout) >= 0;
}

} // namespace watchd::event
