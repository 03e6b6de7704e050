// Starting an app instance: environment, credentials, output, the pid file.
#include "supervisor/app_launcher.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <ctime>
#include <fcntl.h>
#include <unistd.h>

#include "base/time.h"
#include "base/uuid.h"
#include "sys/fd_limit.h"
#include "sys/files.h"
#include "sys/process.h"
#include "sys/users.h"

extern char **environ;

namespace watchd::supervisor {

namespace {

// Variables of watchd's own service manager that must not leak into apps (env-parent).
bool is_private_env(std::string_view kv) {
    for (std::string_view p : {"NOTIFY_SOCKET=", "WATCHDOG_USEC=", "WATCHDOG_PID=", "LISTEN_FDS=", "LISTEN_PID=",
                               "LISTEN_FDNAMES=", "JOURNAL_STREAM=", "INVOCATION_ID=", "MANAGERPID="})
        if (kv.starts_with(p)) return true;
    return false;
}

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
std::vector<std::string> dedupe_env(const std::vector<std::string> &env) {
    std::vector<std::string> out;
    std::vector<std::string_view> keys;
    for (auto it = env.rbegin(); it != env.rend(); ++it) {
        std::string_view key = std::string_view(*it).substr(0, it->find('='));
        if (std::find(keys.begin(), keys.end(), key) != keys.end()) continue;
        keys.push_back(key);
        out.push_back(*it);
    }
    std::reverse(out.begin(), out.end());
    return out;
}

// patrol's dated log files: <wd>/<log-directory>/<year>/<month name>/<day>/<unix nanos>.<kind>.log. The app may
// own those directories, so none of them, nor the file, is followed if it is a symlink.
base::Result<base::UniqueFd> open_log_file(const model::AppSpec &s, const char *kind, base::Usec real) {
    static const char *months[] = {"january", "february", "march",     "april",   "may",      "june",
                                   "july",    "august",   "september", "october", "november", "december"};
    time_t secs = static_cast<time_t>(real / base::kUsecPerSec);
    struct tm tm {};
    localtime_r(&secs, &tm);
    const std::string where = "/apps/" + s.id + "/log-directory";
    auto dir = sys::make_directories_below(s.working_directory, s.log_directory + "/" + std::to_string(tm.tm_year + 1900) +
                                                                    "/" + months[tm.tm_mon] + "/" + std::to_string(tm.tm_mday),
                                           0755);
    if (!dir) return base::unexpected(base::Error{dir.error().code, where, dir.error().where + ": " + dir.error().what});
    auto file = sys::open_append_at(dir->get(), std::to_string(real * 1000) + "." + kind + ".log", 0640);
    if (!file) return base::unexpected(base::Error{file.error().code, where, file.error().where + ": " + file.error().what});
    return std::move(*file);
}

// Output of an instance: write ends for the child, read ends for watchd (pipes) unless files take it.
struct Output {
    base::UniqueFd out_w, err_w, out_r, err_r;
    std::string warning;
    int error = 0; // errno of a pipe that could not be made
};

Output open_output(const model::AppSpec &s) {
    Output o;
    if (!s.log_directory.empty()) {
        const base::Usec real = base::now_realtime();
        auto out = open_log_file(s, s.std_merge ? "stdmerge" : "stdout", real);
        auto err = s.std_merge ? base::Result<base::UniqueFd>(base::UniqueFd()) : open_log_file(s, "stderr", real);
        if (out && err) {
            o.out_w = std::move(*out);
            o.err_w = s.std_merge ? base::UniqueFd(::fcntl(o.out_w.get(), F_DUPFD_CLOEXEC, 3)) : std::move(*err);
            return o;
        }
        o.warning = (out ? err.error() : out.error()).message() + "; sending output to the journal instead";
    }
    int p[2];
    if (pipe2(p, O_CLOEXEC) == 0) { o.out_r.reset(p[0]); o.out_w.reset(p[1]); }
    else o.error = errno;
    if (pipe2(p, O_CLOEXEC) == 0) { o.err_r.reset(p[0]); o.err_w.reset(p[1]); }
    else o.error = errno;
    return o;
}

} // namespace

AppLauncher::AppLauncher(std::uint64_t fd_soft_limit) : fd_soft_limit_(fd_soft_limit) {
    for (char **e = environ; e && *e; ++e)
        if (!is_private_env(*e)) parent_env_.emplace_back(*e);
}

void AppLauncher::set_listen(std::vector<std::string> http, std::vector<std::string> udp) {
    listen_http_ = std::move(http);
    listen_udp_ = std::move(udp);
}

std::vector<std::string> AppLauncher::environment(const model::AppSpec &s, const std::vector<std::string> &user_env,
                                                  const std::string &instance_id) const {
    std::vector<std::string> env;
    if (s.env_parent) env = parent_env_;
    env.insert(env.end(), user_env.begin(), user_env.end());
    env.insert(env.end(), s.env.begin(), s.env.end());
    const int mode = static_cast<int>(s.keepalive);
    for (const char *prefix : {"PATROL_", "WATCHD_"}) { // PATROL_* as patrol set them; WATCHD_* as documented
        const std::string p = prefix;
        env.push_back(p + "ID=" + s.id);
        env.push_back(p + "KEEPALIVE=" + std::to_string(mode));
        if (!s.pid_path.empty()) env.push_back(p + "PID=" + s.pid_file());
        if (!listen_http_.empty()) env.push_back(p + "HTTP=" + json_array(listen_http_));
        if (!listen_udp_.empty()) env.push_back(p + "UDP=" + json_array(listen_udp_));
    }
    env.push_back("WATCHD_INSTANCE_ID=" + instance_id);
    if (!s.secret.empty()) env.push_back("WATCHD_SECRET=" + s.secret);
    return dedupe_env(env);
}

base::Result<Launched> AppLauncher::launch(const model::AppSpec &s, int cgroup_fd) const {
    const std::string exec = s.exec_path();
    if (auto ok = sys::check_executable(exec); !ok)
        return base::unexpected(base::Error{{}, "/apps/" + s.id + "/binary", ok.error().message()});
    sys::ExecSpec x;
    x.path = exec;
    x.argv.push_back(exec);
    x.argv.insert(x.argv.end(), s.args.begin(), s.args.end());
    x.working_directory = s.working_directory;
    x.cgroup_fd = cgroup_fd;
    if (fd_soft_limit_) x.nofile_soft = static_cast<rlim_t>(fd_soft_limit_);
    std::vector<std::string> user_env;
    if (!s.user.empty() || !s.group.empty()) {
        auto c = sys::resolve_credentials(s.user.empty() ? std::to_string(getuid()) : s.user, s.group);
        if (!c)
            return base::unexpected(base::Error{c.error().code, "/apps/" + s.id + "/" + c.error().where, c.error().what});
        x.uid = c->uid;
        x.gid = c->gid;
        x.groups = c->groups;
        // Like systemd's User=: the user's own HOME/USER/LOGNAME, not watchd's (config env still wins).
        if (!s.user.empty() && !c->name.empty())
            user_env = {"HOME=" + c->home, "USER=" + c->name, "LOGNAME=" + c->name};
    }
    Launched l;
    l.instance_id = base::uuid_v4();
    x.envp = environment(s, user_env, l.instance_id);
    // A stale PID must not be taken for the new instance.
    if (s.keepalive == model::KeepAlive::PidFile) ::unlink(s.pid_file().c_str());
    Output out = open_output(s);
    if (out.error)
        return base::unexpected(base::Error{{}, {}, base::errno_error(out.error, "pipe2", "no pipe for the output").message() +
                                                        sys::fd_exhaustion_note(out.error)});
    l.warning = std::move(out.warning);
    x.stdout_fd = out.out_w.get();
    x.stderr_fd = out.err_w.get();
    auto r = sys::spawn(x);
    if (!r) return base::unexpected(base::Error{{}, {}, r.error().message() + sys::fd_exhaustion_note(r.error().code.value())});
    l.pid = r->pid;
    l.pidfd = std::move(r->pidfd);
    l.stdout_read = std::move(out.out_r);
    l.stderr_read = std::move(out.err_r);
    if (s.keepalive == model::KeepAlive::Patrol && !s.pid_path.empty()) {
        // patrol mode with pid-path: watchd writes the PID there, as patrol did; atomically, never through a
        // symlink, and as the app's user where the directory is the app's.
        if (auto ok = sys::write_file_atomic(s.pid_file(), std::to_string(l.pid) + "\n", 0644, {x.uid, x.gid}); !ok)
            l.warning = "/apps/" + s.id + "/pid-path: " + ok.error().message();
    }
    return l;
}

} // namespace watchd::supervisor
