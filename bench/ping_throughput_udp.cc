// bench/ping-throughput over UDP: a one-thread flooder with sendmmsg/recvmmsg, and the floor, a bare
// recvmmsg/sendmmsg echo loop.
#include <algorithm>
#include <ctime>
#include <netinet/in.h>
#include <poll.h>
#include <string>
#include <sys/socket.h>
#include <unistd.h>
#include <vector>

#include "ping_throughput.h"

namespace bench {

namespace {

constexpr unsigned kBatch = 64;     // datagrams per sendmmsg/recvmmsg
constexpr unsigned kWindow = 256;   // pings in flight at most: the flooder never outruns the server's buffer
constexpr std::size_t kSlot = 4096; // bytes kept of a reply

using bench_util::loopback;

int udp_socket(bool nonblock) {
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC | (nonblock ? SOCK_NONBLOCK : 0), 0);
    int size = 4 << 20;
    if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof size) != 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
    return fd;
}

// Pings 127.0.0.1:port with `request` for `seconds`, at most kWindow in flight; a window with no reply for 50 ms is
// counted lost and sent again. One thread, batches both ways.
Result flood_udp(int port, const std::string &request, double seconds) {
    const int fd = udp_socket(true);
    const sockaddr_in to = loopback(port);
    connect(fd, reinterpret_cast<const sockaddr *>(&to), sizeof to);
    static char buf[kBatch][kSlot];
    std::vector<mmsghdr> out(kBatch), in(kBatch);
    std::vector<iovec> out_iov(kBatch, iovec{const_cast<char *>(request.data()), request.size()}), in_iov(kBatch);
    for (unsigned i = 0; i < kBatch; ++i) {
        out[i].msg_hdr.msg_iov = &out_iov[i];
        out[i].msg_hdr.msg_iovlen = 1;
        in_iov[i] = iovec{buf[i], kSlot};
        in[i].msg_hdr.msg_iov = &in_iov[i];
        in[i].msg_hdr.msg_iovlen = 1;
    }
    Result r;
    unsigned in_flight = 0;
    r.start_ns = now_ns();
    const long long end = r.start_ns + static_cast<long long>(seconds * 1e9);
    long long progress = r.start_ns, now = r.start_ns;
    while ((now = now_ns()) < end) {
        if (const unsigned want = std::min(kBatch, kWindow - in_flight)) {
            const int n = sendmmsg(fd, out.data(), want, MSG_DONTWAIT);
            if (n > 0) r.sent += n, in_flight += n;
        }
        const int n = recvmmsg(fd, in.data(), kBatch, MSG_DONTWAIT, nullptr);
        if (n > 0) {
            r.replies += n;
            in_flight -= std::min<unsigned>(in_flight, n);
            progress = now;
            continue;
        }
        if (in_flight < kWindow) continue;
        pollfd p{fd, POLLIN, 0};
        poll(&p, 1, 1);
        if (now - progress > 50000000LL) { // nothing for 50 ms: what is in flight is gone
            r.lost += in_flight;
            in_flight = 0;
            progress = now;
        }
    }
    r.end_ns = now;
    r.seconds = (r.end_ns - r.start_ns) / 1e9;
    close(fd);
    return r;
}

// The floor: a process that answers every datagram with `reply_size` bytes, in batches, and does nothing else.
pid_t start_echo(int port, std::size_t reply_size) {
    const int fd = udp_socket(false);
    const sockaddr_in a = loopback(port);
    if (bind(fd, reinterpret_cast<const sockaddr *>(&a), sizeof a) != 0) return -1;
    const pid_t pid = fork();
    if (pid != 0) {
        close(fd);
        return pid;
    }
    static char buf[kBatch][kSlot];
    std::string reply(reply_size, 'x');
    std::vector<mmsghdr> in(kBatch), out(kBatch);
    std::vector<iovec> in_iov(kBatch), out_iov(kBatch, iovec{reply.data(), reply.size()});
    std::vector<sockaddr_storage> from(kBatch);
    for (unsigned i = 0; i < kBatch; ++i) {
        in_iov[i] = iovec{buf[i], kSlot};
        in[i].msg_hdr.msg_iov = &in_iov[i];
        in[i].msg_hdr.msg_iovlen = 1;
        in[i].msg_hdr.msg_name = &from[i];
        out[i].msg_hdr.msg_iov = &out_iov[i];
        out[i].msg_hdr.msg_iovlen = 1;
        out[i].msg_hdr.msg_name = &from[i];
    }
    for (;;) {
        for (auto &m : in) m.msg_hdr.msg_namelen = sizeof(sockaddr_storage);
        const int n = recvmmsg(fd, in.data(), kBatch, MSG_WAITFORONE, nullptr);
        for (int i = 0; i < n; ++i) out[i].msg_hdr.msg_namelen = in[i].msg_hdr.msg_namelen;
        if (n > 0) sendmmsg(fd, out.data(), n, 0);
    }
}

// One request and its reply (empty when none came within `ms`); used to wait for a daemon to be ready.
std::string ask(int port, const std::string &request, int ms) {
    const int fd = udp_socket(false);
    const sockaddr_in to = loopback(port);
    timeval tv{0, ms * 1000};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    sendto(fd, request.data(), request.size(), 0, reinterpret_cast<const sockaddr *>(&to), sizeof to);
    char buf[kSlot];
    const ssize_t n = recv(fd, buf, sizeof buf, 0);
    close(fd);
    return n > 0 ? std::string(buf, static_cast<std::size_t>(n)) : std::string();
}

} // namespace

const Transport &udp_transport() {
    static const Transport t{"udp", 4, "one thread, sendmmsg/recvmmsg, 256 in flight", "recvmmsg/sendmmsg echo",
                             flood_udp, start_echo, ask};
    return t;
}

} // namespace bench
