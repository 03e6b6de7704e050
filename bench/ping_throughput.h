// bench/ping-throughput: what the driver (ping_throughput.cc) needs from one transport of patrol's API: UDP
// (ping_throughput_udp.cc) and HTTP (ping_throughput_http.cc).
#pragma once

#include <string>
#include <sys/types.h>

#include "bench_util.h"

namespace bench {

using bench_util::now_ns; // CLOCK_MONOTONIC

// What one flood measured: replies per second is the figure.
struct Result {
    double seconds = 0;
    unsigned long long sent = 0, replies = 0, lost = 0; // replies: successful ones only (HTTP: 2xx)
    long long start_ns = 0, end_ns = 0;                 // CLOCK_MONOTONIC
    double latency_p50_ms = -1, latency_p99_ms = -1;    // per request, when the client measures it (wrk)
    std::string error;                                  // the client could not run (wrk missing, ...)
    double server_cpu_s = -1; // CPU (user + system, all threads) the server used meanwhile; the driver measures it
    double rate() const { return seconds > 0 ? replies / seconds : 0; }
    // CPU per reply: on a shared machine a steadier figure than the rate, which follows what else runs.
    double cpu_us_per_reply() const { return server_cpu_s >= 0 && replies ? server_cpu_s * 1e6 / replies : -1; }
};

// `request` is always patrol's API_Request as JSON ({"id":..,"group":"app","ping":true,"pid":..}); each transport
// carries it as patrol's clients do: UDP as one datagram, HTTP as the body of POST /api/ (a GET /api/?... only
// reads a unit: patrol takes no ping, pid or keyvalue from a query string).
struct Transport {
    const char *name;       // "udp", "http": also the watchd keepalive mode and config section ("udp": {"listen"})
    int patrol_keepalive;   // the same mode in patrol's numbering (APP_KEEPALIVE_HTTP 3, APP_KEEPALIVE_UDP 4)
    const char *client;     // what floods, for the table
    const char *floor;      // what the floor is, for the table
    // Sends `request` to 127.0.0.1:port for `seconds` as fast as replies come back (a bounded number in flight).
    Result (*flood)(int port, const std::string &request, double seconds);
    // The floor: a process of its own answering every request on 127.0.0.1:port with `reply_size` bytes and doing
    // nothing else. Returns its PID (kill it with SIGKILL), -1 when the port cannot be bound.
    pid_t (*start_echo)(int port, std::size_t reply_size);
    // One request and its reply; empty when no successful reply (HTTP: 200) came within `ms`.
    std::string (*ask)(int port, const std::string &request, int ms);
};

const Transport &udp_transport();
const Transport &http_transport();

// A free port on 127.0.0.1 (found for UDP; free for TCP too, in practice).
inline int free_port() { return bench_util::free_port(SOCK_DGRAM); }

} // namespace bench
