// sd-event loop set-up.
#include "event/loop.h"

#include <csignal>

namespace watchd::event {

base::Result<std::unique_ptr<Loop>> Loop::create() {
    sigset_t ss;
    sigemptyset(&ss);
    for (int sig : {SIGTERM, SIGINT, SIGHUP, SIGCHLD}) sigaddset(&ss, sig);
    if (sigprocmask(SIG_BLOCK, &ss, nullptr) < 0) return base::unexpected(base::errno_error(errno, "sigprocmask"));
    signal(SIGPIPE, SIG_IGN);
    std::unique_ptr<Loop> l(new Loop());
    sd_event *raw = nullptr;
    int r = sd_event_new(&raw);
    if (r < 0) return base::unexpected(base::errno_error(r, "sd_event_new"));
    l->event_.reset(raw);
    return l;
}

void Loop::enable_watchdog() { sd_event_set_watchdog(event_.get(), true); }

int Loop::run() {
    int r = sd_event_loop(event_.get());
    return r < 0 ? 1 : r;
}

void Loop::exit(int code) { sd_event_exit(event_.get(), code); }

} // namespace watchd::event
