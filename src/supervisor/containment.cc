// Apps in cgroups (cgroup mode, under systemd with Delegate=yes): every process an app starts stays in its
// app-<id>/ cgroup, the app is signalled and killed there as a whole, and it is down only once that cgroup is
// empty (cgroup.events "populated 0", watched with inotify on the loop).
#include <algorithm>
#include <csignal>
#include <syslog.h>

#include "supervisor/engine.h"
#include "sys/log.h"

namespace watchd::supervisor {

namespace mdl = watchd::model;

// The app's cgroup, made and opened on first use; -1 without cgroups (or when it cannot be made: said once, and
// the app runs in watchd's cgroup as it would outside systemd).
int Engine::app_cgroup(Unit &u) {
    if (!cgroups_ || !u.app()) return -1;
    CgroupRuntime &cg = u.rt.cgroup;
    if (cg.dir && cg.killed && !cg.busy) {
        cg.watch.reset(); // on the old directory
        cg.inotify.reset();
        cg.dir.reset();
        cg.killed = false;
        auto fd = cgroups_->renew_app(u.ref.id);
        if (!fd) {
            announce(u, mdl::Announcement::Error, LOG_ERR,
                     "cannot make the app's cgroup anew: " + fd.error().message() + "; it runs in watchd's own");
            return -1;
        }
        cg.dir = std::move(*fd);
    }
    if (!cg.dir) {
        auto fd = cgroups_->open_app(u.ref.id);
        if (!fd) {
            announce(u, mdl::Announcement::Error, LOG_ERR,
                     "cannot make the app's cgroup: " + fd.error().message() + "; it runs in watchd's own");
            return -1;
        }
        cg.dir = std::move(*fd);
    }
    return cg.dir.get();
}

bool Engine::cgroup_populated(Unit &u) {
    const int dir = u.rt.cgroup.dir.get();
    if (dir < 0) return false;
    auto p = sys::cgroup::populated(dir);
    return p && *p;
}

void Engine::watch_cgroup(Unit &u) {
    CgroupRuntime &cg = u.rt.cgroup;
    if (cg.watch || !cg.dir) return;
    auto fd = sys::cgroup::watch_events(cg.dir.get());
    if (!fd) {
        announce(u, mdl::Announcement::Error, LOG_ERR, "cannot watch the app's cgroup: " + fd.error().message());
        return;
    }
    cg.inotify = std::move(*fd);
    auto src = event::IoSource::create(loop_, cg.inotify.get(), event::io::kReadable,
                                       [this, &u](std::uint32_t) { cgroup_changed(u); }, event::Priority::Important);
    if (!src) {
        announce(u, mdl::Announcement::Error, LOG_ERR, "cannot watch the app's cgroup: " + src.error().message());
        cg.inotify.reset();
        return;
    }
    cg.watch = std::move(*src);
}

// cgroup.events changed: once the cgroup is empty, what waited for it goes on (a held exit, a deferred spawn).
void Engine::cgroup_changed(Unit &u) {
    CgroupRuntime &cg = u.rt.cgroup;
    if (cg.inotify) sys::cgroup::drain_events(cg.inotify.get());
    if (!cg.busy || cgroup_populated(u)) return;
    cg.busy = false;
    if (auto held = std::exchange(cg.held_exit, std::nullopt)) {
        post(u, *held);
        return;
    }
    if (u.rt.spawn_deferred &&
        std::none_of(u.rt.processes.begin(), u.rt.processes.end(), [](const auto &p) { return p->leftover; })) {
        u.rt.spawn_deferred = false;
        do_spawn(u);
        drain();
    }
    after_drain();
}

// SIGKILL to everything in the app's cgroup; the unit waits until it is empty.
void Engine::kill_cgroup(Unit &u, std::string_view why) {
    const int dir = u.rt.cgroup.dir.get();
    if (dir < 0) return;
    const auto left = sys::cgroup::procs(dir);
    if (auto ok = sys::cgroup::kill_all(dir); !ok) {
        announce(u, mdl::Announcement::Error, LOG_ERR, "cannot kill the app's cgroup: " + ok.error().message());
        return;
    }
    u.rt.cgroup.busy = true;
    u.rt.cgroup.killed = true;
    watch_cgroup(u);
    if (left && !left->empty()) {
        std::string pids;
        for (std::size_t i = 0; i < left->size() && i < 10; ++i) pids += (i ? ", " : "") + std::to_string((*left)[i]);
        if (left->size() > 10) pids += ", ...";
        announce(u, mdl::Announcement::Stopping, LOG_NOTICE,
                 "killed " + std::to_string(left->size()) + (left->size() == 1 ? " process" : " processes") + " " +
                     std::string(why) + " (PID " + pids + ")");
    }
    cgroup_changed(u); // empty already (it may be, by now): go on at once
}

// While stopping, the main process's exit ends the stop only once the cgroup is empty: what it leaves behind had
// the stop signal too, and gets SIGKILL with it when stop-timeout runs out.
bool Engine::hold_exit(Unit &u, const mdl::ev::ProcessExited &e) {
    if (!cgroups_ || u.core().state != UnitState::Stopping || e.pid != u.core().pid || !cgroup_populated(u)) return false;
    u.rt.cgroup.held_exit = e;
    u.rt.cgroup.busy = true;
    watch_cgroup(u);
    cgroup_changed(u);
    return true; // held, or posted already by cgroup_changed()
}

// An instance that ended (failed, stopped, waiting to restart) leaves nothing running: what is left in its
// cgroup is killed now.
void Engine::after_step_cgroup(Unit &u) {
    const UnitState now = u.core().state;
    if (now != UnitState::Inactive && now != UnitState::Failed && now != UnitState::Backoff) return;
    if (u.rt.cgroup.dir && cgroup_populated(u)) kill_cgroup(u, "left behind when the instance ended");
}

void Engine::remove_cgroup(const Unit &u) {
    if (!cgroups_ || !u.rt.cgroup.dir) return;
    if (auto ok = cgroups_->remove_app(u.ref.id); !ok)
        sys::log::daemon(LOG_WARNING, "cannot remove the cgroup of app " + u.ref.id + ": " + ok.error().message());
}

} // namespace watchd::supervisor
