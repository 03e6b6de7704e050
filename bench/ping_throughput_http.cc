// bench/ping-throughput over HTTP: wrk (1 thread, 50 keep-alive connections) POSTing the ping to /api/, and the
// floor, a minimal libmicrohttpd server (one internal epoll thread, MHD_USE_TURBO) answering every request 200 with
// a fixed JSON body of the size of watchd's reply.
#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <poll.h>
#include <string>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ping_throughput.h"

namespace bench {

namespace {

constexpr int kConnections = 50;
constexpr const char *kPath = "/api/";
constexpr const char *kJson = "application/json; charset=utf-8"; // what watchd and patrol send
constexpr const char *kMarker = "PING-THROUGHPUT";                // the line our wrk script's done() writes

using bench_util::loopback;

// wrk's script: a static POST (no per-request Lua, so wrk stays as fast as without a script), and one line of
// figures from done(). wrk counts a status >= 400 in errors.status ("Non-2xx or 3xx responses"); a 3xx cannot
// come from POST /api/ (ask() checked the same request is answered 200 before any flood).
std::string wrk_script(const std::string &body) {
    std::string eq = "=";
    while (body.find("]" + eq + "]") != std::string::npos) eq += "="; // a Lua long bracket the body cannot close
    return "wrk.method = \"POST\"\n"
           "wrk.body = [" + eq + "[" + body + "]" + eq + "]\n"
           "wrk.headers[\"Content-Type\"] = \"application/json\"\n"
           "function done(summary, latency, requests)\n"
           "  local e = summary.errors\n"
           "  io.write(string.format(\"\\n" + std::string(kMarker) +
           " %d %d %d %d %d %d %d %d %d\\n\", summary.duration, summary.requests, e.status, e.connect, e.read,\n"
           "    e.write, e.timeout, latency:percentile(50), latency:percentile(99)))\n"
           "end\n";
}

// wrk for ceil(seconds) whole seconds (wrk's -d takes no fraction); its own figures, taken from the script's line.
// Bounded: wrk is killed (by its PID) if it outlives its duration by 10 s.
Result flood_http(int port, const std::string &request, double seconds) {
    Result r;
    const int whole = std::max(1, static_cast<int>(std::ceil(seconds - 1e-9)));
    char script[] = "/tmp/watchd-ping-wrk-XXXXXX.lua";
    const int sfd = mkstemps(script, 4);
    if (sfd < 0) {
        r.error = std::string("mkstemps: ") + std::strerror(errno);
        return r;
    }
    const std::string text = wrk_script(request);
    const bool written = write(sfd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
    close(sfd);
    int out[2];
    if (!written || pipe2(out, O_CLOEXEC) != 0) {
        unlink(script);
        r.error = "cannot write wrk's script";
        return r;
    }
    const std::string duration = std::to_string(whole) + "s", connections = std::to_string(kConnections);
    const std::string url = "http://127.0.0.1:" + std::to_string(port) + kPath;
    const long long spawned = now_ns();
    const pid_t pid = fork();
    if (pid == 0) {
        dup2(out[1], 1);
        const int null = open("/dev/null", O_WRONLY);
        dup2(null, 2);
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        execlp("wrk", "wrk", "-t1", ("-c" + connections).c_str(), ("-d" + duration).c_str(), "--latency", "-s",
               script, url.c_str(), static_cast<char *>(nullptr));
        _exit(127);
    }
    close(out[1]);
    std::string output;
    const long long deadline = spawned + (whole + 10) * 1000000000LL;
    bool killed = false;
    for (;;) {
        const long long left_ms = (deadline - now_ns()) / 1000000;
        if (left_ms <= 0) {
            kill(pid, SIGKILL);
            killed = true;
            break;
        }
        pollfd p{out[0], POLLIN, 0};
        if (poll(&p, 1, static_cast<int>(std::min(left_ms, 1000LL))) <= 0) continue;
        char buf[4096];
        const ssize_t n = read(out[0], buf, sizeof buf);
        if (n == 0) break;
        if (n > 0) output.append(buf, static_cast<std::size_t>(n));
        else if (errno != EINTR) break;
    }
    close(out[0]);
    int status = 0;
    waitpid(pid, &status, 0);
    const long long ended = now_ns();
    unlink(script);
    if (pid < 0 || killed || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        r.error = pid < 0                          ? "fork failed"
                  : killed                         ? "wrk did not end within its duration + 10 s; killed"
                  : WIFEXITED(status) && WEXITSTATUS(status) == 127 ? "wrk not found (apt-get install wrk)"
                                                   : "wrk failed";
        return r;
    }
    const std::size_t at = output.find(kMarker);
    unsigned long long duration_us = 0, requests = 0, non2xx = 0, connect = 0, rd = 0, wr = 0, timeout = 0;
    unsigned long long p50 = 0, p99 = 0;
    if (at == std::string::npos ||
        std::sscanf(output.c_str() + at + std::strlen(kMarker), "%llu %llu %llu %llu %llu %llu %llu %llu %llu",
                    &duration_us, &requests, &non2xx, &connect, &rd, &wr, &timeout, &p50, &p99) != 9 ||
        duration_us == 0) {
        r.error = "cannot read wrk's figures";
        return r;
    }
    // wrk counts a request when its response is complete: requests = answered; the errors are on top of that.
    r.sent = requests + timeout;
    r.replies = requests - std::min(requests, non2xx);
    r.lost = non2xx + timeout + rd + wr;
    r.seconds = duration_us / 1e6;
    // wrk reports as soon as its thread stops: its run is the last `duration` before it exited.
    r.end_ns = ended;
    r.start_ns = std::max(spawned, ended - static_cast<long long>(duration_us) * 1000);
    r.latency_p50_ms = p50 / 1e3;
    r.latency_p99_ms = p99 / 1e3;
    if (connect) r.error = "wrk: " + std::to_string(connect) + " connect errors";
    return r;
}

// The floor's server: every request, whatever its method and path, is answered 200 with `body`; a request body
// is read and dropped.
struct Echo {
    MHD_Response *response = nullptr;
};

MHD_Result echo_access(void *cls, MHD_Connection *c, const char *, const char *, const char *, const char *,
                       std::size_t *upload_data_size, void **req_cls) {
    if (!*req_cls) { // the headers: wait for the body
        *req_cls = cls;
        return MHD_YES;
    }
    if (*upload_data_size) {
        *upload_data_size = 0;
        return MHD_YES;
    }
    return MHD_queue_response(c, MHD_HTTP_OK, static_cast<Echo *>(cls)->response);
}

// A JSON object of exactly `size` bytes ending in a newline, as watchd's and patrol's bodies do.
std::string json_body(std::size_t size) {
    const std::string head = "{\"reply\":\"", tail = "\"}\n";
    if (size < head.size() + tail.size()) return std::string(size, '\n');
    return head + std::string(size - head.size() - tail.size(), 'x') + tail;
}

pid_t start_echo(int port, std::size_t reply_size) {
    const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    const int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    const sockaddr_in a = loopback(port);
    if (bind(fd, reinterpret_cast<const sockaddr *>(&a), sizeof a) != 0 || listen(fd, 1024) != 0) {
        close(fd);
        return -1;
    }
    // Bound and listening before the fork: the driver may connect at once, the backlog holds it until MHD runs.
    const pid_t pid = fork();
    if (pid != 0) {
        close(fd);
        return pid;
    }
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    std::string body = json_body(reply_size);
    Echo echo;
    echo.response = MHD_create_response_from_buffer(body.size(), body.data(), MHD_RESPMEM_PERSISTENT);
    MHD_add_response_header(echo.response, "Content-Type", kJson);
    MHD_Daemon *d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_TURBO, 0, nullptr,
                                     nullptr, &echo_access, &echo, MHD_OPTION_LISTEN_SOCKET, fd, MHD_OPTION_END);
    if (!d) _exit(1);
    for (;;) pause(); // SIGKILL from the driver
}

// One POST /api/ over a fresh connection ("Connection: close"), read to the end; the body when the status is 200.
std::string ask(int port, const std::string &request, int ms) {
    const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    const long long deadline = now_ns() + ms * 1000000LL;
    auto wait = [&](short events) {
        const long long left = (deadline - now_ns()) / 1000000;
        pollfd p{fd, events, 0};
        return left > 0 && poll(&p, 1, static_cast<int>(left)) > 0;
    };
    const sockaddr_in to = loopback(port);
    std::string out;
    if (connect(fd, reinterpret_cast<const sockaddr *>(&to), sizeof to) != 0) {
        int err = 0;
        socklen_t len = sizeof err;
        if (errno != EINPROGRESS || !wait(POLLOUT) || getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0 || err) {
            close(fd);
            return {};
        }
    }
    const std::string msg = std::string("POST ") + kPath + " HTTP/1.1\r\nHost: 127.0.0.1:" + std::to_string(port) +
                            "\r\nContent-Type: application/json\r\nContent-Length: " +
                            std::to_string(request.size()) + "\r\nConnection: close\r\n\r\n" + request;
    for (std::size_t sent = 0; sent < msg.size();) {
        const ssize_t n = send(fd, msg.data() + sent, msg.size() - sent, MSG_NOSIGNAL);
        if (n > 0) sent += static_cast<std::size_t>(n);
        else if (n < 0 && errno == EAGAIN && wait(POLLOUT)) continue;
        else {
            close(fd);
            return {};
        }
    }
    std::string in;
    for (;;) {
        char buf[4096];
        const ssize_t n = recv(fd, buf, sizeof buf, 0);
        if (n > 0) in.append(buf, static_cast<std::size_t>(n));
        else if (n == 0) break;
        else if (errno != EAGAIN || !wait(POLLIN)) {
            in.clear(); // a timeout: the reply may be cut
            break;
        }
    }
    close(fd);
    const std::size_t head_end = in.find("\r\n\r\n");
    if (head_end == std::string::npos || in.compare(0, 13, "HTTP/1.1 200 ") != 0) return {};
    std::string head = in.substr(0, head_end);
    for (char &c : head) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    std::string body = in.substr(head_end + 4); // "Connection: close": the body runs to the end
    if (head.find("\r\ntransfer-encoding: chunked") == std::string::npos) return body;
    std::string plain; // Go's net/http chunks a body it did not buffer whole (over 2 KiB)
    for (std::size_t at = 0;;) {
        const std::size_t eol = body.find("\r\n", at);
        if (eol == std::string::npos) return {};
        const std::size_t size = std::strtoul(body.c_str() + at, nullptr, 16);
        if (size == 0) return plain;
        if (eol + 2 + size > body.size()) return {};
        plain.append(body, eol + 2, size);
        at = eol + 2 + size + 2;
    }
}

} // namespace

const Transport &http_transport() {
    static const Transport t{"http", 3, "wrk -t1 -c50, POST /api/", "libmicrohttpd, 1 thread", flood_http,
                             start_echo, ask};
    return t;
}

} // namespace bench
