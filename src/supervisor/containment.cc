// What an app starts is stopped with it. Cgroup mode (under systemd with Delegate=yes): every process an app starts
// stays in its app-<id>/ cgroup, the app is signalled and killed there as a whole, and it is down only once that
// cgroup is empty (cgroup.events "populated 0", watched with inotify on the loop). Subreaper mode (no cgroup):
// orphans are re-parented to watchd and reaped here; what an ended instance leaves in its sessions, and adopted
// orphans carrying its WATCHD_ID, are killed; at shutdown every adopted orphan is.
#include <algorithm>
#include <csignal>
#include <cstdio>
#include <syslog.h>

#include "supervisor/engine.h"
#include "sys/log.h"
#include "sys/proc_info.h"
#include "sys/process.h"

namespace watchd::supervisor {

namespace mdl = watchd::model;

// "killed 2 processes left behind when the instance ended (PID 41, 42)": at most ten PIDs named.
void Engine::announce_killed(Unit &u, const std::vector<pid_t> &pids, std::string_view why) {
    if (pids.empty()) return;
    std::string list;
    for (std::size_t i = 0; i < pids.size() && i < 10; ++i) list += (i ? ", " : "") + std::to_string(pids[i]);
    if (pids.size() > 10) list += ", ...";
    announce(u, mdl::Announcement::Stopping, LOG_NOTICE,
             "killed " + std::to_string(pids.size()) + (pids.size() == 1 ? " process " : " processes ") +
                 std::string(why) + " (PID " + list + ")");
}

// The app's cgroup, made and opened on first use; -1 without cgroups (or when it cannot be made: said once, and
// the app runs in watchd's cgroup as it would outside systemd).
int Engine::app_cgroup(Unit &u) {
    if (!cgroups_ || !u.app()) return -1;
    CgroupRuntime &cg = u.rt.cgroup;
    if (cg.dir && !(cg.killed && !cg.busy)) return cg.dir.get();
    // First use, or after cgroup.kill (once it is empty): Linux 6.x kills a child cloned into a cgroup once killed,
    // so the next instance gets the cgroup made anew.
    const bool renew = cg.dir.get() >= 0;
    cg.watch.reset(); // on the old directory
    cg.inotify.reset();
    cg.dir.reset();
    cg.killed = false;
    auto fd = renew ? cgroups_->renew_app(u.ref.id) : cgroups_->open_app(u.ref.id);
    if (!fd) {
        announce(u, mdl::Announcement::Error, LOG_ERR,
                 std::string(renew ? "cannot make the app's cgroup anew: " : "cannot make the app's cgroup: ") +
                     fd.error().message() + "; it runs in watchd's own");
        return -1;
    }
    cg.dir = std::move(*fd);
    apply_limits(u);
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
    spawn_if_deferred(u);
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
    u.rt.cgroup.killed = true;
    watch_cgroup(u);
    u.rt.cgroup.busy = u.rt.cgroup.watch != nullptr; // without a watch nothing would ever say it emptied
    if (left) announce_killed(u, *left, why);
    cgroup_changed(u); // empty already (it may be, by now): go on at once
}

// While stopping, the main process's exit ends the stop only once the cgroup is empty: what it leaves behind had
// the stop signal too, and gets SIGKILL with it when stop-timeout runs out.
bool Engine::hold_exit(Unit &u, const mdl::ev::ProcessExited &e) {
    if (!cgroups_ || u.core().state != UnitState::Stopping || e.pid != u.core().pid || !cgroup_populated(u)) return false;
    watch_cgroup(u);
    if (!u.rt.cgroup.watch) return false; // nothing would say when it empties: the exit goes on now
    u.rt.cgroup.held_exit = e;
    u.rt.cgroup.busy = true;
    cgroup_changed(u); // empty by now (before the watch was in place): goes on at once
    return true; // held, or posted already by cgroup_changed()
}

// An instance that ended (failed, stopped, waiting to restart) leaves nothing running: what is left in its
// cgroup (or, without one, in its sessions) is killed now.
void Engine::after_step_cgroup(Unit &u) {
    const UnitState now = u.core().state;
    if (now != UnitState::Inactive && now != UnitState::Failed && now != UnitState::Backoff) return;
    if (u.rt.cgroup.dir && cgroup_populated(u)) kill_cgroup(u, "left behind when the instance ended");
    else if (subreaper_ && u.app()) end_sessions(u);
}

// Subreaper mode: the instance's sessions are swept for leftovers on the next loop iteration, once sd-event has
// reaped the process that just exited (its zombie would still count as a member of its process group).
void Engine::end_sessions(Unit &u) {
    if (u.rt.sessions.empty() && u.rt.spawned_instance.empty()) return;
    u.rt.ended_sessions.insert(u.rt.ended_sessions.end(), u.rt.sessions.begin(), u.rt.sessions.end());
    u.rt.sessions.clear();
    if (!u.rt.spawned_instance.empty()) u.rt.ended_instances.push_back(std::exchange(u.rt.spawned_instance, {}));
    if (orphan_timer_ && !orphan_timer_->armed()) orphan_timer_->arm(1);
}

void Engine::sweep_leftovers() {
    for (auto &[ref, u] : units_)
        if (!u->rt.ended_sessions.empty()) kill_leftovers(*u, "left behind when the instance ended");
    reap_orphans();
}

// Subreaper mode: a session watchd may end with the instance. Only the spawned process's own and those a watched
// process leads (a daemon that called setsid): never the session of a process that merely pinged from a terminal.
void Engine::note_session(Unit &u, pid_t pid, pid_t session) {
    if (!subreaper_ || session <= 1) return;
    if (session != pid && session != u.core().instance_pid) return;
    if (std::find(u.rt.sessions.begin(), u.rt.sessions.end(), session) == u.rt.sessions.end())
        u.rt.sessions.push_back(session);
}

namespace {

// The watched children of every unit: sd-event reaps those (P_PIDFD); reap_orphans() must leave them be.
bool is_watched_child(const std::map<UnitRef, std::unique_ptr<Unit>> &units, const probe::Prober *prober, pid_t pid) {
    for (const auto &[ref, u] : units)
        for (const auto &p : u->rt.processes)
            if (p->child && p->pid == pid) return true;
    return prober && prober->owns_child(pid); // an exec check's command
}

std::string describe_exit(const sys::ExitInfo &e) {
    return e.signal ? "killed by signal " + std::to_string(e.signal) : "exited " + std::to_string(e.code);
}

} // namespace

// SIGCHLD (and after each exit of an app's process): reap every adopted orphan that has exited, saying whose it was.
void Engine::reap_orphans() {
    for (pid_t pid : sys::own_children()) {
        if (is_watched_child(units_, prober_.get(), pid)) continue;
        const auto ids = sys::process_ids(pid);
        if (!ids || !ids->zombie) continue;
        const auto exit = sys::reap_pid(pid);
        if (!exit) continue;
        Unit *owner = nullptr;
        for (auto &[ref, u] : units_)
            if (ref.kind == UnitKind::App && std::find(u->rt.sessions.begin(), u->rt.sessions.end(), ids->session) !=
                                                 u->rt.sessions.end())
                owner = u.get();
        const std::string what = "reaped PID " + std::to_string(pid) + " (session " + std::to_string(ids->session) +
                                 "), " + describe_exit(*exit);
        sys::log::daemon(LOG_DEBUG, owner ? "app " + owner->ref.id + ": " + what : what);
    }
}

// Subreaper mode: SIGKILL to what ended instances left in their sessions and to adopted orphans with the app's
// WATCHD_ID (never a process of the instance running now); then forget those sessions.
void Engine::kill_leftovers(Unit &u, std::string_view why) {
    // Usually nothing is left, and finding that out must not cost a scan of /proc on every restart: what survives
    // an instance is in a process group one of its sessions started (kill(-pgid, 0) tells), or below a process
    // whose parent died, which made that one an orphan adopted by watchd (its WATCHD_INSTANCE_ID tells whose).
    std::vector<pid_t> killed;
    for (pid_t session : u.rt.ended_sessions)
        if (session > 1 && ::kill(-session, 0) == 0)
            for (pid_t pid : sys::kill_session(session, SIGKILL)) killed.push_back(pid);
    for (pid_t pid : sys::own_children()) {
        if (is_watched_child(units_, prober_.get(), pid) || std::find(killed.begin(), killed.end(), pid) != killed.end()) continue;
        const std::string instance = sys::process_env(pid, "WATCHD_INSTANCE_ID");
        if (instance.empty() || std::find(u.rt.ended_instances.begin(), u.rt.ended_instances.end(), instance) ==
                                    u.rt.ended_instances.end())
            continue;
        if (::kill(pid, SIGKILL) == 0) killed.push_back(pid);
    }
    if (killed.empty()) { // nothing (more) left of the ended instances
        u.rt.ended_sessions.clear();
        u.rt.ended_instances.clear();
        return;
    }
    // What the killed processes leave in turn is adopted by watchd as they die: look again shortly.
    if (orphan_timer_) orphan_timer_->arm(base::now_monotonic() + 20 * base::kUsecPerMsec);
    announce_killed(u, killed, why);
}

// At shutdown, once every app is down: no adopted orphan outlives watchd.
void Engine::kill_adopted() {
    if (!subreaper_) return;
    for (pid_t pid : sys::own_children()) {
        if (is_watched_child(units_, prober_.get(), pid)) continue;
        const auto ids = sys::process_ids(pid);
        if (!ids || ids->zombie) continue;
        const std::string app = sys::process_env(pid, "WATCHD_ID");
        if (::kill(pid, SIGKILL) == 0)
            sys::log::daemon(LOG_NOTICE, "killed PID " + std::to_string(pid) + ", left " +
                                             (app.empty() ? std::string("by an app") : "by app " + app) +
                                             " (adopted by watchd as its subreaper)");
    }
    reap_orphans();
}

void Engine::remove_cgroup(const Unit &u) {
    if (!cgroups_ || !u.rt.cgroup.dir) return;
    if (auto ok = cgroups_->remove_app(u.ref.id); !ok)
        sys::log::daemon(LOG_WARNING, "cannot remove the cgroup of app " + u.ref.id + ": " + ok.error().message());
}

// The cgroup's CPU time `total` (cpu.stat usage_usec) less what it had used when the instance was spawned.
static std::uint64_t cpu_since_spawn(const Unit &u, std::uint64_t total) {
    return total > u.rt.cgroup.cpu_at_spawn ? total - u.rt.cgroup.cpu_at_spawn : 0;
}

std::optional<ResourceUsage> Engine::usage(const UnitRef &ref) const {
    const Unit *u = find(ref);
    if (!u || !u->app()) return std::nullopt;
    ResourceUsage r;
    if (const int dir = u->rt.cgroup.dir.get(); dir >= 0) {
        auto cg = sys::cgroup::usage(dir);
        auto procs = sys::cgroup::procs(dir);
        if (!cg || !procs) return std::nullopt;
        r.from_cgroup = true;
        r.cpu_usec = cpu_since_spawn(*u, cg->cpu_usec);
        r.memory_bytes = cg->memory_bytes;
        r.processes = procs->size();
        if (cg->tasks) r.tasks = *cg->tasks;
        std::uint64_t rss = 0;
        for (pid_t pid : *procs)
            if (auto p = sys::process_usage(pid)) {
                if (!cg->tasks) r.tasks += p->threads;
                rss += p->rss_bytes;
            }
        if (!r.memory_bytes) r.memory_bytes = rss;
        return r;
    }
    // No cgroup: the processes of the instance's sessions, the processes watched, and adopted orphans of the app.
    std::vector<pid_t> pids = sys::processes_in_sessions(u->rt.sessions);
    for (const auto &p : u->rt.processes)
        if (!p->leftover && std::find(pids.begin(), pids.end(), p->pid) == pids.end()) pids.push_back(p->pid);
    if (subreaper_)
        for (pid_t pid : sys::own_children())
            if (std::find(pids.begin(), pids.end(), pid) == pids.end() && sys::process_env(pid, "WATCHD_ID") == ref.id)
                pids.push_back(pid);
    std::uint64_t rss = 0;
    for (pid_t pid : pids)
        if (auto p = sys::process_usage(pid)) {
            ++r.processes;
            r.cpu_usec += p->cpu_usec;
            r.tasks += p->threads;
            rss += p->rss_bytes;
        }
    if (!r.processes) return std::nullopt;
    r.memory_bytes = rss;
    return r;
}

// limits: memory.max, pids.max and cpu.max of the app's cgroup, where watchd was given those controllers; what
// cannot be applied is said once (a limit silently not enforced would be worse than none).
void Engine::apply_limits(Unit &u) {
    const AppUnit *a = u.app();
    if (!a || !a->spec.limits.any()) return;
    const auto &l = a->spec.limits;
    const int dir = u.rt.cgroup.dir.get();
    std::vector<std::string> not_applied;
    const std::string enabled = cgroups_ && dir >= 0 ? " " + cgroups_->controllers() + " " : std::string();
    auto set = [&](bool wanted, const char *controller, const char *file, const std::string &value) {
        if (!wanted) return;
        if (dir < 0 || enabled.find(std::string(" ") + controller + " ") == std::string::npos) {
            not_applied.push_back(std::string(file) + " (no " + controller + " controller delegated to watchd)");
            return;
        }
        if (auto ok = sys::cgroup::set(dir, file, value); !ok) not_applied.push_back(std::string(file) + ": " + ok.error().message());
    };
    set(l.memory_max.has_value(), "memory", "memory.max", std::to_string(l.memory_max.value_or(0)));
    set(l.tasks_max.has_value(), "pids", "pids.max", std::to_string(l.tasks_max.value_or(0)));
    set(l.cpu_max.has_value(), "cpu", "cpu.max", std::to_string(l.cpu_max.value_or(0) * 1000) + " 100000");
    if (not_applied.empty() || u.rt.limits_said) return;
    u.rt.limits_said = true;
    std::string list;
    for (const auto &n : not_applied) list += (list.empty() ? "" : "; ") + n;
    announce(u, mdl::Announcement::Error, LOG_WARNING,
             "/apps/" + u.ref.id + "/limits not enforced: " + list + (dir < 0 ? " (no cgroup: watchd runs without a delegated one)" : ""));
}

std::optional<std::uint64_t> Engine::instance_cpu(Unit &u, pid_t exited) {
    if (const int dir = u.rt.cgroup.dir.get(); dir >= 0) {
        auto used = sys::cgroup::usage(dir);
        if (!used) return std::nullopt;
        return cpu_since_spawn(u, used->cpu_usec);
    }
    auto used = sys::process_usage(exited);
    if (!used) return std::nullopt;
    return used->cpu_usec;
}

void Engine::arm_rules(Unit &u) {
    const AppUnit *a = u.app();
    if (!a) return;
    RuleRuntime &r = u.rt.rules;
    if (!r.timer) {
        auto t = event::Timer::create(loop_, [this, &u] { check_rules(u); });
        if (!t) {
            announce(u, mdl::Announcement::Error, LOG_ERR, "cannot check restart-if: " + t.error().message());
            return;
        }
        r.timer = std::move(*t);
    }
    if (r.instance != u.core().instance_id) r.reset(u.core().instance_id);
    r.timer->arm(base::now_monotonic() + a->spec.restart_if.every);
}

namespace {

std::string mib(std::uint64_t bytes) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.1f MiB", static_cast<double>(bytes) / (1024.0 * 1024));
    return buf;
}

} // namespace

// One restart-if check: each rule over its limit counts up, under it back to 0; `for` checks in a row restart it.
void Engine::check_rules(Unit &u) {
    const AppUnit *a = u.app();
    if (!a || u.core().state != UnitState::Running) return; // armed again when it runs
    const auto &rules = a->spec.restart_if;
    RuleRuntime &r = u.rt.rules;
    if (r.instance != u.core().instance_id) r.reset(u.core().instance_id);
    const auto used = usage(u.ref);
    const base::Usec now = base::now_monotonic();
    std::vector<std::string> over;
    if (used) {
        auto count = [&](unsigned &n, bool is_over, const std::string &what) {
            n = is_over ? n + 1 : 0;
            if (n >= rules.checks) over.push_back(what);
        };
        if (rules.memory_above && used->memory_bytes)
            count(r.memory, *used->memory_bytes > *rules.memory_above,
                  "memory " + mib(*used->memory_bytes) + " above " + mib(*rules.memory_above));
        if (rules.tasks_above)
            count(r.tasks, used->tasks > *rules.tasks_above,
                  std::to_string(used->tasks) + " tasks, more than " + std::to_string(*rules.tasks_above));
        if (rules.cpu_above && r.last_at && now > r.last_at) {
            const std::uint64_t spent = used->cpu_usec > r.last_cpu_usec ? used->cpu_usec - r.last_cpu_usec : 0;
            const std::uint64_t pct = spent * 100 / (now - r.last_at);
            count(r.cpu, pct > *rules.cpu_above,
                  "CPU " + std::to_string(pct) + "% above " + std::to_string(*rules.cpu_above) + "%");
        }
        r.last_cpu_usec = used->cpu_usec;
        r.last_at = now;
    }
    if (over.empty()) {
        r.timer->arm(now + rules.every);
        return;
    }
    std::string why;
    for (const auto &o : over) why += (why.empty() ? "" : "; ") + o;
    announce(u, mdl::Announcement::Restarting, LOG_WARNING,
             "restart-if: " + why + " for " + std::to_string(rules.checks) + (rules.checks == 1 ? " check" : " checks") +
                 " in a row: restarting");
    r.reset({});
    post(u, mdl::ev::ToggleCmd{mdl::Toggle::Restart});
}

} // namespace watchd::supervisor
