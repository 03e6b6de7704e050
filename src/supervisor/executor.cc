// The executor: model::Action → effect. One small function per action type; every result goes back to the model
// through the event queue.
#include <algorithm>
#include <cerrno>
#include <csignal>
#include <fcntl.h>
#include <syslog.h>
#include <unistd.h>

#include "base/uuid.h"
#include "supervisor/engine.h"
#include "sys/app_logs.h"
#include "sys/fd_limit.h"
#include "sys/log.h"
#include "sys/proc_info.h"
#include "sys/process.h"
#include "sys/users.h"

namespace watchd::supervisor {

namespace mdl = watchd::model;

void Engine::execute(Unit &u, const mdl::Action &a) {
    std::visit(
        [&](const auto &x) {
            using T = std::decay_t<decltype(x)>;
            if constexpr (std::is_same_v<T, mdl::act::Spawn>) do_spawn(u);
            else if constexpr (std::is_same_v<T, mdl::act::Kill>) do_kill(u, x.signal);
            else if constexpr (std::is_same_v<T, mdl::act::KillSession>) do_kill_session(u, x.session, x.signal);
            else if constexpr (std::is_same_v<T, mdl::act::ReadPidFile>) do_read_pid_file(u);
            else if constexpr (std::is_same_v<T, mdl::act::WatchPid>) do_watch_pid(u, x.pid);
            else if constexpr (std::is_same_v<T, mdl::act::ArmTimer>) arm_timer(u, x.kind, x.at);
            else if constexpr (std::is_same_v<T, mdl::act::CancelTimer>) cancel_timer(u, x.kind);
            else if constexpr (std::is_same_v<T, mdl::act::Announce>) announce(u, x.what, x.priority, x.message);
            else if constexpr (std::is_same_v<T, mdl::act::WatchUnit>) do_watch_unit(u);
            else if constexpr (std::is_same_v<T, mdl::act::CallSystemd>) do_call_systemd(u, x.verb);
            else if constexpr (std::is_same_v<T, mdl::act::StartProbe>) do_start_probe(u);
            else if constexpr (std::is_same_v<T, mdl::act::StopProbe>) do_stop_probe(u);
        },
        a);
}

// Every journal event about a unit goes through here: WATCHD_EVENT and MESSAGE_ID from the announcement table.
void Engine::announce(const Unit &u, mdl::Announcement what, int priority, std::string_view message) {
    const auto &c = u.core();
    const std::string &inst = c.instance_id.empty() && !c.history.empty() ? c.history.back().instance_id : c.instance_id;
    // The display name helps where an instance starts; elsewhere the id says enough.
    const std::string name = what == mdl::Announcement::Started
                                 ? std::visit([](const auto &ku) { return ku.spec.name; }, u.k)
                                 : std::string();
    sys::log::UnitFields f{mdl::to_string(u.ref.kind), u.ref.id, mdl::to_string(what), mdl::message_id(what), inst,
                           c.instance_pid, name, {}};
    if ((what == mdl::Announcement::Exited || what == mdl::Announcement::Stopped) && u.rt.exit_cpu_usec) {
        f.cpu_usec = u.rt.exit_cpu_usec;
        const base::Usec ms = *f.cpu_usec / base::kUsecPerMsec;
        sys::log::unit(priority, f, std::string(message) + " (used " +
                                        (ms ? base::format_duration(ms * base::kUsecPerMsec) : "less than 1ms") + " of CPU)");
        return;
    }
    sys::log::unit(priority, f, message);
    if (u.ref.kind == UnitKind::Check && what == mdl::Announcement::Down) alert(u, mdl::AlertKind::Down, message);
    else if (u.ref.kind == UnitKind::Check && what == mdl::Announcement::Up) alert(u, mdl::AlertKind::Up, message);
    else if (u.ref.kind != UnitKind::Check && what == mdl::Announcement::Failed) alert(u, mdl::AlertKind::Failed, message);
    else if (u.ref.kind != UnitKind::Check && what == mdl::Announcement::Restarting &&
             c.tracker.attempt == mdl::kCrashLoopFailures)
        alert(u, mdl::AlertKind::CrashLoop, std::to_string(mdl::kCrashLoopFailures) + " quick failures in a row, " +
                                                std::string(message));
}

void Engine::alert(const Unit &u, mdl::AlertKind kind, std::string_view message) {
    if (!dispatcher_) return; // with no notifier yet, the dispatcher still keeps what is in force for a later one
    mdl::Alert a;
    a.unit = u.ref;
    a.kind = kind;
    a.at = base::now_realtime();
    a.name = std::visit([](const auto &ku) { return ku.spec.name; }, u.k);
    a.message = std::string(message);
    if (const auto *c = std::get_if<CheckUnit>(&u.k)) {
        a.target = mdl::describe_target(c->spec);
        if (a.message.starts_with(a.target + " ")) a.message.erase(0, a.target.size() + 1); // said once, in front
        a.since = c->status.down_since;
    } else if (kind == mdl::AlertKind::Failed) {
        a.since = a.at;
    }
    dispatcher_->send(a);
}

void Engine::do_spawn(Unit &u) {
    AppUnit *a = u.app();
    if (!a) return;
    if (std::any_of(u.rt.processes.begin(), u.rt.processes.end(), [](const auto &p) { return p->leftover; })) {
        u.rt.spawn_deferred = true; // started once the last leftover of the failed launch is gone
        return;
    }
    const int cgroup = app_cgroup(u);
    if (cgroup >= 0 && cgroup_populated(u)) {
        // The previous instance left processes behind (a crashed app's children): none runs beside the next one.
        u.rt.spawn_deferred = true;
        kill_cgroup(u, "left by the previous instance");
        return;
    }
    if (subreaper_) end_sessions(u);
    if (cgroup < 0 && a->spec.limits.any()) apply_limits(u); // says once that they cannot be enforced
    if (cgroup >= 0)
        if (auto used = sys::cgroup::usage(cgroup)) u.rt.cgroup.cpu_at_spawn = used->cpu_usec;
    auto r = launcher_.launch(a->spec, cgroup);
    if (!r) {
        queue(u, mdl::ev::SpawnFailed{r.error().message()});
        return;
    }
    if (!r->warning.empty()) announce(u, mdl::Announcement::Error, LOG_ERR, r->warning);
    const pid_t pid = r->pid;
    if (r->stdout_read) start_output(u, LOG_INFO, std::move(r->stdout_read), pid, r->instance_id);
    if (r->stderr_read) start_output(u, LOG_ERR, std::move(r->stderr_read), pid, r->instance_id);
    u.rt.spawned_instance = r->instance_id;
    watch_process(u, pid, std::move(r->pidfd), true, false);
    queue(u, mdl::ev::Spawned{pid, r->instance_id});
}

void Engine::spawn_if_deferred(Unit &u) {
    if (!u.rt.spawn_deferred || u.rt.cgroup.busy ||
        std::any_of(u.rt.processes.begin(), u.rt.processes.end(), [](const auto &p) { return p->leftover; }))
        return;
    u.rt.spawn_deferred = false;
    do_spawn(u);
    drain();
}

void Engine::do_watch_pid(Unit &u, pid_t pid) {
    if (std::any_of(u.rt.processes.begin(), u.rt.processes.end(), [&](const auto &p) { return p->pid == pid; }))
        return; // already watched (the launcher that stayed to be the daemon)
    auto fd = sys::pidfd_open(pid);
    if (!fd) {
        if (const std::string note = sys::fd_exhaustion_note(fd.error().code.value()); !note.empty())
            announce(u, mdl::Announcement::Error, LOG_CRIT, "cannot watch PID " + std::to_string(pid) + note);
        queue(u, mdl::ev::ProcessExited{pid, 0, 0, false}); // gone already (or not watchable: treated as gone)
        return;
    }
    watch_process(u, pid, std::move(*fd), false, false);
}

void Engine::watch_process(Unit &u, pid_t pid, base::Pidfd fd, bool child, bool leftover) {
    auto w = std::make_unique<WatchedProcess>();
    w->pid = pid;
    w->child = child;
    w->leftover = leftover;
    w->fd = std::move(fd);
    if (subreaper_ && !leftover)
        if (auto ids = sys::process_ids(pid)) note_session(u, pid, ids->session);
    WatchedProcess *raw = w.get();
    auto finish = [this, &u, raw](mdl::ev::ProcessExited e) {
        // Retire the watch first: its callback is running right now (freed on the next iteration).
        if (raw->io_source) raw->io_source->disable();
        auto it = std::find_if(u.rt.processes.begin(), u.rt.processes.end(),
                               [&](const auto &p) { return p.get() == raw; });
        if (it != u.rt.processes.end()) {
            retire(std::shared_ptr<WatchedProcess>(std::move(*it)));
            u.rt.processes.erase(it);
        }
        // Its exit may have orphaned others, whose SIGCHLD coalesced with its own: look once sd-event has reaped it.
        if (subreaper_ && orphan_timer_ && !orphan_timer_->armed()) orphan_timer_->arm(1);
        if (raw->leftover) { // not the model's business; a deferred spawn may go now
            spawn_if_deferred(u);
            after_drain();
            return;
        }
        // What the process wrote before it died goes to the log before its exit does.
        std::vector<OutputReader *> mine;
        for (auto &o : u.rt.outputs)
            if (o->pid == e.pid) mine.push_back(o.get());
        for (OutputReader *o : mine) drain_output(u, *o);
        // What the instance used, while it can still be read: the zombie's /proc stat (its own and its reaped
        // children's CPU time) or, in cgroup mode, the cgroup's since the instance started.
        if (e.pid == u.core().pid || e.pid == u.core().instance_pid) u.rt.exit_cpu_usec = instance_cpu(u, e.pid);
        if (hold_exit(u, e)) return;
        post(u, e);
        u.rt.exit_cpu_usec.reset();
    };
    if (child) {
        auto src = event::ChildSource::create(loop_, raw->fd.get(), [raw, finish](const siginfo_t &si) {
            mdl::ev::ProcessExited e{raw->pid};
            if (si.si_code == CLD_EXITED) e.code = si.si_status;
            else e.signal = si.si_status;
            finish(e);
        });
        if (src) raw->child_source = std::move(*src);
    } else {
        auto src = event::IoSource::create(
            loop_, raw->fd.get(), event::io::kReadable, [raw, finish](std::uint32_t) { finish({raw->pid, 0, 0, false}); },
            event::Priority::Important);
        if (src) raw->io_source = std::move(*src);
    }
    if (!raw->child_source && !raw->io_source) {
        announce(u, mdl::Announcement::Error, LOG_CRIT, "cannot watch PID " + std::to_string(pid) + ", treating it as gone");
        queue(u, mdl::ev::ProcessExited{pid, 0, 0, false});
        return;
    }
    u.rt.processes.push_back(std::move(w));
}

void Engine::do_kill(Unit &u, int sig) {
    const AppUnit *a = u.app();
    std::vector<pid_t> in_cgroup;
    if (const int dir = u.rt.cgroup.dir.get(); dir >= 0) {
        // Everything the app started is in its cgroup: SIGKILL is cgroup.kill, other signals go to each process.
        if (auto procs = sys::cgroup::procs(dir)) in_cgroup = std::move(*procs);
        if (sig == SIGKILL) {
            u.rt.cgroup.killed = true;
            if (auto ok = sys::cgroup::kill_all(dir); !ok)
                announce(u, mdl::Announcement::Error, LOG_WARNING, "cannot kill the app's cgroup: " + ok.error().message());
        } else {
            for (pid_t pid : in_cgroup) ::kill(pid, sig);
        }
        if (!in_cgroup.empty()) {
            // Down only once the cgroup is empty. Looked at again after the watch is in place: had the processes
            // gone in between, no change would ever be reported (a stop would wait forever).
            watch_cgroup(u);
            u.rt.cgroup.busy = u.rt.cgroup.watch != nullptr && cgroup_populated(u);
        }
    }
    for (auto &p : u.rt.processes) {
        // A process outside the cgroup (named by a ping or a pid file) is signalled as before.
        if (std::find(in_cgroup.begin(), in_cgroup.end(), p->pid) != in_cgroup.end()) continue;
        if (p->child && a && a->spec.keepalive != mdl::KeepAlive::PidFile) (void)sys::kill_group(p->pid, sig);
        if (auto r = sys::pidfd_kill(p->fd.get(), sig); !r)
            announce(u, mdl::Announcement::Error, LOG_WARNING, r.error().message());
    }
}

// Kills what a failed launch left in its session and watches it until it is gone: the next launch waits for that.
void Engine::do_kill_session(Unit &u, pid_t session, int sig) {
    const auto killed = sys::kill_session(session, sig);
    if (killed.empty()) return;
    for (pid_t pid : killed)
        if (auto fd = sys::pidfd_open(pid)) watch_process(u, pid, std::move(*fd), false, true);
    announce(u, mdl::Announcement::Stopping, LOG_NOTICE,
             "killed " + std::to_string(killed.size()) + " process" + (killed.size() == 1 ? "" : "es") +
                 " left by the failed launch (session " + std::to_string(session) + ")");
}

// Reads and checks the pid file and reports what it says; the model decides what the PID means. watchd runs as
// root and the app usually does not: a PID that does not belong to the app's user is refused.
void Engine::do_read_pid_file(Unit &u) {
    const AppUnit *a = u.app();
    if (!a) return;
    const auto &s = a->spec;
    const std::string path = s.pid_file();
    auto report = [&](pid_t pid, std::string error) {
        queue(u, mdl::ev::PidFileRead{pid, pid > 0 ? base::uuid_v4() : std::string(),
                                      error.empty() ? error : "/apps/" + s.id + "/pid-path: " + error});
    };
    auto pid = sys::read_pid_file(path);
    if (!pid) return report(0, pid.error().message() + sys::fd_exhaustion_note(pid.error().code.value()));
    if (auto ok = sys::check_pid_file_age(path, *pid); !ok) return report(0, ok.error().message());
    if (s.pid_verify)
        if (auto ok = sys::verify_pid_binary(*pid, s.exec_path()); !ok) return report(0, ok.error().message());
    if (std::string why = foreign_pid(s, *pid); !why.empty()) return report(0, std::move(why));
    report(*pid, {});
}

std::string foreign_pid(const mdl::AppSpec &s, pid_t pid) {
    if (s.user.empty()) return {};
    auto creds = sys::resolve_credentials(s.user, s.group);
    auto owner = sys::process_uid(pid);
    if (!owner) return owner.error().message();
    if (!creds) return "cannot check the owner of PID " + std::to_string(pid) + ": " + creds.error().message();
    if (*owner != creds->uid)
        return "PID " + std::to_string(pid) + " runs as uid " + std::to_string(*owner) + ", not as the app's user " +
               s.user + " (uid " + std::to_string(creds->uid) + "): refused, watchd signals only the app's own processes";
    return {};
}

void Engine::start_output(Unit &u, int priority, base::UniqueFd fd, pid_t pid, const std::string &instance) {
    fcntl(fd.get(), F_SETFL, O_NONBLOCK);
    auto r = std::make_unique<OutputReader>();
    r->app_id = u.ref.id;
    r->instance = instance;
    r->pid = pid;
    r->priority = priority;
    r->fd = std::move(fd);
    OutputReader *raw = r.get();
    auto src = event::IoSource::create(loop_, raw->fd.get(), event::io::kReadable,
                                       [this, &u, raw](std::uint32_t) { drain_output(u, *raw); });
    if (!src) return; // output is lost, but the app still runs: its writes fail with EPIPE
    r->source = std::move(*src);
    u.rt.outputs.push_back(std::move(r));
}

namespace {

// The output rate limit of an app: is one more line allowed now? Rolls the window over, saying how many lines
// the last one dropped (once per window).
bool take_line(const mdl::AppSpec &spec, OutputBudget &b, const OutputReader &r) {
    if (spec.log_rate_burst == 0) return true;
    const base::Usec now = base::now_monotonic();
    if (now - b.window_start >= spec.log_rate_interval) {
        if (b.dropped)
            sys::log::app_line(r.app_id, r.pid, r.instance, LOG_WARNING,
                               "watchd: dropped " + std::to_string(b.dropped) + " lines of output in " +
                                   base::format_duration(now - b.window_start) + " (rate limit: " +
                                   std::to_string(spec.log_rate_burst) + " lines per " +
                                   base::format_duration(spec.log_rate_interval) + ")");
        b = OutputBudget{now, 0, 0};
    }
    if (b.lines < spec.log_rate_burst) {
        ++b.lines;
        return true;
    }
    ++b.dropped;
    return false;
}

// Forwards what the pipe holds, whole lines at a time, within the app's output budget; marks the reader done at
// EOF. Bounded work per call: a chatty app cannot starve the loop, and process exits stay ahead of output.
void forward_output(const mdl::AppSpec &spec, OutputBudget &budget, std::deque<std::string> &recent,
                    OutputReader &r) {
    char buf[16384];
    auto emit = [&](std::string_view line) {
        if (!take_line(spec, budget, r)) return;
        sys::log::app_line(r.app_id, r.pid, r.instance, r.priority, line);
        if (recent.size() >= kRecentOutputLines) recent.pop_front();
        recent.emplace_back(line.substr(0, kRecentOutputLineBytes));
    };
    for (int rounds = 0; rounds < 4; ++rounds) {
        ssize_t n = ::read(r.fd.get(), buf, sizeof buf);
        if (n < 0 && (errno == EAGAIN || errno == EINTR)) return;
        if (n <= 0) {
            if (!r.partial.empty()) emit(r.partial);
            r.partial.clear();
            r.done = true;
            if (r.source) r.source->disable(); // freed with the reader, after this callback returns
            return;
        }
        r.partial.append(buf, static_cast<size_t>(n));
        size_t start = 0;
        for (size_t nl; (nl = r.partial.find('\n', start)) != std::string::npos; start = nl + 1)
            emit(std::string_view(r.partial).substr(start, nl - start));
        r.partial.erase(0, start);
        if (r.partial.size() >= 8192) { // journald's line limit is larger; keep memory bounded per app
            emit(r.partial);
            r.partial.clear();
        }
    }
}

} // namespace

std::optional<RecentOutput> Engine::recent_output(const UnitRef &ref, std::size_t max_lines) const {
    const Unit *u = find(ref);
    const AppUnit *a = u ? u->app() : nullptr;
    if (!a) return std::nullopt;
    RecentOutput out;
    if (!a->spec.log_directory.empty()) { // read from the app's own files (local disk, the last 16 KiB of each)
        out.source = "files";
        out.where = a->spec.working_directory + "/" + a->spec.log_directory;
        out.lines = sys::tail_newest_logs(out.where, max_lines);
        return out;
    }
    out.source = "journal";
    const auto &recent = u->rt.recent_output;
    const std::size_t n = std::min(max_lines, recent.size());
    out.lines.assign(recent.end() - static_cast<std::ptrdiff_t>(n), recent.end());
    return out;
}

void Engine::drain_output(Unit &u, OutputReader &r) {
    if (const AppUnit *a = u.app()) forward_output(a->spec, u.rt.output_budget, u.rt.recent_output, r);
    if (!r.done) return;
    auto it = std::find_if(u.rt.outputs.begin(), u.rt.outputs.end(), [&](const auto &o) { return o.get() == &r; });
    if (it != u.rt.outputs.end()) {
        retire(std::shared_ptr<OutputReader>(std::move(*it)));
        u.rt.outputs.erase(it);
    }
}

void Engine::arm_timer(Unit &u, mdl::TimerKind k, base::Usec at) {
    if (u.ref.kind == UnitKind::Check && k == mdl::TimerKind::State) return schedule_check(u, at);
    auto &slot = k == mdl::TimerKind::State ? u.rt.state_timer : u.rt.exec_timer;
    if (!slot) {
        auto t = event::Timer::create(loop_, [this, &u, k] { post(u, mdl::ev::TimerFired{k}); });
        if (!t) {
            announce(u, mdl::Announcement::Error, LOG_CRIT, "cannot arm a timer: " + t.error().message());
            return;
        }
        slot = std::move(*t);
    }
    slot->arm(at);
}

void Engine::cancel_timer(Unit &u, mdl::TimerKind k) {
    if (u.ref.kind == UnitKind::Check && k == mdl::TimerKind::State) return unschedule_check(u);
    auto &slot = k == mdl::TimerKind::State ? u.rt.state_timer : u.rt.exec_timer;
    if (slot) slot->cancel();
}

} // namespace watchd::supervisor
