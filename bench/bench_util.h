// What the bench programs share: the monotonic clock and loopback addresses.
#pragma once

#include <arpa/inet.h>
#include <cstdint>
#include <ctime>
#include <netinet/in.h>

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

} // namespace bench_util
