// Process primitives on raw syscalls: clone(CLONE_VM|CLONE_VFORK|CLONE_PIDFD), pidfd_open, pidfd_send_signal,
// waitid(P_PIDFD).
#include "sys/process.h"

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <csignal>
#include <cstring>
#include <fcntl.h>
#include <fstream>
#include <grp.h>
#include <sched.h>
#include <sstream>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef P_PIDFD
#define P_PIDFD 3
#endif

// AddressSanitizer builds (meson -Db_sanitize=address, tests/run-sanitizers).
#if defined(__SANITIZE_ADDRESS__)
#define WATCHD_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define WATCHD_ASAN 1
#endif
#endif
#ifdef WATCHD_ASAN
#include <sanitizer/asan_interface.h>
// What runs in the vfork child is not instrumented. ASan cannot follow the child's stack (a global, not a
// thread's stack): before every noreturn call instrumented code asks the runtime to unpoison "the stack", which
// it refuses for a stack pointer outside the thread's stack, and the runtime's own sigaltstack() check there
// reads the shadow that an earlier child's frames left on g_child_stack (a child never returns: it execs or
// _exit()s). spawn() also unpoisons the whole stack before each clone, so every child starts clean.
#define WATCHD_CHILD_CODE __attribute__((no_sanitize_address))
#else
#define WATCHD_CHILD_CODE
#endif

namespace watchd::sys {

namespace {

// The steps of the child, in order; the child records each before taking it.
enum class Step : int { Start, Cgroup, Signals, Setsid, Stdin, Stdout, Stderr, CloseFds, Nofile, Chdir, Setgroups, Setresgid,
                        Setresuid, Execve };

// The call that takes the step (the Error's `where`).
WATCHD_CHILD_CODE const char *step_name(Step s) {
    switch (s) {
    case Step::Start: return "clone";
    case Step::Cgroup: return "cgroup.procs";
    case Step::Signals: return "sigaction";
    case Step::Setsid: return "setsid";
    case Step::Stdin:
    case Step::Stdout:
    case Step::Stderr: return "dup2";
    case Step::CloseFds: return "close_range";
    case Step::Nofile: return "setrlimit";
    case Step::Chdir: return "chdir";
    case Step::Setgroups: return "setgroups";
    case Step::Setresgid: return "setresgid";
    case Step::Setresuid: return "setresuid";
    case Step::Execve: return "execve";
    }
    return "?";
}

// Text built without allocation (async-signal-safe, usable in the child); what does not fit is cut.
struct Text {
    char buf[4096 + 256];
    size_t len = 0;
    WATCHD_CHILD_CODE void add(const char *p, size_t n) {
        n = std::min(n, sizeof buf - len);
        for (size_t i = 0; i < n; ++i) buf[len + i] = p[i];
        len += n;
    }
    WATCHD_CHILD_CODE void add(const char *p) { add(p, strlen(p)); }
    WATCHD_CHILD_CODE void add(const std::string &p) { add(p.data(), p.size()); }
    WATCHD_CHILD_CODE void add_number(unsigned long long v) {
        char d[24];
        size_t i = sizeof d;
        do d[--i] = static_cast<char>('0' + v % 10);
        while ((v /= 10) != 0);
        add(d + i, sizeof d - i);
    }
};

// What the step works on (the Error's `what`): the directory of chdir, the path of execve, the ids...
WATCHD_CHILD_CODE void describe(Text &t, Step step, const ExecSpec &s, int devnull) {
    switch (step) {
    case Step::Stdin:
    case Step::Stdout:
    case Step::Stderr: {
        const int fd = step == Step::Stdin ? devnull
                       : step == Step::Stdout ? (s.stdout_fd >= 0 ? s.stdout_fd : devnull)
                                              : (s.stderr_fd >= 0 ? s.stderr_fd : devnull);
        t.add("fd ");
        t.add_number(static_cast<unsigned>(fd));
        t.add(step == Step::Stdin ? " to stdin" : step == Step::Stdout ? " to stdout" : " to stderr");
        break;
    }
    case Step::Nofile:
        t.add("RLIMIT_NOFILE ");
        if (s.nofile_soft && *s.nofile_soft == RLIM_INFINITY)
            t.add("infinity");
        else if (s.nofile_soft)
            t.add_number(*s.nofile_soft);
        break;
    case Step::Chdir: t.add(s.working_directory); break;
    case Step::Setgroups:
        t.add("groups ");
        if (s.groups.empty()) t.add("(none)");
        for (size_t i = 0; i < s.groups.size(); ++i) {
            if (i == 32) {
                t.add(",...");
                break;
            }
            if (i) t.add(",");
            t.add_number(s.groups[i]);
        }
        break;
    case Step::Setresgid:
        t.add("gid ");
        t.add_number(s.gid);
        break;
    case Step::Setresuid:
        t.add("uid ");
        t.add_number(s.uid);
        break;
    case Step::Execve: t.add(s.path); break;
    case Step::Cgroup: t.add("(joining the app's cgroup)"); break;
    case Step::Start:
    case Step::Signals:
    case Step::Setsid:
    case Step::CloseFds: break;
    }
}

// Shared with the child: with CLONE_VM the child writes here and the parent reads it once the child has exec'ed
// or exited (CLONE_VFORK suspends the parent until then). The child writes `step` before each step, `error` 0
// right before execve, and `error` = errno first thing when a step fails, so the parent can tell all three
// outcomes apart: exec'ed (0), a step failed (errno), or the child died before it could say (kNoReport: killed,
// or a sanitizer report). volatile: the stores are the child's only way out, made right before _exit/execve.
constexpr int kNoReport = -1;
struct ChildArgs {
    const ExecSpec *spec;
    char *const *argv;
    char *const *envp;
    int devnull;
    int cgroup_procs = -1; // cgroup.procs of spec->cgroup_fd when the kernel did not put the child there itself
    volatile int error = kNoReport; // errno of the failed step, 0 when it reached execve
    volatile Step step = Step::Start; // the step the child is at (the failed one when error > 0)
};

// Async-signal-safe failure report from the child: "watchd: <step> <what>: <strerror>\n" on fd 2, then exit 127.
[[noreturn]] WATCHD_CHILD_CODE void child_fail(ChildArgs *a, Step step) {
    const int err = errno ? errno : EINVAL;
    a->step = step;
    a->error = err;
    Text line;
    line.add("watchd: ");
    line.add(step_name(step));
    const size_t bare = line.len;
    line.add(" ");
    describe(line, step, *a->spec, a->devnull);
    if (line.len == bare + 1) line.len = bare;
    line.add(": ");
    const char *e = strerrordesc_np(err);
    line.add(e ? e : "unknown error");
    line.add("\n");
    (void)!write(STDERR_FILENO, line.buf, line.len);
    _exit(127);
}

// Runs in the child between clone and exec, on its own stack, sharing watchd's memory: only async-signal-safe
// calls, no allocation, no writes to shared state but *a.
WATCHD_CHILD_CODE int child_main(void *p) {
    auto *a = static_cast<ChildArgs *>(p);
    const ExecSpec &s = *a->spec;
    if (a->cgroup_procs >= 0) {
        // No CLONE_INTO_CGROUP: join the cgroup now, before anything of the app runs ("0" is the writer itself).
        a->step = Step::Cgroup;
        if (write(a->cgroup_procs, "0", 1) != 1) child_fail(a, Step::Cgroup);
    }
    // Default dispositions and an empty mask: watchd blocks SIGTERM/SIGHUP/SIGCHLD for sd-event. Without
    // CLONE_SIGHAND the child has its own copy of the handler table, so this does not touch watchd's.
    a->step = Step::Signals;
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
    if (s.new_session) {
        a->step = Step::Setsid;
        if (setsid() < 0) child_fail(a, Step::Setsid);
    }
    // stdin from /dev/null; stdout/stderr to the prepared fds.
    const int out = s.stdout_fd >= 0 ? s.stdout_fd : a->devnull, err = s.stderr_fd >= 0 ? s.stderr_fd : a->devnull;
    a->step = Step::Stdin;
    if (dup2(a->devnull, 0) < 0) child_fail(a, Step::Stdin);
    a->step = Step::Stdout;
    if (dup2(out, 1) < 0) child_fail(a, Step::Stdout);
    a->step = Step::Stderr;
    if (dup2(err, 2) < 0) child_fail(a, Step::Stderr);
    a->step = Step::CloseFds;
    if (syscall(SYS_close_range, 3U, ~0U, 0U) < 0) {
        for (int fd = 3; fd < 65536; ++fd) close(fd);
    }
    // watchd runs with its soft limit raised to the hard one; the app gets the limit it is meant to have.
    if (s.nofile_soft) {
        a->step = Step::Nofile;
        struct rlimit rl {};
        if (getrlimit(RLIMIT_NOFILE, &rl) < 0) child_fail(a, Step::Nofile);
        rl.rlim_cur = *s.nofile_soft;
        if (setrlimit(RLIMIT_NOFILE, &rl) < 0) child_fail(a, Step::Nofile);
    }
    if (!s.working_directory.empty()) {
        a->step = Step::Chdir;
        if (chdir(s.working_directory.c_str()) < 0) child_fail(a, Step::Chdir);
    }
    if (s.gid != static_cast<gid_t>(-1) || s.uid != static_cast<uid_t>(-1)) {
        a->step = Step::Setgroups;
        if (setgroups(s.groups.size(), s.groups.data()) < 0) child_fail(a, Step::Setgroups);
        a->step = Step::Setresgid;
        if (s.gid != static_cast<gid_t>(-1) && setresgid(s.gid, s.gid, s.gid) < 0) child_fail(a, Step::Setresgid);
        a->step = Step::Setresuid;
        if (s.uid != static_cast<uid_t>(-1) && setresuid(s.uid, s.uid, s.uid) < 0) child_fail(a, Step::Setresuid);
    }
    a->step = Step::Execve;
    a->error = 0; // from here on the parent takes the child for started, unless execve fails and says so
    execve(s.path.c_str(), a->argv, a->envp);
    child_fail(a, Step::Execve);
}

std::vector<char *> c_strings(const std::vector<std::string> &v) {
    std::vector<char *> out;
    out.reserve(v.size() + 1);
    for (const auto &s : v) out.push_back(const_cast<char *>(s.c_str()));
    out.push_back(nullptr);
    return out;
}

// clone3(args, size) whose child runs fn(arg) on args->stack and exits with its result (it never returns here):
// glibc has no clone3 wrapper taking a function, and a child that shares watchd's memory cannot return into the
// caller's frame. Returns the child's PID, or -errno. Only where written below; elsewhere spawn() uses clone().
#if defined(__x86_64__) || defined(__aarch64__)
#define WATCHD_HAVE_CLONE3 1
extern "C" long watchd_clone3(void *args, size_t size, int (*fn)(void *), void *arg);
#if defined(__x86_64__)
asm(R"(
    .text
    .globl watchd_clone3
    .hidden watchd_clone3
    .type watchd_clone3, @function
watchd_clone3:
    .cfi_startproc
    mov %rdx, %r8           # fn and arg survive the syscall in r8/r9 (it clobbers rcx and r11 only)
    mov %rcx, %r9
    mov $435, %eax          # SYS_clone3
    syscall
    test %rax, %rax
    jz 1f
    ret                     # the parent: the child's PID or -errno
1:  .cfi_undefined rip      # the child, on its own stack (16-byte aligned): no frame above this one
    xor %ebp, %ebp
    mov %r9, %rdi
    call *%r8
    mov %eax, %edi
    mov $60, %eax           # SYS_exit
    syscall
    hlt
    .cfi_endproc
    .size watchd_clone3, .-watchd_clone3
)");
#else
asm(R"(
    .text
    .globl watchd_clone3
    .hidden watchd_clone3
    .type watchd_clone3, %function
watchd_clone3:
    mov x10, x2             // fn and arg survive the syscall in x10/x11
    mov x11, x3
    mov x8, #435            // SYS_clone3
    svc #0
    cbz x0, 1f
    ret                     // the parent: the child's PID or -errno
1:  mov x29, #0             // the child, on its own stack: no frame above this one
    mov x30, #0
    mov x0, x11
    blr x10
    mov x8, #93             // SYS_exit
    svc #0
    brk #0
    .size watchd_clone3, .-watchd_clone3
)");
#endif

// The kernel's struct clone_args (linux/sched.h, version 2: with `cgroup`).
struct CloneArgs {
    std::uint64_t flags, pidfd, child_tid, parent_tid, exit_signal, stack, stack_size, tls, set_tid, set_tid_size,
        cgroup;
};
constexpr std::uint64_t kCloneIntoCgroup = 0x200000000ULL;
#endif

// The child's stack. One suffices: CLONE_VFORK keeps watchd (single-threaded) suspended until the child has
// exec'ed, so two children never use it at once.
alignas(64) char g_child_stack[256 * 1024];

} // namespace

// "exited 1", "killed by signal 9": how a child that never reached execve ended.
static std::string wait_status_text(int status) {
    if (WIFEXITED(status)) return "exited " + std::to_string(WEXITSTATUS(status));
    if (WIFSIGNALED(status)) return "killed by signal " + std::to_string(WTERMSIG(status));
    return "wait status " + std::to_string(status);
}

base::Result<Spawned> spawn(const ExecSpec &spec) {
    auto argv = c_strings(spec.argv);
    auto envp = c_strings(spec.envp);
    base::UniqueFd devnull(::open("/dev/null", O_RDWR | O_CLOEXEC));
    if (!devnull) return base::unexpected(base::errno_error(errno, "open /dev/null"));
    ChildArgs args{&spec, argv.data(), envp.data(), devnull.get()};

#ifdef WATCHD_ASAN
    // The child before this one exec'ed or _exit()ed on this stack without unwinding: drop its poison.
    __asan_unpoison_memory_region(g_child_stack, sizeof g_child_stack);
#endif
    // posix_spawn's technique plus a pidfd: no copy of watchd's page tables, and the exec result is known here.
    int pidfd = -1;
    pid_t pid = -1;
    base::UniqueFd procs; // cgroup.procs, for a child that has to join the cgroup itself
    if (spec.cgroup_fd >= 0) {
#ifdef WATCHD_HAVE_CLONE3
        CloneArgs ca{};
        ca.flags = CLONE_VM | CLONE_VFORK | CLONE_PIDFD | kCloneIntoCgroup;
        ca.pidfd = reinterpret_cast<std::uintptr_t>(&pidfd);
        ca.exit_signal = SIGCHLD;
        ca.stack = reinterpret_cast<std::uintptr_t>(g_child_stack);
        ca.stack_size = sizeof g_child_stack;
        ca.cgroup = static_cast<std::uint64_t>(spec.cgroup_fd);
        const long r = watchd_clone3(&ca, sizeof ca, child_main, &args);
        if (r >= 0) pid = static_cast<pid_t>(r);
        else if (r != -ENOSYS && r != -E2BIG && r != -EINVAL) return base::unexpected(base::errno_error(static_cast<int>(-r), "clone3", "into the app's cgroup"));
        // else: a kernel before 5.7 (no clone3, or no CLONE_INTO_CGROUP): the child joins by itself below
#endif
        if (pid < 0) {
            procs.reset(::openat(spec.cgroup_fd, "cgroup.procs", O_WRONLY | O_CLOEXEC));
            if (!procs) return base::unexpected(base::errno_error(errno, "open", "cgroup.procs of the app's cgroup"));
            args.cgroup_procs = procs.get();
        }
    }
    if (pid < 0)
        pid = ::clone(child_main, g_child_stack + sizeof g_child_stack, CLONE_VM | CLONE_VFORK | CLONE_PIDFD | SIGCHLD,
                      &args, &pidfd);
    if (pid < 0 && errno == EINVAL) { // kernels before 5.2: no CLONE_PIDFD (pidfd_open below)
        pidfd = -1;
        pid = ::clone(child_main, g_child_stack + sizeof g_child_stack, CLONE_VM | CLONE_VFORK | SIGCHLD, &args);
    }
    if (pid < 0) return base::unexpected(base::errno_error(errno, "clone"));
    base::Pidfd fd(pidfd);
    const int error = args.error;
    if (error != 0) {
        // The child did not exec: it has exited already (CLONE_VFORK); reap it and say which step failed.
        fd = base::Pidfd();
        int status = 0;
        while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {}
        const Step step = args.step;
        Text what;
        describe(what, step, spec, devnull.get());
        const std::string object(what.buf, what.len);
        if (error == kNoReport)
            return base::unexpected(base::Error{{}, "spawn", "the child for " + spec.path + " " +
                                                                 wait_status_text(status) + " before exec, in " +
                                                                 step_name(step) + (object.empty() ? "" : " ") + object});
        return base::unexpected(base::errno_error(error, step_name(step), object.empty() ? "failed" : object));
    }
    if (fd.get() < 0) {
        auto opened = pidfd_open(pid);
        if (!opened) {
            ::kill(pid, SIGKILL);
            while (::waitpid(pid, nullptr, 0) < 0 && errno == EINTR) {}
            return base::unexpected(opened.error());
        }
        fd = std::move(*opened);
    }
    return Spawned{pid, std::move(fd)};
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

// How waitid() says a child ended.
static ExitInfo exit_info(const siginfo_t &si) {
    ExitInfo info;
    if (si.si_code == CLD_EXITED)
        info.code = si.si_status;
    else if (si.si_code == CLD_KILLED || si.si_code == CLD_DUMPED)
        info.signal = si.si_status;
    return info;
}

base::Result<ExitInfo> reap(int pidfd) {
    siginfo_t si{};
    if (waitid(static_cast<idtype_t>(P_PIDFD), static_cast<id_t>(pidfd), &si, WEXITED | WNOHANG) < 0)
        return base::unexpected(base::errno_error(errno, "waitid"));
    return exit_info(si);
}

base::Result<void> become_subreaper() {
    if (::prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) < 0) return base::unexpected(base::errno_error(errno, "prctl", "PR_SET_CHILD_SUBREAPER"));
    return {};
}

std::optional<ExitInfo> reap_pid(pid_t pid) {
    siginfo_t si{};
    if (waitid(P_PID, static_cast<id_t>(pid), &si, WEXITED | WNOHANG) < 0 || si.si_pid != pid) return std::nullopt;
    return exit_info(si);
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
