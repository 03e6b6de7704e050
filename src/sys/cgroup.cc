// cgroup v2 files through directory fds: mountinfo and /proc/self/cgroup to find watchd's cgroup, cgroup.procs,
// cgroup.events, cgroup.kill, cpu.stat, memory.current, pids.current.
#include "sys/cgroup.h"

#include <cerrno>
#include <csignal>
#include <cstring>
#include <fcntl.h>
#include <fstream>
#include <sstream>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

namespace watchd::sys::cgroup {

namespace {

// mountinfo escapes space, tab, newline and backslash as \ooo.
std::string unescape_mount(const std::string &s) {
    std::string out;
    for (std::size_t i = 0; i < s.size(); ++i) {
        if (s[i] == '\\' && i + 3 < s.size()) {
            const std::string oct = s.substr(i + 1, 3);
            if (oct.size() == 3 && oct.find_first_not_of("01234567") == std::string::npos) {
                out += static_cast<char>(std::stoi(oct, nullptr, 8));
                i += 3;
                continue;
            }
        }
        out += s[i];
    }
    return out;
}

// A small file of the cgroup (at most 64 KiB: cgroup.procs of a large cgroup is cut there, which only its callers
// that loop until empty need to know).
base::Result<std::string> read_at(int dirfd, const char *name) {
    base::UniqueFd fd(::openat(dirfd, name, O_RDONLY | O_CLOEXEC));
    if (!fd) return base::unexpected(base::errno_error(errno, "open", name));
    std::string out;
    char buf[4096];
    while (out.size() < 64 * 1024) {
        const ssize_t n = ::read(fd.get(), buf, sizeof buf);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return base::unexpected(base::errno_error(errno, "read", name));
        if (n == 0) break;
        out.append(buf, static_cast<std::size_t>(n));
    }
    return out;
}

base::Result<void> write_at(int dirfd, const char *name, std::string_view text) {
    base::UniqueFd fd(::openat(dirfd, name, O_WRONLY | O_CLOEXEC));
    if (!fd) return base::unexpected(base::errno_error(errno, "open", name));
    const ssize_t n = ::write(fd.get(), text.data(), text.size());
    if (n != static_cast<ssize_t>(text.size()))
        return base::unexpected(base::errno_error(n < 0 ? errno : EIO, "write", std::string(name) + " " + std::string(text)));
    return {};
}

// "key value" lines (cgroup.events, cpu.stat): the value of `key`.
std::optional<std::uint64_t> keyed_value(const std::string &text, std::string_view key) {
    std::istringstream in(text);
    std::string k;
    std::uint64_t v = 0;
    while (in >> k >> v)
        if (k == key) return v;
    return std::nullopt;
}

std::optional<std::uint64_t> single_value(int dirfd, const char *name) {
    auto text = read_at(dirfd, name);
    if (!text) return std::nullopt;
    try {
        return std::stoull(*text);
    } catch (...) {
        return std::nullopt; // "max" and the like
    }
}

} // namespace

base::Result<std::string> v2_mount() {
    std::ifstream in("/proc/self/mountinfo");
    if (!in) return base::unexpected(base::errno_error(errno, "open", "/proc/self/mountinfo"));
    std::string line;
    while (std::getline(in, line)) {
        // ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTIONS [OPTIONAL...] - FSTYPE SOURCE SUPEROPTS
        const std::size_t dash = line.find(" - ");
        if (dash == std::string::npos) continue;
        std::istringstream tail(line.substr(dash + 3));
        std::string fstype;
        tail >> fstype;
        if (fstype != "cgroup2") continue;
        std::istringstream head(line.substr(0, dash));
        std::string id, parent, dev, root, mountpoint;
        head >> id >> parent >> dev >> root >> mountpoint;
        if (root != "/") continue; // a bind mount of a subtree (a container's view) does not show our path
        return unescape_mount(mountpoint);
    }
    return base::unexpected(base::Error{{}, "/proc/self/mountinfo", "no cgroup v2 hierarchy is mounted"});
}

base::Result<std::string> own_path() {
    std::ifstream in("/proc/self/cgroup");
    if (!in) return base::unexpected(base::errno_error(errno, "open", "/proc/self/cgroup"));
    std::string line;
    while (std::getline(in, line))
        if (line.starts_with("0::")) return line.substr(3);
    return base::unexpected(base::Error{{}, "/proc/self/cgroup", "no cgroup v2 entry (\"0::\")"});
}

bool delegated(const std::string &dir) {
    for (const char *name : {"trusted.delegate", "user.delegate"}) {
        char value[8] = {};
        const ssize_t n = ::getxattr(dir.c_str(), name, value, sizeof value - 1);
        if (n > 0 && (std::string_view(value, static_cast<std::size_t>(n)) == "1" ||
                      std::string_view(value, static_cast<std::size_t>(n)) == "true"))
            return true;
    }
    return false;
}

base::Result<std::string> find_delegated() {
    auto mount = v2_mount();
    if (!mount) return base::unexpected(mount.error());
    auto own = own_path();
    if (!own) return base::unexpected(own.error());
    if (*own == "/") return base::unexpected(base::Error{{}, "cgroup", "watchd runs in the root cgroup"});
    // Already moved into supervisor/ (a re-exec): the delegated cgroup is the parent.
    std::string dir = *mount + *own;
    if (own->ends_with("/supervisor") && !delegated(dir)) dir.resize(dir.size() - std::strlen("/supervisor"));
    if (!delegated(dir))
        return base::unexpected(base::Error{{}, dir, "not delegated to watchd (no Delegate=yes: no trusted.delegate xattr)"});
    return dir;
}

base::Result<Tree> Tree::setup(const std::string &dir) {
    Tree t;
    t.path_ = dir;
    t.dir_.reset(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!t.dir_) return base::unexpected(base::errno_error(errno, "open", dir));
    if (::mkdirat(t.dir_.get(), "supervisor", 0755) < 0 && errno != EEXIST)
        return base::unexpected(base::errno_error(errno, "mkdir", dir + "/supervisor"));
    base::UniqueFd leaf(::openat(t.dir_.get(), "supervisor", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!leaf) return base::unexpected(base::errno_error(errno, "open", dir + "/supervisor"));
    if (auto ok = write_at(leaf.get(), "cgroup.procs", std::to_string(::getpid())); !ok)
        return base::unexpected(base::Error{ok.error().code, dir + "/supervisor", "cannot move watchd there: " + ok.error().message()});
    // Hand the controllers watchd was given on to the apps' cgroups (each on its own: one refused is no reason to
    // go without the others). Only now: an inner cgroup holding a process could not enable them.
    if (auto available = read_at(t.dir_.get(), "cgroup.controllers")) {
        std::istringstream in(*available);
        for (std::string c; in >> c;)
            if (c == "memory" || c == "pids" || c == "cpu") (void)write_at(t.dir_.get(), "cgroup.subtree_control", "+" + c);
    }
    return t;
}

std::string Tree::controllers() const {
    auto text = read_at(dir_.get(), "cgroup.subtree_control");
    if (!text) return {};
    std::string out = *text;
    while (!out.empty() && (out.back() == '\n' || out.back() == ' ')) out.pop_back();
    return out;
}

base::Result<base::UniqueFd> Tree::open_app(const std::string &id) const {
    const std::string name = "app-" + id;
    if (::mkdirat(dir_.get(), name.c_str(), 0755) < 0 && errno != EEXIST)
        return base::unexpected(base::errno_error(errno, "mkdir", path_ + "/" + name));
    base::UniqueFd fd(::openat(dir_.get(), name.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!fd) return base::unexpected(base::errno_error(errno, "open", path_ + "/" + name));
    return fd;
}

base::Result<base::UniqueFd> Tree::renew_app(const std::string &id) const {
    if (auto ok = remove_app(id); !ok) return base::unexpected(ok.error());
    return open_app(id);
}

base::Result<void> Tree::remove_app(const std::string &id) const {
    const std::string name = "app-" + id;
    if (::unlinkat(dir_.get(), name.c_str(), AT_REMOVEDIR) < 0 && errno != ENOENT)
        return base::unexpected(base::errno_error(errno, "rmdir", path_ + "/" + name));
    return {};
}

base::Result<void> set(int dirfd, const char *file, std::string_view value) { return write_at(dirfd, file, value); }

base::Result<std::vector<pid_t>> procs(int dirfd) {
    auto text = read_at(dirfd, "cgroup.procs");
    if (!text) return base::unexpected(text.error());
    std::vector<pid_t> out;
    std::istringstream in(*text);
    for (long pid; in >> pid;)
        if (pid > 0) out.push_back(static_cast<pid_t>(pid));
    return out;
}

base::Result<bool> populated(int dirfd) {
    auto text = read_at(dirfd, "cgroup.events");
    if (!text) return base::unexpected(text.error());
    const auto v = keyed_value(*text, "populated");
    if (!v) return base::unexpected(base::Error{{}, "cgroup.events", "no \"populated\" line"});
    return *v != 0;
}

base::Result<std::size_t> signal_all(int dirfd, int sig) {
    auto pids = procs(dirfd);
    if (!pids) return base::unexpected(pids.error());
    std::size_t reached = 0;
    for (pid_t pid : *pids)
        if (::kill(pid, sig) == 0) ++reached;
    return reached;
}

base::Result<void> kill_all(int dirfd) {
    if (auto ok = write_at(dirfd, "cgroup.kill", "1"); ok || ok.error().code.value() != ENOENT) return ok;
    if (auto n = signal_all(dirfd, SIGKILL); !n) return base::unexpected(n.error()); // before Linux 5.14
    return {};
}

base::Result<base::UniqueFd> watch_events(int dirfd) {
    base::UniqueFd fd(::inotify_init1(IN_NONBLOCK | IN_CLOEXEC));
    if (!fd) return base::unexpected(base::errno_error(errno, "inotify_init1"));
    const std::string path = "/proc/self/fd/" + std::to_string(dirfd) + "/cgroup.events";
    if (::inotify_add_watch(fd.get(), path.c_str(), IN_MODIFY) < 0)
        return base::unexpected(base::errno_error(errno, "inotify_add_watch", "cgroup.events"));
    return fd;
}

void drain_events(int inotify_fd) {
    alignas(inotify_event) char buf[4096];
    while (::read(inotify_fd, buf, sizeof buf) > 0) {}
}

base::Result<Usage> usage(int dirfd) {
    auto cpu = read_at(dirfd, "cpu.stat");
    if (!cpu) return base::unexpected(cpu.error());
    Usage u;
    u.cpu_usec = keyed_value(*cpu, "usage_usec").value_or(0);
    u.memory_bytes = single_value(dirfd, "memory.current");
    u.tasks = single_value(dirfd, "pids.current");
    return u;
}

} // namespace watchd::sys::cgroup
