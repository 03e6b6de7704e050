// What the bench programs share: the monotonic clock, loopback addresses and free ports, CPU pinning, and starting
// and stopping the servers under test, their CPU time.
#pragma once

#include <arpa/inet.h>
#include <csignal>
#include <cstdio>
#include <cstdint>
#include <ctime>
#include <fcntl.h>
#include <fstream>
#include <iterator>
#include <netinet/in.h>
#include <sched.h>
#include <string>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
#include <vector>

namespace bench_util {

// CLOCK_MONOTONIC in nanoseconds.
inline long long now_ns() {
    timespec ts{};
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

// 127.0.0.1:port.
inline sockaddr_in loopback(int port) {
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<std::uint16_t>(port));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    return a;
}

// A port free on 127.0.0.1 for `type` (SOCK_STREAM or SOCK_DGRAM) now: bound to port 0, read, closed.
inline int free_port(int type = SOCK_STREAM) {
    const int fd = socket(AF_INET, type | SOCK_CLOEXEC, 0);
    sockaddr_in a = loopback(0);
    socklen_t len = sizeof a;
    bind(fd, reinterpret_cast<sockaddr *>(&a), sizeof a);
    getsockname(fd, reinterpret_cast<sockaddr *>(&a), &len);
    close(fd);
    return ntohs(a.sin_port);
}

// The calling thread (or a child before exec) onto one CPU; -1: leave it.
inline void pin_to(int cpu) {
    if (cpu < 0) return;
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    sched_setaffinity(0, sizeof set, &set);
}

// A server under test: argv[0] (a path) run in `dir`, stdout and stderr to `log`, stdin from /dev/null, pinned to
// `cpu` (-1: anywhere).
inline pid_t spawn(const std::vector<std::string> &argv, const std::string &log, const std::string &dir, int cpu = -1) {
    const pid_t pid = fork();
    if (pid != 0) return pid;
    pin_to(cpu);
    const int lf = open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    dup2(lf, 1);
    dup2(lf, 2);
    const int null = open("/dev/null", O_RDONLY | O_CLOEXEC);
    dup2(null, 0);
    if (chdir(dir.c_str()) != 0) _exit(127);
    std::vector<char *> args;
    for (const auto &a : argv) args.push_back(const_cast<char *>(a.c_str()));
    args.push_back(nullptr);
    execv(args[0], args.data());
    _exit(127);
}

// SIGTERM, 5 s to exit, then SIGKILL; reaped either way. False when it had to be killed.
inline bool stop(pid_t pid) {
    if (pid <= 0) return true;
    kill(pid, SIGTERM);
    int status = 0;
    for (int i = 0; i < 100 && waitpid(pid, &status, WNOHANG) == 0; ++i) usleep(50000);
    if (waitpid(pid, &status, WNOHANG) != 0) return true;
    kill(pid, SIGKILL);
    waitpid(pid, &status, 0);
    return false;
}

// CPU time (user + system, all threads) `pid` has used so far, in seconds; -1 when it cannot be read.
inline double cpu_seconds(pid_t pid) {
    std::ifstream f("/proc/" + std::to_string(pid) + "/stat");
    std::string stat((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
    const std::size_t paren = stat.rfind(')'); // the command name may hold spaces
    unsigned long long utime = 0, stime = 0;
    if (paren == std::string::npos ||
        std::sscanf(stat.c_str() + paren + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &utime,
                    &stime) != 2)
        return -1;
    return static_cast<double>(utime + stime) / static_cast<double>(sysconf(_SC_CLK_TCK));
}

// Whether a child of ours still runs (not reaped, not a zombie waiting).
inline bool alive(pid_t pid) { return waitpid(pid, nullptr, WNOHANG) == 0; }

} // namespace bench_util
