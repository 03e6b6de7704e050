// bench/restart-latency: crash→restart latency of a patrol-mode app under watchd, beside the floor (a bare
// fork+exec+waitpid loop on the same child) measured in the same run, and watchd's memory (PSS).
// Latency = the child's own start timestamp minus the previous child's exit timestamp (CLOCK_MONOTONIC).
#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <fstream>
#include <string>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>
#include <vector>

namespace {

struct Options {
    int restarts = 300;
    int apps = 1;
    bool flood = false; // also measure with one more app writing output as fast as it can (`yes`)
    std::string watchd, child;
    bool json = false;
};

struct Sample {
    char kind;
    long long ns;
    int pid;
};

long long now_ns() {
    timespec ts{};
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

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

long pss_kib(pid_t pid) {
    std::ifstream f("/proc/" + std::to_string(pid) + "/smaps_rollup");
    for (std::string line; std::getline(f, line);)
        if (line.rfind("Pss:", 0) == 0) return std::atol(line.c_str() + 4);
    return -1;
}

// flood: one more app runs `yes` (watchd forwards, and rate-limits, its output) while the crasher restarts.
std::vector<double> run_watchd(const Options &o, int fd, const std::string &dir, const std::string &sock, long &pss,
                               std::string &error, bool flood) {
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
    const std::string log = dir + (flood ? "/watchd-flood.log" : "/watchd.log");
    pid_t pid = fork();
    if (pid == 0) {
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
    kill(pid, SIGTERM);
    int status = 0;
    for (int i = 0; i < 100 && waitpid(pid, &status, WNOHANG) == 0; ++i) usleep(50000);
    if (waitpid(pid, &status, WNOHANG) == 0) {
        kill(pid, SIGKILL);
        waitpid(pid, &status, 0);
        error = "watchd did not stop within 5 s of SIGTERM; killed";
    }
    if (starts <= o.restarts) error = "only " + std::to_string(starts) + " starts seen before the deadline; see " + log;
    return latencies(samples, 5);
}

void usage() {
    std::fprintf(stderr, "usage: restart-latency --watchd PATH --child PATH [--restarts N (>=200)] [--apps N] [--flood] "
                         "[--json]\n");
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
    close(fd);
    std::string cleanup = "rm -rf '" + dir + "'";
    if (error.empty() && std::system(cleanup.c_str()) != 0) std::fprintf(stderr, "could not remove %s\n", dir.c_str());

    const double f50 = pct(floor, 50), w50 = pct(w, 50);
    const double ratio = f50 > 0 ? w50 / f50 : 0;
    // Ratios, not absolutes: these machines are shared, so only the floor measured in the same run is a yardstick.
    const double flood_ratio = o.flood && w50 > 0 ? pct(wf, 50) / w50 : 0;
    const bool met = !w.empty() && ratio <= 1.2 && (!o.flood || (!wf.empty() && flood_ratio <= 2.0));
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
        std::printf("watchd p50 / floor p50: %.2fx\n", ratio);
        if (o.flood) std::printf("flooding p50 / idle p50: %.2fx\n", flood_ratio);
        std::printf("watchd PSS with %d app%s: %.1f MiB (monit, for scale: 6 MB at 100 apps)\n", o.apps,
                    o.apps == 1 ? "" : "s", pss / 1024.0);
        if (!error.empty()) std::printf("ERROR: %s\n", error.c_str());
        std::printf("target (watchd p50 within 1.2x the floor's%s, same run): %s\n",
                    o.flood ? "; within 2x of idle while one app floods" : "", met ? "met" : "NOT met");
    }
    return error.empty() ? 0 : 1;
}
