// Resolver: getaddrinfo() off the loop. It blocks, so it runs in a thread of its own, which sends its answer over
// a socketpair the loop watches; if the Resolver is gone by then, the send fails and the thread just ends.
#pragma once

#include <functional>
#include <memory>
#include <netinet/in.h>
#include <string>
#include <sys/socket.h>
#include <vector>

#include "base/unique_fd.h"
#include "event/loop.h"
#include "event/source.h"

namespace watchd::probe {

struct Address {
    sockaddr_storage addr{};
    socklen_t len = 0;
};

class Resolver {
public:
    // The addresses (at most kMax, in getaddrinfo's order), or why there are none.
    static constexpr std::size_t kMax = 8;
    using Done = std::function<void(std::vector<Address> addresses, std::string error)>;

    // Starts resolving host:port for `socktype` (SOCK_STREAM, SOCK_DGRAM); `done` runs once from the loop. Fails
    // when no socketpair, source or thread can be had.
    static base::Result<std::unique_ptr<Resolver>> start(event::Loop &loop, const std::string &host, std::uint16_t port,
                                                         int socktype, Done done);
    ~Resolver() = default;

private:
    Resolver() = default;
    void answered();

    std::string host_;
    Done done_;
    base::UniqueFd fd_;
    std::unique_ptr<event::IoSource> source_; // after fd_: disabled before it is closed
};

// A numeric address as is (IPv4, or IPv6 with or without brackets); false for a host name.
bool numeric_address(const std::string &host, std::uint16_t port, Address &out);
// "10.0.0.1", "::1".
std::string address_text(const Address &a);

} // namespace watchd::probe
