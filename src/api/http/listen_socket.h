// Listening sockets for http.listen: "host:port", "IPv4:port" or "[IPv6]:port" resolved to addresses, each bound
// to a non-blocking TCP socket of its own (IPv6 ones IPv6-only, so that "localhost" may bind 127.0.0.1 and ::1).
#pragma once

#include <string>
#include <sys/socket.h>
#include <vector>

#include "base/result.h"
#include "base/unique_fd.h"

namespace watchd::api::http {

struct SocketAddress {
    sockaddr_storage storage{};
    socklen_t length = 0;
    // "127.0.0.1:8421", "[::1]:8421"
    std::string to_string() const;
};

// The addresses of a listen spec. A host name is resolved here (getaddrinfo: this may wait on DNS; numeric
// addresses never do), to every address it has. Port 0 (tests) means any free port. Errors name the spec.
base::Result<std::vector<SocketAddress>> resolve_listen(const std::string &spec);

// A socket bound to `a` and listening (SO_REUSEADDR, non-blocking, close-on-exec).
base::Result<base::UniqueFd> bind_listen(const SocketAddress &a);

// The address a socket is bound to (the real port after binding port 0).
SocketAddress local_address(int fd);

} // namespace watchd::api::http
