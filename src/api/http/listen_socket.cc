// Resolving and binding http.listen addresses.
#include "api/http/listen_socket.h"

#include <arpa/inet.h>
#include <cerrno>
#include <cstring>
#include <netdb.h>
#include <netinet/in.h>

namespace watchd::api::http {

std::string SocketAddress::to_string() const {
    char host[INET6_ADDRSTRLEN] = "?";
    unsigned port = 0;
    if (storage.ss_family == AF_INET) {
        const auto *in = reinterpret_cast<const sockaddr_in *>(&storage);
        inet_ntop(AF_INET, &in->sin_addr, host, sizeof host);
        port = ntohs(in->sin_port);
        return std::string(host) + ":" + std::to_string(port);
    }
    if (storage.ss_family == AF_INET6) {
        const auto *in6 = reinterpret_cast<const sockaddr_in6 *>(&storage);
        inet_ntop(AF_INET6, &in6->sin6_addr, host, sizeof host);
        port = ntohs(in6->sin6_port);
    }
    return "[" + std::string(host) + "]:" + std::to_string(port);
}

base::Result<std::vector<SocketAddress>> resolve_listen(const std::string &spec) {
    const std::size_t colon = spec.rfind(':');
    if (colon == std::string::npos || colon == 0)
        return base::unexpected(base::Error{std::make_error_code(std::errc::invalid_argument), spec,
                                            "expected host:port"});
    std::string host = spec.substr(0, colon);
    const std::string port = spec.substr(colon + 1);
    // getaddrinfo takes "99999" and wraps it to 34463: the range is checked here.
    if (port.empty() || port.size() > 5 || port.find_first_not_of("0123456789") != std::string::npos ||
        std::stoul(port) > 65535)
        return base::unexpected(base::Error{std::make_error_code(std::errc::invalid_argument), spec,
                                            "the port must be 0..65535"});
    if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
    addrinfo *res = nullptr;
    if (const int r = getaddrinfo(host.c_str(), port.c_str(), &hints, &res); r != 0) {
        const std::error_code code = r == EAI_SYSTEM ? std::error_code(errno, std::generic_category())
                                                     : std::make_error_code(std::errc::invalid_argument);
        return base::unexpected(base::Error{code, spec, gai_strerror(r)});
    }
    std::vector<SocketAddress> out;
    for (const addrinfo *ai = res; ai; ai = ai->ai_next) {
        if ((ai->ai_family != AF_INET && ai->ai_family != AF_INET6) || ai->ai_addrlen > sizeof(sockaddr_storage))
            continue;
        SocketAddress a;
        std::memcpy(&a.storage, ai->ai_addr, ai->ai_addrlen);
        a.length = ai->ai_addrlen;
        bool dup = false; // getaddrinfo may name one address twice (e.g. from /etc/hosts)
        for (const auto &b : out)
            dup = dup || (b.length == a.length && std::memcmp(&b.storage, &a.storage, a.length) == 0);
        if (!dup) out.push_back(a);
    }
    freeaddrinfo(res);
    if (out.empty())
        return base::unexpected(base::Error{std::make_error_code(std::errc::address_not_available), spec,
                                            "no IPv4 or IPv6 address"});
    return out;
}

base::Result<base::UniqueFd> bind_listen(const SocketAddress &a) {
    const int family = a.storage.ss_family;
    base::UniqueFd fd(::socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
    if (!fd) return base::unexpected(base::errno_error(errno, "socket"));
    const int one = 1;
    ::setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one); // a restart need not wait for TIME_WAIT
    if (family == AF_INET6) ::setsockopt(fd.get(), IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
    if (::bind(fd.get(), reinterpret_cast<const sockaddr *>(&a.storage), a.length) != 0)
        return base::unexpected(base::errno_error(errno, "bind"));
    if (::listen(fd.get(), SOMAXCONN) != 0) return base::unexpected(base::errno_error(errno, "listen"));
    return fd;
}

SocketAddress local_address(int fd) {
    SocketAddress a;
    a.length = sizeof a.storage;
    if (::getsockname(fd, reinterpret_cast<sockaddr *>(&a.storage), &a.length) != 0) a.length = 0;
    return a;
}

} // namespace watchd::api::http
