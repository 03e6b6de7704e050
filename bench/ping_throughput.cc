// bench/ping-throughput: keepalive pings per second into watchd (one app pinged continuously, replies counted)
// beside a floor measured in the same run, before watchd's flood and after it (a server doing nothing else,
// answering with a reply of the same size),
// optionally patrol's daemon (--patrol PATH, a by-hand build), and an app's crash→restart latency while the flood
// runs against idle. Loopback only, bounded runs. A transport is a Transport (ping_throughput.h): --http (wrk; the
// floor a minimal libmicrohttpd server), --udp (sendmmsg/recvmmsg; the floor a bare echo loop); both by default, one
// after the other, each with a watchd (and patrol) of its own.
#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <fstream>
#include <iterator>
#include <mutex>
#include <string>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>
#include <vector>

#include "ping_throughput.h"

namespace {

using bench::Result;

using bench::Transport;
using bench_util::cpu_seconds;
using bench_util::spawn;
using bench_util::stop;

struct Options {
    std::vector<const Transport *> transports; // in the order they run; none given: HTTP, then UDP
    std::string watchd, child, patrol;
    double seconds = 5;
    bool json = false;
};

// A warm-up of 1 s (wrk runs whole seconds), then the measured flood, with the CPU `server` used meanwhile.
Result measure(const Options &o, const Transport &t, int port, const std::string &request, pid_t server) {
    Result warm = t.flood(port, request, 1);
    if (!warm.error.empty()) return warm;
    usleep(100000);
    const double before = cpu_seconds(server);
    Result r = t.flood(port, request, o.seconds);
    const double after = cpu_seconds(server);
    if (before >= 0 && after >= before) r.server_cpu_s = after - before;
    return r;
}

// Asks every 100 ms or so until a reply comes (a refused TCP connection fails at once, a lost datagram not).
std::string wait_for_reply(const Transport &t, int port, const std::string &request, int seconds) {
    for (const long long end = bench::now_ns() + seconds * 1000000000LL; bench::now_ns() < end;) {
        const long long next = bench::now_ns() + 100000000;
        if (std::string r = t.ask(port, request, 100); !r.empty()) return r;
        if (const long long left = next - bench::now_ns(); left > 0) usleep(static_cast<useconds_t>(left / 1000));
    }
    return {};
}

int read_pid(const std::string &path, int seconds) {
    for (int i = 0; i < seconds * 100; ++i, usleep(10000)) {
        std::ifstream f(path);
        int pid = 0;
        if (f >> pid && pid > 0) return pid;
    }
    return 0;
}

std::string ping(const std::string &id, int pid) {
    return "{\"id\":\"" + id + "\",\"group\":\"app\",\"ping\":true,\"pid\":" + std::to_string(pid) + "}";
}

// The first value of `key` in a reply (compact for UDP, indented for HTTP): a string's text, or a bare token. The
// unit's own members come before its history's, so the first is the unit's.
std::string member(const std::string &json, const std::string &key) {
    std::size_t at = json.find("\"" + key + "\":");
    if (at == std::string::npos) return {};
    at = json.find_first_not_of(" \t\n", at + key.size() + 3);
    if (at == std::string::npos) return {};
    if (json[at] == '"') {
        const std::size_t end = json.find('"', at + 1);
        return end == std::string::npos ? std::string() : json.substr(at + 1, end - at - 1);
    }
    return json.substr(at, json.find_first_of(",}\n", at) - at);
}

// bench-child's "S|E <ns> <pid>" reports, read by a thread of their own: an AF_UNIX datagram queue holds only
// net.unix.max_dgram_qlen (10) reports, and an unread one would block the crasher.
struct Sample {
    char kind = 0;
    long long ns = 0;
};
class Reports {
public:
    explicit Reports(int fd) : fd_(fd), thread_([this] { run(); }) {}
    ~Reports() { stop_ = true, thread_.join(); }
    std::vector<Sample> take() {
        std::lock_guard<std::mutex> g(m_);
        return samples_;
    }

private:
    void run() {
        timeval tv{0, 100000};
        setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        char msg[64];
        while (!stop_) {
            const ssize_t n = recv(fd_, msg, sizeof msg - 1, 0);
            Sample s;
            int pid = 0;
            if (n <= 0) continue;
            msg[n] = 0;
            if (std::sscanf(msg, "%c %lld %d", &s.kind, &s.ns, &pid) != 3) continue;
            std::lock_guard<std::mutex> g(m_);
            samples_.push_back(s);
        }
    }
    int fd_;
    std::atomic<bool> stop_{false};
    std::mutex m_;
    std::vector<Sample> samples_;
    std::thread thread_; // last: it uses the rest
};

// Crash→restart latencies (ms), each exit at or after `since` paired with the next start, split by whether the exit
// fell inside [from, to) (the flood) or not (idle).
struct Latencies {
    std::vector<double> idle, flood;
};
Latencies pair_up(const std::vector<Sample> &samples, long long since, long long from, long long to) {
    Latencies out;
    long long last_exit = -1;
    for (const Sample &s : samples) {
        if (s.kind == 'E' && s.ns >= since) last_exit = s.ns;
        if (s.kind != 'S' || last_exit < 0) continue;
        (last_exit >= from && last_exit < to ? out.flood : out.idle).push_back((s.ns - last_exit) / 1e6);
        last_exit = -1;
    }
    return out;
}

double pct(std::vector<double> v, double p) {
    if (v.empty()) return 0;
    std::sort(v.begin(), v.end());
    return v[std::min(v.size() - 1, static_cast<std::size_t>(p / 100.0 * (v.size() - 1) + 0.5))];
}

long rss_kib(pid_t pid) {
    std::ifstream f("/proc/" + std::to_string(pid) + "/status");
    for (std::string line; std::getline(f, line);)
        if (line.rfind("VmRSS:", 0) == 0) return std::atol(line.c_str() + 6);
    return -1;
}

// The floor answering with `reply_size` bytes, flooded as watchd is; `error` says why there is no figure.
Result measure_floor(const Options &o, const Transport &t, std::size_t reply_size, std::string &error) {
    Result r;
    const int port = bench::free_port();
    const pid_t echo = t.start_echo(port, reply_size);
    if (echo < 0) {
        error = "the floor could not bind 127.0.0.1:" + std::to_string(port);
        return r;
    }
    if (t.ask(port, ping("target", 1), 2000).size() != reply_size) // also: it runs
        error = "the floor did not answer with " + std::to_string(reply_size) + " bytes";
    else if (r = measure(o, t, port, ping("target", 1), echo); !r.error.empty())
        error = "the floor's flood: " + r.error;
    kill(echo, SIGKILL);
    waitpid(echo, nullptr, 0);
    return r;
}

// Two floods as one: their replies, seconds and CPU added up (the rate is their mean, weighted by time).
Result combined(const Result &a, const Result &b) {
    Result r = b;
    r.seconds = a.seconds + b.seconds;
    r.replies = a.replies + b.replies;
    r.sent = a.sent + b.sent;
    r.lost = a.lost + b.lost;
    r.server_cpu_s = a.server_cpu_s >= 0 && b.server_cpu_s >= 0 ? a.server_cpu_s + b.server_cpu_s : -1;
    return r;
}

struct WatchdRun {
    Result floor_before; // measured while watchd runs, idle, before its flood: see run()
    Result flood;
    Latencies restarts;
    std::size_t reply_size = 0;
    long rss_kib = -1;
    std::string verified; // how we know the pings were taken, when they were
    std::string error;
};

// watchd with an app "target" in the transport's keepalive mode (pinged; a shell that writes its PID and execs
// sleep) and a patrol-mode "crasher" (bench-child, living 100 ms a run): 3 s idle, then the flood; restart
// latencies come from the crasher's own timestamps. ping-timeout is 5 s (watchd's least), so a target whose pings
// were not taken would be stopped and restarted as a new instance within the run: the check after the flood.
WatchdRun run_watchd(const Options &o, const Transport &t, const std::string &dir) {
    WatchdRun w;
    const int udp_port = bench::free_port(), http_port = bench::free_port();
    const int port = std::string(t.name) == "http" ? http_port : udp_port; // where the flood goes
    const std::string sock = dir + "/crasher.sock";
    const int rfd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_un ua{};
    ua.sun_family = AF_UNIX;
    std::snprintf(ua.sun_path, sizeof ua.sun_path, "%s", sock.c_str());
    int size = 4 << 20;
    setsockopt(rfd, SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
    bind(rfd, reinterpret_cast<sockaddr *>(&ua), sizeof ua);
    const std::string child_dir = o.child.substr(0, o.child.rfind('/')), child = o.child.substr(o.child.rfind('/') + 1);
    std::ofstream(dir + "/watchd.json")
        << "{\"ping-timeout\": 5, \"udp\": {\"listen\": [\"127.0.0.1:" << udp_port << "\"]}, "
        << "\"http\": {\"listen\": [\"127.0.0.1:" << http_port << "\"]}, \"apps\": {"
        << "\"target\": {\"keepalive\": \"" << t.name << "\", \"name\": \"target\", "
        << "\"working-directory\": \"" << dir << "\", \"binary\": \"/bin/sh\", "
        << "\"args\": [\"-c\", \"echo $$ > target.pid; exec sleep 1000000\"]}, "
        << "\"crasher\": {\"keepalive\": \"patrol\", \"name\": \"crasher\", \"working-directory\": \"" << child_dir
        << "\", \"binary\": \"" << child << "\", \"env\": [\"BENCH_SOCK=" << sock << "\", \"BENCH_LIVE_MS=100\"], "
        << "\"restart\": {\"backoff-initial\": \"0\", \"start-limit-burst\": 0}}}}\n";
    const pid_t pid = spawn({o.watchd, "--config", dir + "/watchd.json", "--log-target", "stderr"},
                            dir + "/watchd.log", dir);
    const int target = read_pid(dir + "/target.pid", 10);
    const std::string request = ping("target", target);
    const std::string reply = target ? wait_for_reply(t, port, request, 10) : "";
    if (reply.empty()) {
        w.error = "watchd did not answer a ping within 10 s; see " + dir + "/watchd.log";
    } else {
        Reports reports(rfd);
        // The reply shows the app as it was before the ping: the first one has no pid and no lastseen yet.
        const std::string steady = t.ask(port, request, 1000);
        w.reply_size = steady.empty() ? reply.size() : steady.size();
        {
            // The target is kept alive meanwhile (a ping every 500 ms, inside its ping-timeout).
            std::atomic<bool> done{false};
            std::thread keeper([&] {
                while (!done) {
                    t.ask(port, request, 200);
                    usleep(500000);
                }
            });
            w.floor_before = measure_floor(o, t, w.reply_size, w.error);
            done = true;
            keeper.join();
        }
        // The restarts while the floor was flooded are neither idle nor during watchd's flood.
        const long long idle_from = bench::now_ns();
        usleep(3000000); // idle restarts
        w.flood = measure(o, t, port, request, pid);
        w.rss_kib = rss_kib(pid);
        usleep(300000); // the last restart's report
        w.restarts = pair_up(reports.take(), idle_from, w.flood.start_ns, w.flood.end_ns);
        // The pings were taken: the target is the instance it was before the flood (pid, instance-id), still running,
        // and none was answered with an error status.
        const std::string after = t.ask(port, request, 2000), instance = member(reply, "instance-id");
        if (!w.flood.error.empty()) w.error = "watchd's flood: " + w.flood.error;
        else if (after.empty()) w.error = "watchd did not answer a ping after the flood";
        else if (instance.empty() || member(after, "instance-id") != instance ||
                 member(after, "pid") != std::to_string(target) || read_pid(dir + "/target.pid", 1) != target ||
                 kill(target, 0) != 0)
            w.error = "the target was restarted during the flood (pings not taken?); see " + dir + "/watchd.log";
        else if (std::string(t.name) == "http" && w.flood.lost)
            w.error = std::to_string(w.flood.lost) + " pings answered with an error status or lost";
        else
            w.verified = "target pid " + std::to_string(target) + ", instance " + instance +
                         " throughout (ping-timeout 5 s), last seen " + member(after, "lastseen");
    }
    stop(pid);
    close(rfd);
    return w;
}

// patrol's daemon (a by-hand build) with one app in the transport's keepalive mode, pinged the same way.
// patrol starts no http/udp app within 2 × ping-timeout of its own start (it may be running already): the target
// is a sleep the driver starts, pinged with its PID, as an app already running when patrol starts. Should patrol
// start one all the same (its pings stopped), the shell writes its PID for the driver to end it.
// patrol's listeners are `http.listen` and `udp.listen` (its `listen-http` and `listen-udp` default to them and
// only tell the apps where to ping).
Result run_patrol(const Options &o, const Transport &t, const std::string &dir, std::string &error) {
    const int udp_port = bench::free_port(), http_port = bench::free_port();
    const int port = std::string(t.name) == "http" ? http_port : udp_port;
    std::ofstream(dir + "/patrol.json")
        << "{\"ping-timeout\": 5, \"udp\": {\"listen\": \"127.0.0.1:" << udp_port
        << "\"}, \"http\": {\"listen\": \"127.0.0.1:" << http_port << "\"}, \"apps\": {\"target\": {\"keepalive\": "
        << t.patrol_keepalive << ", \"name\": \"target\", \"binary\": \"sh\", \"working-directory\": \"/bin\", "
        << "\"args\": [\"-c\", \"echo $$ > " << dir << "/patrol-started.pid; exec sleep 1000000\"], "
        << "\"log-directory\": \"" << dir << "/logs\"}}}\n";
    const pid_t target = spawn({"/bin/sleep", "1000000"}, "/dev/null", dir);
    const pid_t pid = spawn({o.patrol, "-config", dir + "/patrol.json"}, dir + "/patrol.log", dir);
    const std::string request = ping("target", target);
    Result r;
    if (wait_for_reply(t, port, request, 10).empty())
        error = "patrol did not answer within 10 s; see " + dir + "/patrol.log";
    else if (r = measure(o, t, port, request, pid); !r.error.empty())
        error = "patrol's flood: " + r.error;
    stop(pid);
    kill(target, SIGKILL);
    waitpid(target, nullptr, 0);
    int started = 0;
    if (std::ifstream(dir + "/patrol-started.pid") >> started && started > 0) kill(started, SIGKILL);
    return r;
}

void usage() {
    std::fprintf(stderr, "usage: ping-throughput [--http] [--udp] --watchd PATH --child PATH [--seconds N (1..60)] "
                         "[--patrol PATH] [--json]\n");
}

// One transport's run: watchd, its floor, patrol.
struct Run {
    const Transport *t = nullptr;
    WatchdRun w;
    Result floor_after, floor, patrol; // floor: before and after together
    std::string error;
    double ratio() const { return floor.rate() > 0 ? w.flood.rate() / floor.rate() : 0; }
    double idle50() const { return pct(w.restarts.idle, 50); }
    double flood50() const { return pct(w.restarts.flood, 50); }
    double restart_ratio() const { return idle50() > 0 ? flood50() / idle50() : 0; }
    bool met() const { return error.empty() && ratio() >= 0.8 && !w.restarts.flood.empty() && restart_ratio() <= 2.0; }
};

Run run(const Options &o, const Transport &t, const std::string &dir) {
    Run r;
    r.t = &t;
    mkdir(dir.c_str(), 0755);
    r.w = run_watchd(o, t, dir);
    // The floor is measured on either side of watchd's flood (this machine's speed drifts from minute to minute):
    // the ratio is to both together.
    if (r.w.error.empty()) r.floor_after = measure_floor(o, t, r.w.reply_size, r.error);
    if (r.error.empty()) r.floor = combined(r.w.floor_before, r.floor_after);
    std::string patrol_error;
    if (!o.patrol.empty() && r.w.error.empty() && r.error.empty()) r.patrol = run_patrol(o, t, dir, patrol_error);
    if (r.error.empty()) r.error = !r.w.error.empty() ? r.w.error : patrol_error;
    return r;
}

// A flood's row: replies/s, lost, the server's CPU per reply, then `extra`.
void row(const std::string &what, const Result &r, const std::string &extra) {
    char cpu[32] = "-";
    if (r.cpu_us_per_reply() >= 0) std::snprintf(cpu, sizeof cpu, "%.1f", r.cpu_us_per_reply());
    std::printf("%-34s %10.0f %8llu %12s%s", what.c_str(), r.rate(), r.lost, cpu, extra.c_str());
    if (r.latency_p50_ms >= 0) std::printf("   latency p50 %.2f ms p99 %.2f ms", r.latency_p50_ms, r.latency_p99_ms);
    std::printf("\n");
}

std::string of_floor(const Result &r, const Result &floor) {
    char buf[96];
    const int n =
        std::snprintf(buf, sizeof buf, "   %3.0f%% of the floor", floor.rate() > 0 ? 100 * r.rate() / floor.rate() : 0);
    if (r.cpu_us_per_reply() > 0 && floor.cpu_us_per_reply() > 0)
        std::snprintf(buf + n, sizeof buf - n, ", %.2fx its CPU/ping", r.cpu_us_per_reply() / floor.cpu_us_per_reply());
    return buf;
}

void print_json(const Options &o, const Run &r) {
    const WatchdRun &w = r.w;
    std::printf("{\"mode\": \"%s\", \"seconds\": %.1f, \"floor_pps\": %.0f, \"watchd_pps\": %.0f, \"ratio\": %.3f, "
                "\"watchd_lost\": %llu, \"reply_bytes\": %zu, \"watchd_rss_kib\": %ld, \"restart_idle_p50_ms\": %.3f, "
                "\"restart_flood_p50_ms\": %.3f, \"restart_flood_n\": %zu, \"restart_ratio\": %.2f, "
                "\"floor_cpu_us_per_ping\": %.2f, \"watchd_cpu_us_per_ping\": %.2f",
                r.t->name, o.seconds, r.floor.rate(), w.flood.rate(), r.ratio(), w.flood.lost, w.reply_size,
                w.rss_kib, r.idle50(), r.flood50(), w.restarts.flood.size(), r.restart_ratio(),
                r.floor.cpu_us_per_reply(), w.flood.cpu_us_per_reply());
    if (w.flood.latency_p50_ms >= 0)
        std::printf(", \"watchd_latency_p50_ms\": %.3f, \"watchd_latency_p99_ms\": %.3f, "
                    "\"floor_latency_p50_ms\": %.3f",
                    w.flood.latency_p50_ms, w.flood.latency_p99_ms, r.floor.latency_p50_ms);
    if (!o.patrol.empty())
        std::printf(", \"patrol_pps\": %.0f, \"patrol_lost\": %llu, \"patrol_cpu_us_per_ping\": %.2f", r.patrol.rate(),
                    r.patrol.lost, r.patrol.cpu_us_per_reply());
    std::printf(", \"verified\": %s", w.verified.empty() ? "false" : "true");
    std::printf(", \"targets_met\": %s%s%s}\n", r.met() ? "true" : "false", r.error.empty() ? "" : ", \"error\": \"",
                r.error.empty() ? "" : (r.error + "\"").c_str());
}

void print_table(const Options &o, const Run &r) {
    const WatchdRun &w = r.w;
    const Transport &t = *r.t;
    std::printf("%s keepalive pings (%s), loopback, %.0f s each after a 1 s warm-up, replies of %zu bytes\n", t.name,
                t.client, o.seconds, w.reply_size);
    std::printf("%-34s %10s %8s %12s\n", "", "replies/s", "lost", "CPU us/ping");
    row("floor: " + std::string(t.floor), r.floor, "   (before watchd's flood and after it)");
    row("  before", r.w.floor_before, "");
    row("  after", r.floor_after, "");
    row("watchd (one " + std::string(t.name) + " app pinged)", w.flood, of_floor(w.flood, r.floor));
    if (!o.patrol.empty()) row("patrol (by-hand build)", r.patrol, of_floor(r.patrol, r.floor));
    std::printf("crash -> restart (patrol-mode app, 100 ms runs): idle p50 %.3f ms (n=%zu), during the flood p50 %.3f "
                "ms p90 %.3f ms max %.3f ms (n=%zu): %.2fx idle\n",
                r.idle50(), w.restarts.idle.size(), r.flood50(), pct(w.restarts.flood, 90), pct(w.restarts.flood, 100),
                w.restarts.flood.size(), r.restart_ratio());
    std::printf("watchd VmRSS after the flood: %.1f MiB\n", w.rss_kib / 1024.0);
    if (!w.verified.empty()) std::printf("pings taken: %s\n", w.verified.c_str());
    if (!r.error.empty()) std::printf("ERROR: %s\n", r.error.c_str());
    std::printf("targets (watchd >= 80%% of the floor; restart p50 during the flood within 2x idle): %s\n\n",
                r.met() ? "met" : "NOT met");
}

} // namespace

int main(int argc, char **argv) {
    Options o;
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : nullptr;
        if (a == "--udp" || a == "--http") {
            const Transport *t = a == "--udp" ? &bench::udp_transport() : &bench::http_transport();
            if (std::find(o.transports.begin(), o.transports.end(), t) == o.transports.end()) o.transports.push_back(t);
        }
        else if (a == "--json") o.json = true;
        else if (v && a == "--watchd") o.watchd = argv[++i];
        else if (v && a == "--child") o.child = argv[++i];
        else if (v && a == "--patrol") o.patrol = argv[++i];
        else if (v && a == "--seconds") // whole seconds: wrk's -d takes no fraction
            o.seconds = std::clamp(std::round(std::atof(argv[++i])), 1.0, 60.0);
        else { usage(); return 2; }
    }
    if (o.watchd.empty() || o.child.empty()) { usage(); return 2; }
    if (o.transports.empty()) o.transports = {&bench::http_transport(), &bench::udp_transport()};
    for (std::string *path : {&o.watchd, &o.child, &o.patrol}) // the daemons run in the work directory
        if (char *abs = path->empty() ? nullptr : realpath(path->c_str(), nullptr)) *path = abs, std::free(abs);
    signal(SIGPIPE, SIG_IGN);
    char tmpl[] = "/tmp/watchd-ping-bench-XXXXXX";
    if (!mkdtemp(tmpl)) { std::perror("mkdtemp"); return 1; }
    const std::string dir = tmpl;

    std::vector<Run> runs;
    bool ok = true;
    for (const Transport *t : o.transports) {
        runs.push_back(run(o, *t, dir + "/" + t->name));
        ok = ok && runs.back().error.empty();
        if (o.json) print_json(o, runs.back()); // one JSON object a line, one line a transport
        else print_table(o, runs.back());
        std::fflush(stdout);
    }
    if (ok) std::system(("rm -rf '" + dir + "'").c_str());
    if (!o.json && runs.size() > 1) {
        std::printf("summary (pings/s, %% of the floor, watchd's CPU per ping / the floor's, restart p50 idle -> "
                    "flood):\n");
        for (const Run &r : runs) {
            char patrol[32] = "";
            if (!o.patrol.empty()) std::snprintf(patrol, sizeof patrol, "  patrol %8.0f", r.patrol.rate());
            const double cpu = r.floor.cpu_us_per_reply() > 0 && r.w.flood.cpu_us_per_reply() > 0
                                   ? r.w.flood.cpu_us_per_reply() / r.floor.cpu_us_per_reply()
                                   : 0;
            std::printf("  %-5s watchd %8.0f  floor %8.0f  %3.0f%%  cpu %.2fx%s  restart %.2f -> %.2f ms (%.2fx)  "
                        "targets %s\n",
                        r.t->name, r.w.flood.rate(), r.floor.rate(), 100 * r.ratio(), cpu, patrol, r.idle50(),
                        r.flood50(), r.restart_ratio(), r.met() ? "met" : "NOT met");
        }
    }
    return ok ? 0 : 1;
}
