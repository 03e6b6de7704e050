// bench/check-fanout, the loopback side: the listeners (one epoll thread), the floor (a bare epoll connect loop),
// blackbox_exporter's /probe client and a blocking GET for /json. See check_fanout.h.
#include <algorithm>
#include <arpa/inet.h>
#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <dirent.h>
#include <fstream>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sched.h>
#include <string_view>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>
#include <unordered_map>

#include "check_fanout.h"

namespace fanout {

namespace {

using bench_util::loopback;

constexpr std::uint64_t kConnTag = 1ULL << 32; // epoll data: a connection's fd | kConnTag; a listener's index alone
constexpr std::string_view kOk = "HTTP/1.1 200 OK\r\nContent-Length: 3\r\nConnection: close\r\n\r\nok\n";

bool iequal_prefix(std::string_view s, std::string_view prefix) {
    if (s.size() < prefix.size()) return false;
    for (std::size_t i = 0; i < prefix.size(); ++i)
        if (std::tolower(static_cast<unsigned char>(s[i])) != prefix[i]) return false;
    return true;
}

// One HTTP/1.1 answer at the start of `buf`: the bytes it takes once complete, 0 while not (an answer with neither
// Content-Length nor chunks ends at `eof`). `status` and `body` are set when complete.
std::size_t parse_answer(const std::string &buf, bool eof, int &status, std::string &body) {
    const std::size_t head_end = buf.find("\r\n\r\n");
    if (head_end == std::string::npos) return 0;
    const std::string_view head(buf.data(), head_end);
    if (head.size() < 12 || head.substr(0, 5) != "HTTP/") return eof ? buf.size() : 0;
    const int code = std::atoi(head.data() + head.find(' ') + 1);
    long long length = -1;
    bool chunked = false;
    for (std::size_t at = head.find("\r\n"); at != std::string_view::npos && at < head.size();) {
        const std::size_t next = head.find("\r\n", at + 2);
        const std::string_view line = head.substr(at + 2, (next == std::string_view::npos ? head.size() : next) - at - 2);
        if (iequal_prefix(line, "content-length:")) length = std::atoll(std::string(line.substr(15)).c_str());
        if (iequal_prefix(line, "transfer-encoding:") && line.find("chunked") != std::string_view::npos) chunked = true;
        at = next;
    }
    const std::size_t start = head_end + 4;
    if (chunked) {
        std::string out;
        std::size_t at = start;
        while (true) {
            const std::size_t eol = buf.find("\r\n", at);
            if (eol == std::string::npos) return 0;
            const unsigned long size = std::strtoul(buf.c_str() + at, nullptr, 16);
            if (size == 0) {
                const std::size_t end = buf.find("\r\n\r\n", eol); // no trailers from these servers
                if (end == std::string::npos && buf.compare(eol, 4, "\r\n\r\n") != 0) return 0;
                status = code;
                body = std::move(out);
                return (end == std::string::npos ? eol : end) + 4;
            }
            if (buf.size() < eol + 2 + size + 2) return 0;
            out.append(buf, eol + 2, size);
            at = eol + 2 + size + 2;
        }
    }
    if (length >= 0) {
        if (buf.size() < start + static_cast<std::size_t>(length)) return 0;
        status = code;
        body = buf.substr(start, static_cast<std::size_t>(length));
        return start + static_cast<std::size_t>(length);
    }
    if (!eof) return 0;
    status = code;
    body = buf.substr(start);
    return buf.size();
}

// The ephemeral range (connect's own ports): the listeners stay out of it.
void ephemeral_range(int &lo, int &hi) {
    lo = 32768, hi = 60999;
    std::ifstream f("/proc/sys/net/ipv4/ip_local_port_range");
    f >> lo >> hi;
}

} // namespace

double thread_cpu_s() {
    timespec ts{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return static_cast<double>(ts.tv_sec) + ts.tv_nsec / 1e9;
}

// ---- listeners

bool Listeners::open(int count, std::string &error) {
    int lo = 0, hi = 0;
    ephemeral_range(lo, hi);
    // Ports below the ephemeral range (else above it), from a random start so that two runs do not collide.
    int first = 10000, last = lo - 1;
    if (last - first < count * 2) first = hi + 1, last = 65535;
    if (last - first < count) {
        error = "no room for " + std::to_string(count) + " ports outside the ephemeral range";
        return false;
    }
    epoll_ = epoll_create1(EPOLL_CLOEXEC);
    std::srand(static_cast<unsigned>(now_ns() ^ getpid()));
    const int span = last - first + 1;
    const int start = first + std::rand() % std::max(1, span - count);
    for (int i = 0; i < span && static_cast<int>(ports_.size()) < count; ++i) {
        const int port = first + (start - first + i) % span;
        const int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (fd < 0) {
            error = std::string("socket: ") + std::strerror(errno);
            return false;
        }
        const int one = 1;
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        sockaddr_in a = loopback(port);
        if (bind(fd, reinterpret_cast<sockaddr *>(&a), sizeof a) != 0 || listen(fd, 4096) != 0) {
            close(fd);
            continue;
        }
        epoll_event ev{};
        ev.events = EPOLLIN;
        ev.data.u64 = ports_.size();
        epoll_ctl(epoll_, EPOLL_CTL_ADD, fd, &ev);
        index_[port] = static_cast<int>(ports_.size());
        ports_.push_back(port);
        fds_.push_back(fd);
    }
    if (static_cast<int>(ports_.size()) < count) {
        error = "could bind only " + std::to_string(ports_.size()) + " of " + std::to_string(count) + " ports";
        return false;
    }
    stamps_.assign(ports_.size(), {});
    return true;
}

void Listeners::start(int cpu) {
    thread_ = std::thread([this, cpu] {
        pin_to(cpu);
        run();
    });
}

void Listeners::stop() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
    for (int fd : fds_) close(fd);
    fds_.clear();
    if (epoll_ >= 0) close(epoll_);
    epoll_ = -1;
}

void Listeners::record(bool on) {
    std::lock_guard<std::mutex> g(m_);
    if (on)
        for (auto &s : stamps_) s.clear();
    recording_ = on;
}

std::vector<std::vector<long long>> Listeners::stamps() {
    std::lock_guard<std::mutex> g(m_);
    return stamps_;
}

void Listeners::run() {
    std::unordered_map<int, std::string> requests; // http: what each open connection has sent so far
    epoll_event evs[256];
    while (!stop_) {
        const int n = epoll_wait(epoll_, evs, 256, 100);
        cpu_ns_.store(static_cast<long long>(thread_cpu_s() * 1e9), std::memory_order_relaxed);
        for (int i = 0; i < n; ++i) {
            const std::uint64_t tag = evs[i].data.u64;
            if (tag & kConnTag) { // http: the request, then the answer
                const int fd = static_cast<int>(tag & 0xffffffff);
                char buf[2048];
                const ssize_t r = read(fd, buf, sizeof buf);
                if (r < 0 && (errno == EAGAIN || errno == EINTR)) continue;
                std::string &req = requests[fd];
                if (r > 0) req.append(buf, static_cast<std::size_t>(r));
                if (r > 0 && req.find("\r\n\r\n") == std::string::npos && req.size() < 65536) continue;
                if (r > 0 && write(fd, kOk.data(), kOk.size()) == static_cast<ssize_t>(kOk.size()))
                    answered_.fetch_add(1, std::memory_order_relaxed);
                requests.erase(fd);
                close(fd);
                continue;
            }
            const std::size_t idx = static_cast<std::size_t>(tag);
            for (int k = 0; k < 1024; ++k) { // a bounded batch a wake-up: no port starves the others
                const int c = accept4(fds_[idx], nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
                if (c < 0) break;
                const long long t = now_ns();
                accepted_.fetch_add(1, std::memory_order_relaxed);
                if (recording_.load(std::memory_order_relaxed)) {
                    std::lock_guard<std::mutex> g(m_);
                    if (recording_ && stamps_[idx].size() < 100000) stamps_[idx].push_back(t);
                }
                if (!http_) {
                    close(c);
                    continue;
                }
                epoll_event ev{};
                ev.events = EPOLLIN;
                ev.data.u64 = kConnTag | static_cast<std::uint64_t>(c);
                if (epoll_ctl(epoll_, EPOLL_CTL_ADD, c, &ev) != 0) close(c);
            }
        }
    }
    for (auto &[fd, req] : requests) close(fd);
}

// ---- the floor

Flood connect_floor(const std::vector<int> &ports, Mode mode, double seconds, int inflight, int cpu) {
    Flood f;
    std::thread t([&] {
        pin_to(cpu);
        struct Slot {
            int fd = -1;
            bool sent = false; // http: the GET is out, reading the answer
            std::string in;
        };
        std::vector<Slot> slots(static_cast<std::size_t>(inflight));
        const int ep = epoll_create1(EPOLL_CLOEXEC);
        std::size_t next_port = 0;
        const bool http = mode == Mode::Http;
        std::vector<std::string> requests; // per port: GET / HTTP/1.1 with its Host
        for (int p : ports)
            requests.push_back("GET / HTTP/1.1\r\nHost: 127.0.0.1:" + std::to_string(p) +
                               "\r\nUser-Agent: check-fanout\r\nAccept: */*\r\nConnection: close\r\n\r\n");
        std::vector<std::size_t> slot_port(slots.size());
        auto finish = [&](std::size_t s, bool ok) {
            ++(ok ? f.ok : f.failed);
            close(slots[s].fd); // also leaves the epoll set
            slots[s].fd = -1;
        };
        auto open_one = [&](std::size_t s) {
            Slot &sl = slots[s];
            sl = Slot{};
            sl.fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
            if (sl.fd < 0) {
                ++f.failed;
                return;
            }
            slot_port[s] = next_port++ % ports.size();
            sockaddr_in a = loopback(ports[slot_port[s]]);
            const int r = connect(sl.fd, reinterpret_cast<sockaddr *>(&a), sizeof a);
            if (r < 0 && errno != EINPROGRESS) return finish(s, false);
            epoll_event ev{};
            ev.events = EPOLLOUT;
            ev.data.u64 = s;
            epoll_ctl(ep, EPOLL_CTL_ADD, sl.fd, &ev);
        };
        const long long begin = now_ns(), end = begin + static_cast<long long>(seconds * 1e9);
        const double cpu0 = thread_cpu_s(), run0 = runnable_seconds("thread-self");
        for (std::size_t s = 0; s < slots.size(); ++s) open_one(s);
        epoll_event evs[256];
        while (now_ns() < end) {
            const int n = epoll_wait(ep, evs, 256, 100);
            for (int i = 0; i < n; ++i) {
                const std::size_t s = static_cast<std::size_t>(evs[i].data.u64);
                Slot &sl = slots[s];
                if (sl.fd < 0) continue;
                if (!sl.sent) {
                    int err = 0;
                    socklen_t len = sizeof err;
                    if (getsockopt(sl.fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0) err = errno;
                    if (err != 0 || !http) {
                        finish(s, err == 0);
                        open_one(s);
                        continue;
                    }
                    const std::string &req = requests[slot_port[s]];
                    if (write(sl.fd, req.data(), req.size()) != static_cast<ssize_t>(req.size())) {
                        finish(s, false);
                        open_one(s);
                        continue;
                    }
                    sl.sent = true;
                    epoll_event ev{};
                    ev.events = EPOLLIN;
                    ev.data.u64 = s;
                    epoll_ctl(ep, EPOLL_CTL_MOD, sl.fd, &ev);
                    continue;
                }
                char buf[4096];
                const ssize_t r = read(sl.fd, buf, sizeof buf);
                if (r < 0 && (errno == EAGAIN || errno == EINTR)) continue;
                if (r > 0) {
                    sl.in.append(buf, static_cast<std::size_t>(r));
                    int status = 0;
                    std::string body;
                    if (parse_answer(sl.in, false, status, body) == 0) continue;
                    finish(s, status == 200);
                } else {
                    finish(s, false);
                }
                open_one(s);
            }
        }
        f.seconds = (now_ns() - begin) / 1e9;
        f.cpu_s = thread_cpu_s() - cpu0;
        if (run0 >= 0) f.runnable_s = runnable_seconds("thread-self") - run0;
        for (auto &sl : slots)
            if (sl.fd >= 0) close(sl.fd);
        close(ep);
    });
    t.join();
    return f;
}

// ---- blackbox_exporter's client

Flood probe_flood(int port, const std::string &module, const std::vector<std::string> &targets, double seconds,
                  int conns, double rate) {
    Flood f;
    struct Conn {
        int fd = -1;
        bool busy = false;
        std::string in;
    };
    std::vector<Conn> cs(static_cast<std::size_t>(std::max(1, conns)));
    const int ep = epoll_create1(EPOLL_CLOEXEC);
    auto dial = [&](std::size_t i) {
        Conn &c = cs[i];
        if (c.fd >= 0) close(c.fd);
        c = Conn{};
        c.fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        sockaddr_in a = loopback(port);
        if (connect(c.fd, reinterpret_cast<sockaddr *>(&a), sizeof a) != 0) {
            close(c.fd);
            c.fd = -1;
            return false;
        }
        const int one = 1;
        setsockopt(c.fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        epoll_event ev{};
        ev.events = EPOLLIN;
        ev.data.u64 = i;
        epoll_ctl(ep, EPOLL_CTL_ADD, c.fd, &ev);
        return true;
    };
    for (std::size_t i = 0; i < cs.size(); ++i)
        if (!dial(i)) {
            f.error = "cannot connect to 127.0.0.1:" + std::to_string(port);
            close(ep);
            for (auto &c : cs)
                if (c.fd >= 0) close(c.fd);
            return f;
        }
    std::vector<std::string> requests;
    for (const auto &t : targets)
        requests.push_back("GET /probe?module=" + module + "&target=" + t + " HTTP/1.1\r\nHost: 127.0.0.1:" +
                           std::to_string(port) + "\r\nUser-Agent: check-fanout\r\n\r\n");
    std::size_t next = 0;
    std::vector<std::size_t> idle;
    for (std::size_t i = 0; i < cs.size(); ++i) idle.push_back(i);
    auto send_one = [&](std::size_t i) {
        const std::string &req = requests[next++ % requests.size()];
        if (write(cs[i].fd, req.data(), req.size()) != static_cast<ssize_t>(req.size())) {
            ++f.failed;
            if (dial(i)) idle.push_back(i);
            return;
        }
        cs[i].busy = true;
    };
    const long long begin = now_ns(), end = begin + static_cast<long long>(seconds * 1e9);
    const long long period = rate > 0 ? static_cast<long long>(1e9 / rate) : 0;
    long long due = begin;
    const double cpu0 = thread_cpu_s();
    epoll_event evs[256];
    for (long long now = begin; now < end; now = now_ns()) {
        if (rate <= 0) {
            while (!idle.empty()) send_one(idle.back()), idle.pop_back();
        } else {
            if (due < now - 1000000000LL) { // a second behind: what is missed stays missed
                f.dropped += static_cast<std::uint64_t>((now - due) / period);
                due = now;
            }
            while (due <= now && !idle.empty()) {
                const std::size_t i = idle.back();
                idle.pop_back();
                send_one(i);
                due += period;
            }
        }
        int wait_ms = 100;
        if (rate > 0 && !idle.empty()) wait_ms = static_cast<int>(std::clamp((due - now + 999999) / 1000000, 0LL, 100LL));
        const int n = epoll_wait(ep, evs, 256, wait_ms);
        for (int k = 0; k < n; ++k) {
            const std::size_t i = static_cast<std::size_t>(evs[k].data.u64);
            Conn &c = cs[i];
            char buf[8192];
            const ssize_t r = read(c.fd, buf, sizeof buf);
            if (r < 0 && (errno == EAGAIN || errno == EINTR)) continue;
            if (r <= 0) { // closed: a probe in flight is lost
                if (c.busy) ++f.failed;
                if (dial(i)) idle.push_back(i);
                continue;
            }
            c.in.append(buf, static_cast<std::size_t>(r));
            int status = 0;
            std::string body;
            const std::size_t used = parse_answer(c.in, false, status, body);
            if (used == 0) continue;
            c.in.erase(0, used);
            ++(status == 200 && body.find("probe_success 1") != std::string::npos ? f.ok : f.failed);
            c.busy = false;
            idle.push_back(i);
        }
    }
    f.seconds = (now_ns() - begin) / 1e9;
    f.cpu_s = thread_cpu_s() - cpu0;
    for (auto &c : cs)
        if (c.fd >= 0) close(c.fd);
    close(ep);
    return f;
}

double runnable_seconds(const std::string &path) {
    std::vector<std::string> files;
    if (path == "thread-self") {
        files.push_back("/proc/thread-self/schedstat");
    } else if (DIR *d = opendir(("/proc/" + path + "/task").c_str())) {
        while (const dirent *e = readdir(d))
            if (e->d_name[0] != '.') files.push_back("/proc/" + path + "/task/" + e->d_name + "/schedstat");
        closedir(d);
    }
    double most = -1;
    for (const auto &f : files) {
        std::ifstream in(f);
        unsigned long long exec = 0, delay = 0;
        if (in >> exec >> delay) most = std::max(most, (exec + delay) / 1e9);
    }
    return most;
}

// ---- GET

std::string http_get(int port, const std::string &path, int timeout_ms, int *status_out) {
    if (status_out) *status_out = 0;
    const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    timeval tv{timeout_ms / 1000, (timeout_ms % 1000) * 1000};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    sockaddr_in a = loopback(port);
    const std::string req =
        "GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1:" + std::to_string(port) + "\r\nConnection: close\r\n\r\n";
    std::string in, body;
    int status = 0;
    bool complete = false;
    if (connect(fd, reinterpret_cast<sockaddr *>(&a), sizeof a) == 0 &&
        write(fd, req.data(), req.size()) == static_cast<ssize_t>(req.size())) {
        const long long end = now_ns() + timeout_ms * 1000000LL;
        char buf[65536];
        while (now_ns() < end && in.size() < (512u << 20)) {
            const ssize_t r = read(fd, buf, sizeof buf);
            if (r < 0 && errno == EINTR) continue;
            if (r <= 0) {
                complete = parse_answer(in, true, status, body) > 0;
                break;
            }
            in.append(buf, static_cast<std::size_t>(r));
            // Whole before the close? (Content-Length reached, or the last chunk in.)
            const std::size_t head = in.find("\r\n\r\n");
            if (head != std::string::npos && (in.size() > head + 4) &&
                (in.compare(in.size() - 5, 5, "0\r\n\r\n") == 0 || in.find("ontent-Length") < head ||
                 in.find("ontent-length") < head) &&
                parse_answer(in, false, status, body) > 0) {
                complete = true;
                break;
            }
        }
    }
    close(fd);
    if (status_out) *status_out = status;
    return complete && status == 200 ? body : std::string();
}

} // namespace fanout
