// PID files and /proc look-ups.
#include "sys/proc_info.h"

#include <sys/resource.h>

#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <dirent.h>
#include <fcntl.h>
#include <fstream>
#include <signal.h>
#include <sstream>
#include <sys/stat.h>
#include <unistd.h>

#include "base/unique_fd.h"

namespace watchd::sys {

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

base::Result<uid_t> process_uid(pid_t pid) {
    std::ifstream status("/proc/" + std::to_string(pid) + "/status");
    for (std::string line; std::getline(status, line);)
        if (line.rfind("Uid:", 0) == 0) return static_cast<uid_t>(std::stoul(line.substr(4)));
    return base::unexpected(base::Error{{}, "/proc/" + std::to_string(pid), "PID " + std::to_string(pid) + " is not running"});
}

namespace {

// The fields of /proc/<pid>/stat after "(comm)" (comm may hold ')' itself: the last one ends it), from field 3
// (state) on; at least `want` of them, else an error.
base::Result<std::vector<std::string>> stat_fields(pid_t pid, std::size_t want) {
    const std::string path = "/proc/" + std::to_string(pid) + "/stat";
    std::ifstream statf(path);
    std::string line;
    if (!std::getline(statf, line)) return base::unexpected(base::errno_error(ESRCH, path, "no such process"));
    const auto close = line.rfind(')');
    std::vector<std::string> f;
    if (close != std::string::npos) {
        std::istringstream rest(line.substr(close + 1));
        for (std::string x; f.size() < want && rest >> x;) f.push_back(x);
    }
    if (f.size() < want) return base::unexpected(base::Error{{}, path, "unexpected contents"});
    return f;
}

} // namespace

base::Result<ProcessIds> process_ids(pid_t pid) {
    auto f = stat_fields(pid, 4); // state ppid pgrp session
    if (!f) return base::unexpected(f.error());
    auto id = [&](std::size_t i) { return static_cast<pid_t>(std::strtol((*f)[i].c_str(), nullptr, 10)); };
    return ProcessIds{id(1), id(2), id(3), (*f)[0] == "Z"};
}

std::vector<pid_t> own_children() {
    std::vector<pid_t> out;
    DIR *d = ::opendir("/proc/self/task");
    if (!d) return out;
    while (dirent *e = ::readdir(d)) {
        if (e->d_name[0] == '.') continue;
        std::ifstream f(std::string("/proc/self/task/") + e->d_name + "/children");
        for (long pid; f >> pid;)
            if (pid > 0) out.push_back(static_cast<pid_t>(pid));
    }
    ::closedir(d);
    return out;
}

std::string process_env(pid_t pid, std::string_view name) {
    std::ifstream f("/proc/" + std::to_string(pid) + "/environ", std::ios::binary);
    std::string entry;
    while (std::getline(f, entry, '\0'))
        if (entry.size() > name.size() && entry.compare(0, name.size(), name) == 0 && entry[name.size()] == '=')
            return entry.substr(name.size() + 1);
    return {};
}

base::Result<ProcessUsage> process_usage(pid_t pid) {
    // utime stime cutime cstime are fields 14-17, num_threads 20, rss 24 (1-based, as proc(5) counts them)
    auto f = stat_fields(pid, 22);
    if (!f) return base::unexpected(f.error());
    auto field = [&](int n) { return std::strtoull((*f)[static_cast<std::size_t>(n - 3)].c_str(), nullptr, 10); };
    static const long ticks = ::sysconf(_SC_CLK_TCK) > 0 ? ::sysconf(_SC_CLK_TCK) : 100;
    static const long page = ::sysconf(_SC_PAGESIZE) > 0 ? ::sysconf(_SC_PAGESIZE) : 4096;
    ProcessUsage u;
    u.cpu_usec = (field(14) + field(15) + field(16) + field(17)) * 1000000ULL / static_cast<unsigned long long>(ticks);
    u.threads = field(20);
    u.rss_bytes = field(24) * static_cast<unsigned long long>(page);
    return u;
}

SelfStats self_stats() {
    SelfStats s;
    if (auto u = process_usage(::getpid())) s.rss_bytes = u->rss_bytes;
    if (auto f = stat_fields(::getpid(), 22)) {
        static const long ticks = ::sysconf(_SC_CLK_TCK) > 0 ? ::sysconf(_SC_CLK_TCK) : 100;
        auto field = [&](int n) { return std::strtoull((*f)[static_cast<std::size_t>(n - 3)].c_str(), nullptr, 10); };
        s.cpu_usec = (field(14) + field(15)) * 1000000ULL / static_cast<unsigned long long>(ticks);
    }
    if (DIR *d = ::opendir("/proc/self/fd")) {
        while (dirent *e = ::readdir(d))
            if (e->d_name[0] != '.') ++s.open_fds;
        ::closedir(d);
        if (s.open_fds) --s.open_fds; // the directory's own
    }
    rlimit r{};
    if (::getrlimit(RLIMIT_NOFILE, &r) == 0) s.max_fds = r.rlim_cur;
    return s;
}

std::vector<pid_t> processes_in_sessions(const std::vector<pid_t> &ids) {
    std::vector<pid_t> out;
    if (ids.empty()) return out;
    DIR *d = ::opendir("/proc");
    if (!d) return out;
    while (dirent *e = ::readdir(d)) {
        char *end = nullptr;
        const long pid = std::strtol(e->d_name, &end, 10);
        if (*end || pid <= 1 || pid == getpid()) continue;
        const auto p = process_ids(static_cast<pid_t>(pid));
        if (!p || p->zombie) continue;
        for (pid_t id : ids)
            if (id > 1 && (p->session == id || p->pgrp == id)) {
                out.push_back(static_cast<pid_t>(pid));
                break;
            }
    }
    ::closedir(d);
    return out;
}

std::vector<pid_t> kill_session(pid_t id, int sig) {
    std::vector<pid_t> n;
    for (pid_t pid : processes_in_sessions({id}))
        if (::kill(pid, sig) == 0) n.push_back(pid);
    return n;
}

} // namespace watchd::sys
