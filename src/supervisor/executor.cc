// The executor: model::Action → effect. One small function per action type.
#include <cerrno>
#include <csignal>
#include <ctime>
#include <fcntl.h>
#include <filesystem>
#include <syslog.h>
#include <unistd.h>

#include "base/uuid.h"
#include "supervisor/unit.h"
#include "sys/log.h"
#include "sys/process.h"
#include "sys/users.h"

namespace watchd::supervisor {

namespace mdl = watchd::model;

std::string_view message_id(mdl::Announcement a) {
    switch (a) {
    case mdl::Announcement::Started: return "8f3a2c5e6b7d4e1f9a0b1c2d3e4f5a61";
    case mdl::Announcement::Exited: return "8f3a2c5e6b7d4e1f9a0b1c2d3e4f5a62";
    case mdl::Announcement::Restarting: return "8f3a2c5e6b7d4e1f9a0b1c2d3e4f5a63";
    case mdl::Announcement::Failed: return "8f3a2c5e6b7d4e1f9a0b1c2d3e4f5a64";
    case mdl::Announcement::Stopping: return "8f3a2c5e6b7d4e1f9a0b1c2d3e4f5a65";
    case mdl::Announcement::Stopped: return "8f3a2c5e6b7d4e1f9a0b1c2d3e4f5a66";
    case mdl::Announcement::Timeout: return "8f3a2c5e6b7d4e1f9a0b1c2d3e4f5a67";
    case mdl::Announcement::Error: return "8f3a2c5e6b7d4e1f9a0b1c2d3e4f5a68";
    }
    return {};
}

namespace {

std::string json_array(const std::vector<std::string> &v) {
    std::string s = "[";
    for (size_t i = 0; i < v.size(); ++i) {
        if (i) s += ',';
        s += '"';
        for (char c : v[i]) {
            if (c == '"' || c == '\\') s += '\\';
            s += c;
        }
        s += '"';
    }
    return s + "]";
}

// Later entries win for a duplicated key (Go's exec.Cmd.Env rule, which patrol users rely on).
std::vector<std::string> dedupe_env(std::vector<std::string> env) {
    std::vector<std::string> out;
    for (auto it = env.rbegin(); it != env.rend(); ++it) {
        auto key = it->substr(0, it->find('='));
        bool seen = std::any_of(out.begin(), out.end(), [&](const std::string &o) {
            return o.size() > key.size() && o.compare(0, key.size(), key) == 0 && o[key.size()] == '=';
        });
        if (!seen) out.push_back(*it);
    }
    std::reverse(out.begin(), out.end());
    return out;
}

// patrol's dated log files: <wd>/<log-directory>/<year>/<month name>/<day>/<unix nanos>.<kind>.log
base::Result<base::UniqueFd> open_log_file(const mdl::AppSpec &s, const char *kind, base::Usec real) {
    static const char *months[] = {"january", "february", "march",     "april",   "may",      "june",
                                   "july",    "august",   "september", "october", "november", "december"};
    time_t secs = static_cast<time_t>(real / base::kUsecPerSec);
    struct tm tm {};
    localtime_r(&secs, &tm);
    std::filesystem::path dir = std::filesystem::path(s.working_directory) / s.log_directory /
                                std::to_string(tm.tm_year + 1900) / months[tm.tm_mon] / std::to_string(tm.tm_mday);
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    if (ec) return base::unexpected(base::Error{ec, "/apps/" + s.id + "/log-directory", "cannot create " + dir.string()});
    auto file = dir / (std::to_string(real * 1000) + "." + kind + ".log");
    int fd = ::open(file.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOCTTY, 0640);
    if (fd < 0) return base::unexpected(base::errno_error(errno, "/apps/" + s.id + "/log-directory",
                                                          "cannot open " + file.string()));
    return base::UniqueFd(fd);
}

} // namespace

void Supervisor::execute(Unit &u, const mdl::Action &a) {
    std::visit(
        [&](const auto &x) {
            using T = std::decay_t<decltype(x)>;
            if constexpr (std::is_same_v<T, mdl::act::Spawn>) do_spawn(u, x.adopt_first);
            else if constexpr (std::is_same_v<T, mdl::act::Kill>) do_kill(u, x.signal);
            else if constexpr (std::is_same_v<T, mdl::act::ReadPidFile>) do_read_pid_file(u, false);
            else if constexpr (std::is_same_v<T, mdl::act::WatchPid>) {
                bool known = std::any_of(u.rt.processes.begin(), u.rt.processes.end(),
                                         [&](const auto &p) { return p->pid == x.pid; });
                if (known) return;
                auto fd = sys::pidfd_open(x.pid);
                if (!fd) {
                    queue_.emplace_back(&u, mdl::ev::ProcessExited{x.pid, 0, 0, false});
                    return;
                }
                watch_pid(u, x.pid, std::move(*fd), false);
            } else if constexpr (std::is_same_v<T, mdl::act::ArmTimer>) arm_timer(u, x.kind, x.at);
            else if constexpr (std::is_same_v<T, mdl::act::CancelTimer>) cancel_timer(u, x.kind);
            else if constexpr (std::is_same_v<T, mdl::act::Announce>) announce(u, x);
        },
        a);
}

void Supervisor::announce(Unit &u, const mdl::act::Announce &a) {
    const auto &st = u.status;
    std::string inst = st.instance_id.empty() && !st.history.empty() ? st.history.back().instance_id : st.instance_id;
    sys::log::unit(a.priority, {"app", u.spec.id, mdl::to_string(a.what), message_id(a.what), inst, st.instance_pid},
                   a.message);
}

void Supervisor::do_spawn(Unit &u, bool adopt_first) {
    const auto &s = u.spec;
    if (s.keepalive == mdl::KeepAlive::PidFile) {
        if (adopt_first) {
            do_read_pid_file(u, true);
            if (u.status.state != mdl::UnitState::Starting || !u.status.instance_id.empty()) return;
        }
        ::unlink(s.pid_file().c_str()); // a stale PID must not be taken for the new instance
    }
    const std::string exec = s.exec_path();
    if (auto ok = sys::check_executable(exec); !ok) {
        queue_.emplace_back(&u, mdl::ev::SpawnFailed{"/apps/" + s.id + "/binary: " + ok.error().message()});
        return;
    }
    sys::ExecSpec x;
    x.path = exec;
    x.argv.push_back(exec);
    x.argv.insert(x.argv.end(), s.args.begin(), s.args.end());
    x.working_directory = s.working_directory;
    std::vector<std::string> env;
    if (s.env_parent) env = parent_env_;
    if (!s.user.empty() || !s.group.empty()) {
        auto c = sys::resolve_credentials(s.user.empty() ? std::to_string(getuid()) : s.user, s.group);
        if (!c) {
            queue_.emplace_back(&u, mdl::ev::SpawnFailed{"/apps/" + s.id + "/" + c.error().where + ": " +
                                                         c.error().message()});
            return;
        }
        x.uid = c->uid;
        x.gid = c->gid;
        x.groups = c->groups;
        // Like systemd's User=: the user's own HOME/USER/LOGNAME, not watchd's (config env still wins).
        if (!s.user.empty() && !c->name.empty()) {
            env.push_back("HOME=" + c->home);
            env.push_back("USER=" + c->name);
            env.push_back("LOGNAME=" + c->name);
        }
    }
    env.insert(env.end(), s.env.begin(), s.env.end());
    const std::string instance = base::uuid_v4();
    const int mode = static_cast<int>(s.keepalive);
    for (const char *prefix : {"PATROL_", "WATCHD_"}) { // PATROL_* as patrol set them; WATCHD_* as documented
        std::string p = prefix;
        env.push_back(p + "ID=" + s.id);
        env.push_back(p + "KEEPALIVE=" + std::to_string(mode));
        if (!s.pid_path.empty()) env.push_back(p + "PID=" + s.pid_file());
        if (!listen_http_.empty()) env.push_back(p + "HTTP=" + json_array(listen_http_));
        if (!listen_udp_.empty()) env.push_back(p + "UDP=" + json_array(listen_udp_));
    }
    env.push_back("WATCHD_INSTANCE_ID=" + instance);
    if (!s.secret.empty()) env.push_back("WATCHD_SECRET=" + s.secret);
    x.envp = dedupe_env(std::move(env));
    // Output: dated files when log-directory is set (journal if they cannot be opened), else pipes to us.
    base::UniqueFd out_w, err_w, out_r, err_r;
    bool to_files = false;
    if (!s.log_directory.empty()) {
        const base::Usec real = base::now_realtime();
        auto o = open_log_file(s, s.std_merge ? "stdmerge" : "stdout", real);
        auto e = s.std_merge ? base::Result<base::UniqueFd>(base::UniqueFd()) : open_log_file(s, "stderr", real);
        if (o && e) {
            out_w = std::move(*o);
            err_w = s.std_merge ? base::UniqueFd(::fcntl(out_w.get(), F_DUPFD_CLOEXEC, 3)) : std::move(*e);
            to_files = true;
        } else {
            const auto &err = o ? e.error() : o.error();
            sys::log::unit(LOG_ERR, {"app", s.id, "error", message_id(mdl::Announcement::Error), {}, 0},
                           err.where + ": " + err.message() + "; sending output to the journal instead");
        }
    }
    if (!to_files) {
        int p[2];
        if (pipe2(p, O_CLOEXEC) == 0) { out_r.reset(p[0]); out_w.reset(p[1]); }
        if (pipe2(p, O_CLOEXEC) == 0) { err_r.reset(p[0]); err_w.reset(p[1]); }
    }
    x.stdout_fd = out_w.get();
    x.stderr_fd = err_w.get();
    auto r = sys::spawn(x);
    out_w.reset();
    err_w.reset();
    if (!r) {
        queue_.emplace_back(&u, mdl::ev::SpawnFailed{r.error().message()});
        return;
    }
    const pid_t pid = r->pid;
    if (out_r) start_output(u, LOG_INFO, std::move(out_r), pid);
    if (err_r) start_output(u, LOG_ERR, std::move(err_r), pid);
    for (auto &o : u.rt.outputs)
        if (o->pid == pid) o->instance = instance;
    watch_pid(u, pid, std::move(r->pidfd), true);
    if (s.keepalive == mdl::KeepAlive::Patrol && !s.pid_path.empty()) {
        // patrol mode with pid-path: watchd writes the PID there, as patrol did.
        std::string text = std::to_string(pid) + "\n";
        int fd = ::open(s.pid_file().c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (fd >= 0) {
            (void)!::write(fd, text.data(), text.size());
            ::close(fd);
        }
    }
    queue_.emplace_back(&u, mdl::ev::Spawned{pid, instance});
}

void Supervisor::watch_pid(Unit &u, pid_t pid, base::Pidfd fd, bool child) {
    auto w = std::make_unique<WatchedProcess>();
    w->pid = pid;
    w->child = child;
    w->fd = std::move(fd);
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
        // What the process wrote before it died goes to the log before its exit does.
        std::vector<OutputReader *> mine;
        for (auto &o : u.rt.outputs)
            if (o->pid == e.pid) mine.push_back(o.get());
        for (OutputReader *o : mine) drain_output(u, *o);
        post(u, e);
    };
    if (child) {
        auto src = event::ChildSource::create(loop_.get(), raw->fd.get(), [raw, finish](const siginfo_t &si) {
            mdl::ev::ProcessExited e{raw->pid};
            if (si.si_code == CLD_EXITED) e.code = si.si_status;
            else e.signal = si.si_status;
            finish(e);
        });
        if (src) raw->child_source = std::move(*src);
    } else {
        auto src = event::IoSource::create(
            loop_.get(), raw->fd.get(), EPOLLIN, [raw, finish](std::uint32_t) { finish({raw->pid, 0, 0, false}); },
            SD_EVENT_PRIORITY_IMPORTANT);
        if (src) raw->io_source = std::move(*src);
    }
    if (!raw->child_source && !raw->io_source) {
        sys::log::unit(LOG_CRIT, {"app", u.spec.id, "error", {}, {}, pid}, "cannot watch PID, treating it as gone");
        queue_.emplace_back(&u, mdl::ev::ProcessExited{pid, 0, 0, false});
        return;
    }
    u.rt.processes.push_back(std::move(w));
}

void Supervisor::do_kill(Unit &u, int sig) {
    for (auto &p : u.rt.processes) {
        if (p->child && u.spec.keepalive != mdl::KeepAlive::PidFile) (void)sys::kill_group(p->pid, sig);
        if (auto r = sys::pidfd_kill(p->fd.get(), sig); !r)
            sys::log::unit(LOG_WARNING, {"app", u.spec.id, "error", {}, {}, p->pid}, r.error().message());
    }
}

void Supervisor::do_read_pid_file(Unit &u, bool adopting) {
    const auto &s = u.spec;
    const std::string path = s.pid_file();
    auto fail = [&](const std::string &why) {
        if (adopting) {
            sys::log::unit(LOG_INFO, {"app", s.id, "adopt", {}, {}, 0}, "no running instance to adopt: " + why);
            return;
        }
        queue_.emplace_back(&u, mdl::ev::PidFileRead{0, {}, "/apps/" + s.id + "/pid-path: " + why});
    };
    auto pid = sys::read_pid_file(path);
    if (!pid) return fail(pid.error().message());
    if (*pid == u.status.rechecking) return fail("still names PID " + std::to_string(*pid) + ", which exited");
    if (auto ok = sys::check_pid_file_age(path, *pid); !ok) return fail(ok.error().message());
    if (s.pid_verify) {
        if (auto ok = sys::verify_pid_binary(*pid, s.exec_path()); !ok) return fail(ok.error().message());
    }
    const bool watched = std::any_of(u.rt.processes.begin(), u.rt.processes.end(),
                                     [&](const auto &p) { return p->pid == *pid; });
    if (!watched) {
        auto fd = sys::pidfd_open(*pid);
        if (!fd) return fail("PID " + std::to_string(*pid) + " is not running");
        watch_pid(u, *pid, std::move(*fd), false);
    }
    mdl::ev::PidFileRead e{*pid, adopting ? base::uuid_v4() : std::string(), {}};
    if (adopting) {
        // Adoption happens inside Spawn: feed the result straight to the model before anything else runs.
        auto actions = mdl::transition(u.spec, settings_, u.status, e, now());
        for (const auto &a : actions) execute(u, a);
        return;
    }
    queue_.emplace_back(&u, std::move(e));
}

void Supervisor::start_output(Unit &u, int priority, base::UniqueFd fd, pid_t pid) {
    fcntl(fd.get(), F_SETFL, O_NONBLOCK);
    auto r = std::make_unique<OutputReader>();
    r->app_id = u.spec.id;
    r->pid = pid;
    r->priority = priority;
    r->fd = std::move(fd);
    OutputReader *raw = r.get();
    auto src = event::IoSource::create(loop_.get(), raw->fd.get(), EPOLLIN,
                                       [this, &u, raw](std::uint32_t) { drain_output(u, *raw); });
    if (!src) return; // output is lost, but the app still runs: its writes fail with EPIPE
    r->source = std::move(*src);
    u.rt.outputs.push_back(std::move(r));
}

void Supervisor::drain_output(Unit &u, OutputReader &r) {
    on_output(r);
    if (!r.done) return;
    auto it = std::find_if(u.rt.outputs.begin(), u.rt.outputs.end(), [&](const auto &o) { return o.get() == &r; });
    if (it != u.rt.outputs.end()) {
        retire(std::shared_ptr<OutputReader>(std::move(*it)));
        u.rt.outputs.erase(it);
    }
}

void Supervisor::on_output(OutputReader &r) {
    char buf[16384];
    for (int rounds = 0; rounds < 16; ++rounds) { // bounded: a chatty app cannot starve the loop
        ssize_t n = ::read(r.fd.get(), buf, sizeof buf);
        if (n < 0 && (errno == EAGAIN || errno == EINTR)) return;
        if (n <= 0) {
            if (!r.partial.empty()) sys::log::app_line(r.app_id, r.pid, r.instance, r.priority, r.partial);
            r.partial.clear();
            r.done = true;
            if (r.source) r.source->disable(); // freed with the reader, after this callback returns
            return;
        }
        r.partial.append(buf, static_cast<size_t>(n));
        size_t start = 0;
        for (size_t nl; (nl = r.partial.find('\n', start)) != std::string::npos; start = nl + 1)
            sys::log::app_line(r.app_id, r.pid, r.instance, r.priority,
                               std::string_view(r.partial).substr(start, nl - start));
        r.partial.erase(0, start);
        if (r.partial.size() >= 8192) { // journald's line limit is larger; keep memory bounded per app
            sys::log::app_line(r.app_id, r.pid, r.instance, r.priority, r.partial);
            r.partial.clear();
        }
    }
}

void Supervisor::arm_timer(Unit &u, mdl::TimerKind k, base::Usec at) {
    auto &slot = k == mdl::TimerKind::State ? u.rt.state_timer : u.rt.exec_timer;
    if (!slot) {
        auto t = event::Timer::create(loop_.get(), [this, &u, k] { post(u, mdl::ev::TimerFired{k}); });
        if (!t) {
            sys::log::unit(LOG_CRIT, {"app", u.spec.id, "error", {}, {}, 0}, t.error().message());
            return;
        }
        slot = std::move(*t);
    }
    slot->arm(at);
}

void Supervisor::cancel_timer(Unit &u, mdl::TimerKind k) {
    auto &slot = k == mdl::TimerKind::State ? u.rt.state_timer : u.rt.exec_timer;
    if (slot) slot->cancel();
}

} // namespace watchd::supervisor
