// bench/restart-latency: crash→restart latency of a patrol-mode app under watchd, beside the floor (a bare
// fork+exec+waitpid loop on the same child) measured in the same run, and watchd's memory (PSS).
// Latency = the child's own start timestamp minus the previous child's exit timestamp (CLOCK_MONOTONIC).
#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <dirent.h>
#include <fcntl.h>
#include <fstream>
#include <string>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>
#include <vector>

#include "bench_util.h"
#include "sys/cgroup.h"

namespace {

struct Options {
    int restarts = 300;
    int apps = 1;
    bool flood = false; // also measure with one more app writing output as fast as it can (`yes`)
    bool cgroups = false; // also measure with watchd in a delegated cgroup, each app in its own (clone3 into it)
    std::string watchd, child;
    bool json = false;
};

struct Sample {
    char kind;
    long long ns;
    int pid;
};

using bench_util::now_ns;

// Receives one report, waiting at most until `deadline` (monotonic ns).
bool receive(int fd, Sample &s, long long deadline) {
    while (true) {
        long long left = deadline - now_ns();
        if (left <= 0) return false;
        timeval tv{static_cast<time_t>(left / 1000000000LL), static_cast<suseconds_t>((left % 1000000000LL) / 1000)};
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        char buf[64];
        ssize_t n = recv(fd, buf, sizeof buf - 1, 0);
        if (n < 0 && (errno == EAGAIN || errno == EINTR)) continue;
        if (n <= 0) return false;
        buf[n] = 0;
        if (std::sscanf(buf, "%c %lld %d", &s.kind, &s.ns, &s.pid) == 3) return true;
    }
}

// Pairs each exit with the next start: the restart latencies in ms.
std::vector<double> latencies(const std::vector<Sample> &samples, int skip) {
    std::vector<double> out;
    long long last_exit = -1;
    int seen = 0;
    for (const auto &s : samples) {
        if (s.kind == 'E') last_exit = s.ns;
        else if (s.kind == 'S' && last_exit >= 0) {
            if (seen++ >= skip) out.push_back((s.ns - last_exit) / 1e6);
            last_exit = -1;
        }
    }
    return out;
}

double pct(std::vector<double> v, double p) {
    if (v.empty()) return 0;
    std::sort(v.begin(), v.end());
    size_t i = std::min(v.size() - 1, static_cast<size_t>(p / 100.0 * (v.size() - 1) + 0.5));
    return v[i];
}

std::vector<double> run_floor(const Options &o, int fd, const std::string &sock) {
    std::vector<Sample> samples;
    std::string env = "BENCH_SOCK=" + sock;
    char *envp[] = {env.data(), nullptr};
    char *argv[] = {const_cast<char *>(o.child.c_str()), nullptr};
    const long long deadline = now_ns() + 60 * 1000000000LL;
    for (int i = 0; i <= o.restarts && now_ns() < deadline; ++i) {
        pid_t pid = fork();
        if (pid == 0) {
            execve(o.child.c_str(), argv, envp);
            _exit(127);
        }
        int status = 0;
        waitpid(pid, &status, 0);
        Sample s{};
        while (samples.size() < static_cast<size_t>(2 * (i + 1)) && receive(fd, s, now_ns() + 2000000000LL))
            samples.push_back(s);
    }
    return latencies(samples, 5);
}

std::string read_file(const std::string &path) {
    std::ifstream f(path);
    return std::string(std::istreambuf_iterator<char>(f), {});
}

long pss_kib(pid_t pid) {
    std::ifstream f("/proc/" + std::to_string(pid) + "/smaps_rollup");
    for (std::string line; std::getline(f, line);)
        if (line.rfind("Pss:", 0) == 0) return std::atol(line.c_str() + 4);
    return -1;
}

// flood: one more app runs `yes` (watchd forwards, and rate-limits, its output) while the crasher restarts.
// cgroup: a cgroup v2 directory marked delegated, as systemd marks a Delegate=yes unit's: watchd starts in it
// and runs each app in a cgroup of its own (empty: watchd and its apps stay in the bench's cgroup).
std::vector<double> run_watchd(const Options &o, int fd, const std::string &dir, const std::string &sock, long &pss,
                               std::string &error, bool flood, const std::string &cgroup = "") {
    const std::string conf = dir + "/watchd.json";
    const std::string child_dir = o.child.substr(0, o.child.rfind('/'));
    const std::string child_bin = o.child.substr(o.child.rfind('/') + 1);
    {
        std::ofstream c(conf);
        c << "{\"history\": 100, \"apps\": {\"crasher\": {\"keepalive\": \"patrol\", \"name\": \"crasher\", "
          << "\"working-directory\": \"" << child_dir << "\", \"binary\": \"" << child_bin << "\", "
          << "\"env\": [\"BENCH_SOCK=" << sock << "\"], "
          << "\"restart\": {\"backoff-initial\": \"0\", \"start-limit-burst\": 0}}";
        if (flood)
            c << ", \"flood\": {\"keepalive\": \"patrol\", \"name\": \"flood\", \"working-directory\": \"/\", "
              << "\"binary\": \"/usr/bin/yes\", \"args\": [\"a line of output from an app that floods\"]}";
        for (int i = 1; i < o.apps; ++i)
            c << ", \"idle" << i << "\": {\"keepalive\": \"patrol\", \"name\": \"idle\", \"working-directory\": \"/\", "
              << "\"binary\": \"/bin/sleep\", \"args\": [\"1000000\"]}";
        c << "}}\n";
    }
    const std::string log = dir + (flood ? "/watchd-flood.log" : cgroup.empty() ? "/watchd.log" : "/watchd-cgroups.log");
    pid_t pid = fork();
    if (pid == 0) {
        if (!cgroup.empty()) {
            int procs = ::open((cgroup + "/cgroup.procs").c_str(), O_WRONLY);
            if (procs < 0 || ::write(procs, "0", 1) != 1) _exit(126);
            ::close(procs);
        }
        int lf = ::open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
        dup2(lf, 2);
        dup2(lf, 1);
        execl(o.watchd.c_str(), "watchd", "--config", conf.c_str(), "--log-target", "stderr", nullptr);
        _exit(127);
    }
    std::vector<Sample> samples;
    const long long deadline = now_ns() + 60 * 1000000000LL;
    Sample s{};
    int starts = 0;
    while (starts <= o.restarts && receive(fd, s, deadline)) {
        samples.push_back(s);
        starts += s.kind == 'S';
    }
    pss = pss_kib(pid);
    if (!bench_util::stop(pid)) error = "watchd did not stop within 5 s of SIGTERM; killed";
    if (starts <= o.restarts) error = "only " + std::to_string(starts) + " starts seen before the deadline; see " + log;
    return latencies(samples, 5);
}

void usage() {
    std::fprintf(stderr, "usage: restart-latency --watchd PATH --child PATH [--restarts N (>=200)] [--apps N] [--flood] "
                         "[--cgroups] [--json]\n");
}

// A scratch cgroup below the bench's own in the cgroup v2 hierarchy, marked delegated (trusted.delegate=1, what
// systemd sets for Delegate=yes); empty with the reason in `why` where that cannot be done (not root, no v2).
std::string make_delegated_cgroup(std::string &why) {
    auto mount = watchd::sys::cgroup::v2_mount();
    auto own = watchd::sys::cgroup::own_path();
    if (!mount || !own) {
        why = (mount ? own.error() : mount.error()).message();
        return {};
    }
    const std::string dir = *mount + (*own == "/" ? "" : *own) + "/watchd-bench-" + std::to_string(getpid());
    if (::mkdir(dir.c_str(), 0755) != 0) {
        why = "cannot make " + dir + ": " + std::strerror(errno);
        return {};
    }
    if (::setxattr(dir.c_str(), "trusted.delegate", "1", 1, 0) != 0) {
        why = "cannot mark " + dir + " delegated: " + std::strerror(errno);
        ::rmdir(dir.c_str());
        return {};
    }
    return dir;
}

// Empties and removes what make_delegated_cgroup() made and watchd made below it.
void remove_cgroup_tree(const std::string &dir) {
    std::vector<std::string> children;
    if (DIR *d = ::opendir(dir.c_str())) {
        while (dirent *e = ::readdir(d))
            if (e->d_type == DT_DIR && e->d_name[0] != '.') children.push_back(dir + "/" + e->d_name);
        ::closedir(d);
    }
    for (const auto &c : children) remove_cgroup_tree(c);
    if (int k = ::open((dir + "/cgroup.kill").c_str(), O_WRONLY); k >= 0) {
        (void)!::write(k, "1", 1);
        ::close(k);
    }
    for (int i = 0; i < 100 && ::rmdir(dir.c_str()) != 0 && errno == EBUSY; ++i) usleep(20000);
}

} // namespace

int main(int argc, char **argv) {
    Options o;
    for (int i = 1; i < argc; ++i) {
        std::string a = argv[i];
        auto next = [&]() -> const char * { return i + 1 < argc ? argv[++i] : nullptr; };
        const char *v = nullptr;
        if (a == "--restarts" && (v = next())) o.restarts = std::max(200, std::atoi(v));
        else if (a == "--apps" && (v = next())) o.apps = std::max(1, std::atoi(v));
        else if (a == "--watchd" && (v = next())) o.watchd = v;
        else if (a == "--child" && (v = next())) o.child = v;
        else if (a == "--json") o.json = true;
        else if (a == "--flood") o.flood = true;
        else if (a == "--cgroups") o.cgroups = true;
        else { usage(); return 2; }
    }
    if (o.watchd.empty() || o.child.empty()) { usage(); return 2; }
    char tmpl[] = "/tmp/watchd-bench-XXXXXX";
    if (!mkdtemp(tmpl)) { std::perror("mkdtemp"); return 1; }
    const std::string dir = tmpl, sock = dir + "/sock";
    int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_un a{};
    a.sun_family = AF_UNIX;
    std::strcpy(a.sun_path, sock.c_str());
    int rcvbuf = 4 << 20;
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
    if (bind(fd, reinterpret_cast<sockaddr *>(&a), sizeof a) < 0) { std::perror("bind"); return 1; }

    auto floor = run_floor(o, fd, sock);
    long pss = -1;
    std::string error;
    auto w = run_watchd(o, fd, dir, sock, pss, error, false);
    std::vector<double> wf;
    long pss_flood = -1;
    if (o.flood && error.empty()) wf = run_watchd(o, fd, dir, sock, pss_flood, error, true);
    std::vector<double> wc;
    long pss_cgroups = -1;
    std::string no_cgroups;
    if (o.cgroups && error.empty()) {
        const std::string cg = make_delegated_cgroup(no_cgroups);
        if (!cg.empty()) {
            wc = run_watchd(o, fd, dir, sock, pss_cgroups, error, false, cg);
            const std::string wlog = read_file(dir + "/watchd-cgroups.log");
            if (wlog.find("cgroups: each app runs in") == std::string::npos)
                error = "watchd did not run its apps in cgroups: see " + dir + "/watchd-cgroups.log";
            remove_cgroup_tree(cg);
        } else {
            error = "--cgroups: " + no_cgroups;
        }
    }
    close(fd);
    std::string cleanup = "rm -rf '" + dir + "'";
    if (error.empty() && std::system(cleanup.c_str()) != 0) std::fprintf(stderr, "could not remove %s\n", dir.c_str());

    const double f50 = pct(floor, 50), w50 = pct(w, 50);
    const double ratio = f50 > 0 ? w50 / f50 : 0;
    // Ratios, not absolutes: these machines are shared, so only the floor measured in the same run is a yardstick.
    const double flood_ratio = o.flood && w50 > 0 ? pct(wf, 50) / w50 : 0;
    const double cgroup_ratio = o.cgroups && w50 > 0 ? pct(wc, 50) / w50 : 0;
    const bool met = !w.empty() && ratio <= 1.2 && (!o.flood || (!wf.empty() && flood_ratio <= 2.0)) &&
                     (!o.cgroups || (!wc.empty() && cgroup_ratio <= 1.2));
    if (o.json) {
        auto row = [](const char *n, const std::vector<double> &v) {
            std::printf("\"%s\": {\"n\": %zu, \"p50_ms\": %.3f, \"p90_ms\": %.3f, \"p99_ms\": %.3f, \"max_ms\": %.3f}", n,
                        v.size(), pct(v, 50), pct(v, 90), pct(v, 99), pct(v, 100));
        };
        std::printf("{");
        row("floor", floor);
        std::printf(", ");
        row("watchd", w);
        if (o.flood) {
            std::printf(", ");
            row("watchd_flood", wf);
            std::printf(", \"flood_ratio_p50\": %.2f", flood_ratio);
        }
        if (o.cgroups) {
            std::printf(", ");
            row("watchd_cgroups", wc);
            std::printf(", \"cgroups_ratio_p50\": %.2f", cgroup_ratio);
        }
        std::printf(", \"ratio_p50\": %.2f, \"watchd_pss_kib\": %ld, \"apps\": %d, \"targets_met\": %s%s%s}\n", ratio,
                    pss, o.apps, met ? "true" : "false", error.empty() ? "" : ", \"error\": \"", error.empty() ? "" : (error + "\"").c_str());
    } else {
        std::printf("crash -> restart latency, %d restarts each (first 5 skipped), same child, one run\n", o.restarts);
        std::printf("%-34s %5s %9s %9s %9s %9s\n", "", "n", "p50 ms", "p90 ms", "p99 ms", "max ms");
        auto row = [](const char *n, const std::vector<double> &v) {
            std::printf("%-34s %5zu %9.3f %9.3f %9.3f %9.3f\n", n, v.size(), pct(v, 50), pct(v, 90), pct(v, 99), pct(v, 100));
        };
        row("floor: fork+exec+waitpid loop", floor);
        row("watchd (patrol mode, pidfd)", w);
        if (o.flood) row("watchd, one app flooding (yes)", wf);
        if (o.cgroups) row("watchd, each app in its cgroup", wc);
        std::printf("watchd p50 / floor p50: %.2fx\n", ratio);
        if (o.flood) std::printf("flooding p50 / idle p50: %.2fx\n", flood_ratio);
        if (o.cgroups) std::printf("cgroups on p50 / off p50: %.2fx\n", cgroup_ratio);
        std::printf("watchd PSS with %d app%s: %.1f MiB (monit, for scale: 6 MB at 100 apps)\n", o.apps,
                    o.apps == 1 ? "" : "s", pss / 1024.0);
        if (!error.empty()) std::printf("ERROR: %s\n", error.c_str());
        std::printf("target (watchd p50 within 1.2x the floor's%s%s, same run): %s\n",
                    o.flood ? "; within 2x of idle while one app floods" : "",
                    o.cgroups ? "; with cgroups within 1.2x of without" : "", met ? "met" : "NOT met");
    }
    return error.empty() ? 0 : 1;
}
