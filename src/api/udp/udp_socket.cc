// Binding udp.listen's addresses: getaddrinfo (numeric addresses need no lookup), one non-blocking socket each.
#include "api/udp/udp_socket.h"

#include <algorithm>
#include <arpa/inet.h>
#include <cerrno>
#include <cstring>
#include <netdb.h>
#include <netinet/in.h>
#include <unistd.h>

namespace watchd::api::udp {

namespace {

std::string errno_text(const char *call, int err) { return std::string(call) + ": " + std::strerror(err); }

// A socket bound to `sa`; on failure its error text.
BoundSocket bind_one(const sockaddr *sa, socklen_t len, std::string &error) {
    base::UniqueFd fd(::socket(sa->sa_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
    if (!fd) {
        error = errno_text("socket", errno);
        return {};
    }
    if (sa->sa_family == AF_INET6) {
        const int one = 1;
        ::setsockopt(fd.get(), IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
    }
    // Room for a flood while watchd is busy elsewhere. FORCE lifts rmem_max's cap, root only; neither is fatal.
    const int size = kReceiveBuffer;
    if (::setsockopt(fd.get(), SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof size) != 0)
        ::setsockopt(fd.get(), SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
    if (::bind(fd.get(), sa, len) != 0) {
        error = errno_text("bind", errno);
        return {};
    }
    sockaddr_storage local{};
    socklen_t local_len = sizeof local;
    if (::getsockname(fd.get(), reinterpret_cast<sockaddr *>(&local), &local_len) != 0) {
        error = errno_text("getsockname", errno);
        return {};
    }
    return BoundSocket{std::move(fd), format_address(reinterpret_cast<sockaddr *>(&local), local_len)};
}

} // namespace

OpenedSockets open_udp_sockets(std::string_view address) {
    OpenedSockets out;
    const std::string shown(address);
    const std::size_t colon = address.rfind(':');
    if (colon == std::string_view::npos || colon == 0) {
        out.errors.push_back(shown + ": expected host:port or [address]:port");
        return out;
    }
    std::string host(address.substr(0, colon));
    const std::string port(address.substr(colon + 1));
    const bool bracketed = host.size() >= 2 && host.front() == '[' && host.back() == ']';
    if (bracketed) host = host.substr(1, host.size() - 2);
    addrinfo hints{};
    hints.ai_family = bracketed ? AF_INET6 : AF_UNSPEC;
    hints.ai_socktype = SOCK_DGRAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
    addrinfo *res = nullptr;
    if (const int r = ::getaddrinfo(host.c_str(), port.c_str(), &hints, &res); r != 0) {
        out.errors.push_back(shown + ": " + (r == EAI_SYSTEM ? std::strerror(errno) : ::gai_strerror(r)));
        return out;
    }
    std::vector<std::string> seen; // getaddrinfo may list one address twice (once per protocol)
    for (const addrinfo *ai = res; ai; ai = ai->ai_next) {
        if (ai->ai_family != AF_INET && ai->ai_family != AF_INET6) continue;
        const std::string shown_ai = format_address(ai->ai_addr, ai->ai_addrlen);
        if (std::find(seen.begin(), seen.end(), shown_ai) != seen.end()) continue;
        seen.push_back(shown_ai);
        std::string error;
        BoundSocket s = bind_one(ai->ai_addr, ai->ai_addrlen, error);
        if (s.fd) out.sockets.push_back(std::move(s));
        else out.errors.push_back(shown + (shown_ai == shown ? "" : " (" + shown_ai + ")") + ": " + error);
    }
    ::freeaddrinfo(res);
    return out;
}

std::string format_address(const sockaddr *sa, socklen_t len) {
    char text[INET6_ADDRSTRLEN] = "";
    if (sa->sa_family == AF_INET && len >= sizeof(sockaddr_in)) {
        const auto *a = reinterpret_cast<const sockaddr_in *>(sa);
        ::inet_ntop(AF_INET, &a->sin_addr, text, sizeof text);
        return std::string(text) + ":" + std::to_string(ntohs(a->sin_port));
    }
    if (sa->sa_family == AF_INET6 && len >= sizeof(sockaddr_in6)) {
        const auto *a = reinterpret_cast<const sockaddr_in6 *>(sa);
        ::inet_ntop(AF_INET6, &a->sin6_addr, text, sizeof text);
        return "[" + std::string(text) + "]:" + std::to_string(ntohs(a->sin6_port));
    }
    return "?";
}

} // namespace watchd::api::udp
