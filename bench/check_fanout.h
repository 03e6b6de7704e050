// bench/check-fanout: what the driver (check_fanout.cc) needs from its loopback side (check_fanout_net.cc): the
// listeners every check, probe and connect lands on, the floor (a bare epoll connect loop), the HTTP client that
// drives blackbox_exporter's /probe, and a small HTTP GET for /json.
#pragma once

#include <atomic>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "bench_util.h"

namespace fanout {

using bench_util::now_ns; // CLOCK_MONOTONIC
double thread_cpu_s();   // the calling thread's CPU time (user + system), seconds
using bench_util::pin_to;    // the calling thread onto one CPU; -1: leave it
using bench_util::free_port; // a free TCP port on 127.0.0.1

// How the listeners treat a connection: closed as soon as accepted (tcp), or its request read and answered
// "200 OK" with an empty body, then closed (http).
enum class Mode { Tcp, Http };

// `count` listening sockets on 127.0.0.1 (ports from a free range), served by one thread of their own (epoll).
// Each accepted connection is counted, and while recording, stamped (CLOCK_MONOTONIC, right after accept4) in its
// port's list: the arrival times on the wire that schedule jitter is computed from.
class Listeners {
public:
    ~Listeners() { stop(); }
    bool open(int count, std::string &error); // binds; false (and why) when not all ports could be had
    void start(int cpu);                      // the accept thread, pinned to `cpu`
    void stop();
    void set_mode(Mode m) { http_ = m == Mode::Http; }
    const std::vector<int> &ports() const { return ports_; }
    std::uint64_t accepted() const { return accepted_.load(std::memory_order_relaxed); }
    std::uint64_t answered() const { return answered_.load(std::memory_order_relaxed); } // http: 200s written
    double cpu_s() const { return cpu_ns_.load(std::memory_order_relaxed) / 1e9; } // the accept thread's CPU so far
    void record(bool on); // on: forgets earlier stamps, then stamps every accept until off
    std::vector<std::vector<long long>> stamps(); // per port (the order of ports()), after record(false)

private:
    void run();
    std::vector<int> ports_, fds_;
    std::vector<int> index_ = std::vector<int>(65536, -1); // port -> its index in ports_
    int epoll_ = -1;
    std::atomic<bool> stop_{false}, http_{false}, recording_{false};
    std::atomic<std::uint64_t> accepted_{0}, answered_{0};
    std::atomic<long long> cpu_ns_{0};
    std::mutex m_;
    std::vector<std::vector<long long>> stamps_;
    std::thread thread_;
};

// What a flood of connects or probes measured.
struct Flood {
    double seconds = 0;
    std::uint64_t ok = 0, failed = 0;
    std::uint64_t dropped = 0; // paced: requests not sent, every connection busy a second past their time
    double cpu_s = -1;      // the client's own CPU (the floor: this is the figure)
    double runnable_s = -1; // its CPU plus its time waiting for a CPU (run queue): a full core's demand is the window
    std::string error;
    double rate() const { return seconds > 0 ? ok / seconds : 0; }
};

// The floor: one thread on `cpu`, an epoll loop keeping `inflight` non-blocking connects to the ports (round
// robin) open for `seconds`: socket, connect, EPOLLOUT, SO_ERROR, close (http: then a GET / and its whole answer,
// as a check of the http kind would).
Flood connect_floor(const std::vector<int> &ports, Mode mode, double seconds, int inflight, int cpu);

// blackbox_exporter's client: `conns` keep-alive connections to 127.0.0.1:port asking
// GET /probe?module=<module>&target=<targets[i % n]> for `seconds`, as fast as answers come (rate 0), or at `rate`
// requests a second (paced: each request goes at its time, on an idle connection). A probe counts ok when the answer
// is 200 with "probe_success 1". Runs on the calling thread (pin it first).
Flood probe_flood(int port, const std::string &module, const std::vector<std::string> &targets, double seconds,
                  int conns, double rate);

// Seconds a thread has run plus waited to run (/proc/.../schedstat: sum_exec_runtime + run_delay): of the calling
// thread for "thread-self", else of the busiest thread of process PID (its threads' totals so far: compare two
// readings of a single-threaded process); -1 when not readable.
double runnable_seconds(const std::string &path);

// One blocking GET of 127.0.0.1:port<path> (Connection: close), bounded by `timeout_ms`: the body of a 200
// answer; empty (and `status` 0 or the status) otherwise.
std::string http_get(int port, const std::string &path, int timeout_ms, int *status = nullptr);

} // namespace fanout
