// Process primitives on raw syscalls: clone3(CLONE_PIDFD), pidfd_open, pidfd_send_signal, waitid(P_PIDFD).
#include "sys/process.h"

#include <cerrno>
#include <csignal>
#include <cstring>
#include <fcntl.h>
#include <fstream>
#include <grp.h>
#include <sched.h>
#include <sstream>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef P_PIDFD
#define P_PIDFD 3
#endif

namespace watchd::sys {

namespace {

// Shared with the child: with CLONE_VM the child writes here and the parent reads it once the child has exec'ed
// or exited (CLONE_VFORK suspends the parent until then).
struct ChildArgs {
    const ExecSpec *spec;
    char *const *argv;
    char *const *envp;
    int devnull;
    int error;          // errno of the failed step, 0 when execve succeeded
    const char *step;   // the failed step
};

// Async-signal-safe failure report from the child: "watchd: <what>: <strerror>\n" on fd 2, then exit 127.
[[noreturn]] void child_fail(ChildArgs *a, const char *what) {
    int err = errno;
    a->error = err ? err : EINVAL;
    a->step = what;
    const char *e = strerrordesc_np(err);
    if (!e) e = "unknown error";
    struct iovec v[] = {{const_cast<char *>("watchd: "), 8},
                        {const_cast<char *>(what), strlen(what)},
                        {const_cast<char *>(": "), 2},
                        {const_cast<char *>(e), strlen(e)},
                        {const_cast<char *>("\n"), 1}};
    (void)!writev(STDERR_FILENO, v, 5);
    _exit(127);
}

// Runs in the child between clone and exec, on its own stack, sharing watchd's memory: only async-signal-safe
// calls, no allocation, no writes to shared state but *a.
int child_main(void *p) {
    auto *a = static_cast<ChildArgs *>(p);
    const ExecSpec &s = *a->spec;
    // Default dispositions and an empty mask: watchd blocks SIGTERM/SIGHUP/SIGCHLD for sd-event. Without
    // CLONE_SIGHAND the child has its own copy of the handler table, so this does not touch watchd's.
    struct sigaction dfl {};
    dfl.sa_handler = SIG_DFL;
    for (int sig = 1; sig < NSIG; ++sig) {
        if (sig == SIGKILL || sig == SIGSTOP) continue;
        struct sigaction cur {};
        if (sigaction(sig, nullptr, &cur) == 0 && cur.sa_handler != SIG_DFL) sigaction(sig, &dfl, nullptr);
    }
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);
    if (s.new_session && setsid() < 0) child_fail(a, "setsid");
    // stdin from /dev/null; stdout/stderr to the prepared fds.
    int out = s.stdout_fd >= 0 ? s.stdout_fd : a->devnull, err = s.stderr_fd >= 0 ? s.stderr_fd : a->devnull;
    if (dup2(a->devnull, 0) < 0 || dup2(out, 1) < 0 || dup2(err, 2) < 0) child_fail(a, "dup2");
    if (syscall(SYS_close_range, 3U, ~0U, 0U) < 0) {
        for (int fd = 3; fd < 65536; ++fd) close(fd);
    }
    if (!s.working_directory.empty() && chdir(s.working_directory.c_str()) < 0) child_fail(a, "chdir");
    if (s.gid != static_cast<gid_t>(-1) || s.uid != static_cast<uid_t>(-1)) {
        if (setgroups(s.groups.size(), s.groups.data()) < 0) child_fail(a, "setgroups");
        if (s.gid != static_cast<gid_t>(-1) && setresgid(s.gid, s.gid, s.gid) < 0) child_fail(a, "setresgid");
        if (s.uid != static_cast<uid_t>(-1) && setresuid(s.uid, s.uid, s.uid) < 0) child_fail(a, "setresuid");
    }
    execve(s.path.c_str(), a->argv, a->envp);
    child_fail(a, "execve");
}

std::vector<char *> c_strings(const std::vector<std::string> &v) {
    std::vector<char *> out;
    out.reserve(v.size() + 1);
    for (const auto &s : v) out.push_back(const_cast<char *>(s.c_str()));
    out.push_back(nullptr);
    return out;
}

// The child's stack. One suffices: CLONE_VFORK keeps watchd (single-threaded) suspended until the child has
// exec'ed, so two children never use it at once.
alignas(64) char g_child_stack[256 * 1024];

} // namespace

base::Result<Spawned> spawn(const ExecSpec &spec) {
    auto argv = c_strings(spec.argv);
    auto envp = c_strings(spec.envp);
    base::UniqueFd devnull(::open("/dev/null", O_RDWR | O_CLOEXEC));
    if (!devnull) return base::unexpected(base::errno_error(errno, "open /dev/null"));
    ChildArgs args{&spec, argv.data(), envp.data(), devnull.get(), 0, nullptr};

    // posix_spawn's technique plus a pidfd: no copy of watchd's page tables, and the exec result is known here.
    int pidfd = -1;
    pid_t pid = ::clone(child_main, g_child_stack + sizeof g_child_stack,
                        CLONE_VM | CLONE_VFORK | CLONE_PIDFD | SIGCHLD, &args, &pidfd);
    if (pid < 0 && errno == EINVAL) { // kernels before 5.2: no CLONE_PIDFD
        pid = ::clone(child_main, g_child_stack + sizeof g_child_stack, CLONE_VM | CLONE_VFORK | SIGCHLD, &args);
        if (pid > 0 && args.error == 0) {
            auto fd = pidfd_open(pid);
            if (!fd) {
                ::kill(pid, SIGKILL);
                ::waitpid(pid, nullptr, 0);
                return base::unexpected(fd.error());
            }
            pidfd = fd->release();
        }
    }
    if (pid < 0) return base::unexpected(base::errno_error(errno, "clone"));
    if (args.error != 0) {
        // The child could not exec: it has exited already; reap it and say which step failed.
        if (pidfd >= 0) ::close(pidfd);
        ::waitpid(pid, nullptr, 0);
        return base::unexpected(base::errno_error(args.error, args.step, spec.path));
    }
    return Spawned{pid, base::Pidfd(pidfd)};
}

base::Result<base::Pidfd> pidfd_open(pid_t pid) {
    int fd = static_cast<int>(syscall(SYS_pidfd_open, pid, 0));
    if (fd < 0) return base::unexpected(base::errno_error(errno, "pidfd_open", "PID " + std::to_string(pid)));
    fcntl(fd, F_SETFD, FD_CLOEXEC);
    return base::Pidfd(fd);
}

base::Result<void> pidfd_kill(int pidfd, int sig) {
    if (syscall(SYS_pidfd_send_signal, pidfd, sig, nullptr, 0) < 0 && errno != ESRCH)
        return base::unexpected(base::errno_error(errno, "pidfd_send_signal"));
    return {};
}

base::Result<void> kill_group(pid_t pgid, int sig) {
    if (pgid <= 1) return {};
    if (::kill(-pgid, sig) < 0 && errno != ESRCH) return base::unexpected(base::errno_error(errno, "kill"));
    return {};
}

base::Result<ExitInfo> reap(int pidfd) {
    siginfo_t si{};
    if (waitid(static_cast<idtype_t>(P_PIDFD), static_cast<id_t>(pidfd), &si, WEXITED | WNOHANG) < 0)
        return base::unexpected(base::errno_error(errno, "waitid"));
    ExitInfo info;
    if (si.si_code == CLD_EXITED)
        info.code = si.si_status;
    else if (si.si_code == CLD_KILLED || si.si_code == CLD_DUMPED)
        info.signal = si.si_status;
    return info;
}

base::Result<pid_t> read_pid_file(const std::string &path) {
    base::UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK));
    if (!fd) return base::unexpected(base::errno_error(errno, path, "cannot open PID file"));
    char buf[64];
    ssize_t n = ::read(fd.get(), buf, sizeof buf);
    if (n < 0) return base::unexpected(base::errno_error(errno, path, "cannot read PID file"));
    if (n == sizeof buf) return base::unexpected(base::Error{{}, path, "PID file is too long to hold a PID"});
    std::string_view s(buf, static_cast<size_t>(n));
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
    if (s.empty()) return base::unexpected(base::Error{{}, path, "PID file is empty"});
    long long v = 0;
    for (char c : s) {
        if (c < '0' || c > '9' || v > 4194304)
            return base::unexpected(base::Error{{}, path, "PID file does not hold a PID: \"" + std::string(s) + "\""});
        v = v * 10 + (c - '0');
    }
    if (v <= 1 || v > 4194304)
        return base::unexpected(base::Error{{}, path, "PID file holds an impossible PID " + std::to_string(v)});
    if (v == getpid()) return base::unexpected(base::Error{{}, path, "PID file names watchd itself"});
    return static_cast<pid_t>(v);
}

base::Result<void> verify_pid_binary(pid_t pid, const std::string &binary) {
    const std::string proc = "/proc/" + std::to_string(pid);
    char exe[4096];
    ssize_t n = readlink((proc + "/exe").c_str(), exe, sizeof exe - 1);
    if (n > 0) {
        std::string e(exe, static_cast<size_t>(n));
        if (e == binary || e == binary + " (deleted)") return {};
    }
    std::ifstream cmd(proc + "/cmdline", std::ios::binary);
    std::string argv0;
    std::getline(cmd, argv0, '\0');
    if (!argv0.empty() && (argv0 == binary || binary.ends_with("/" + argv0))) return {};
    std::string seen = n > 0 ? std::string(exe, static_cast<size_t>(n)) : argv0;
    return base::unexpected(base::Error{{}, "pid-verify",
                                        "PID " + std::to_string(pid) + " runs " + (seen.empty() ? "?" : seen) +
                                            ", not " + binary});
}

base::Result<double> process_start_time(pid_t pid) {
    std::ifstream statf("/proc/" + std::to_string(pid) + "/stat");
    std::string line;
    if (!std::getline(statf, line))
        return base::unexpected(base::Error{{}, "/proc/" + std::to_string(pid), "PID " + std::to_string(pid) + " is not running"});
    // Field 22 (starttime) counts after the ")" that closes the command name, which may contain spaces.
    auto close = line.rfind(')');
    std::istringstream rest(close == std::string::npos ? std::string() : line.substr(close + 2));
    std::string field;
    unsigned long long start_ticks = 0;
    for (int i = 3; i <= 22 && rest >> field; ++i)
        if (i == 22) start_ticks = std::stoull(field);
    std::ifstream procstat("/proc/stat");
    unsigned long long btime = 0;
    for (std::string l; std::getline(procstat, l);)
        if (l.rfind("btime ", 0) == 0) btime = std::stoull(l.substr(6));
    if (!btime || !start_ticks) return 0.0; // unknown
    return double(btime) + double(start_ticks) / double(sysconf(_SC_CLK_TCK));
}

base::Result<void> check_pid_file_age(const std::string &path, pid_t pid) {
    struct stat st {};
    if (::stat(path.c_str(), &st) < 0) return base::unexpected(base::errno_error(errno, path, "cannot stat PID file"));
    auto started = process_start_time(pid);
    if (!started) return base::unexpected(base::Error{{}, path, started.error().what});
    if (*started > 0 && *started > double(st.st_mtim.tv_sec) + 2.0)
        return base::unexpected(base::Error{{}, path, "PID " + std::to_string(pid) +
                                                          " started after the PID file was written: a reused PID, not the app"});
    return {};
}

base::Result<void> check_executable(const std::string &path) {
    struct stat st {};
    if (::stat(path.c_str(), &st) < 0) return base::unexpected(base::errno_error(errno, path, "cannot run binary"));
    if (!S_ISREG(st.st_mode)) return base::unexpected(base::Error{{}, path, "binary is not a regular file"});
    if (::access(path.c_str(), X_OK) < 0)
        return base::unexpected(base::errno_error(errno, path, "binary is not executable"));
    return {};
}

} // namespace watchd::sys
