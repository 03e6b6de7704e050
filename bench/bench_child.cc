// The crashing child of bench/restart-latency: reports "S <ns> <pid>" when it starts and "E <ns> <pid>" right
// before it exits 1, as datagrams to $BENCH_SOCK. CLOCK_MONOTONIC, so the driver can subtract across processes.
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

static long long now_ns() {
    timespec ts{};
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void report(int fd, const sockaddr_un &a, char kind) {
    char msg[64];
    int n = std::snprintf(msg, sizeof msg, "%c %lld %d", kind, now_ns(), getpid());
    sendto(fd, msg, n, 0, reinterpret_cast<const sockaddr *>(&a), sizeof a);
}

int main() {
    const char *path = std::getenv("BENCH_SOCK");
    if (!path || std::strlen(path) >= sizeof(sockaddr_un::sun_path)) return 2;
    sockaddr_un a{};
    a.sun_family = AF_UNIX;
    std::strcpy(a.sun_path, path);
    int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    report(fd, a, 'S');
    if (const char *live = std::getenv("BENCH_LIVE_MS")) usleep(static_cast<useconds_t>(std::atoi(live)) * 1000);
    report(fd, a, 'E');
    _exit(1);
}
