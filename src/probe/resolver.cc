// getaddrinfo() in a thread, answered over a socketpair (see resolver.h).
#include "probe/resolver.h"

#include <arpa/inet.h>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <netdb.h>
#include <thread>
#include <unistd.h>

namespace watchd::probe {

namespace {
// What the thread sends back, in one datagram.
struct Answer {
    Address addresses[Resolver::kMax];
    std::uint32_t count = 0;
    char error[200] = {};
};
} // namespace

bool numeric_address(const std::string &host, std::uint16_t port, Address &out) {
    std::string h = host;
    if (h.size() > 2 && h.front() == '[' && h.back() == ']') h = h.substr(1, h.size() - 2);
    auto *v4 = reinterpret_cast<sockaddr_in *>(&out.addr);
    if (inet_pton(AF_INET, h.c_str(), &v4->sin_addr) == 1) {
        v4->sin_family = AF_INET;
        v4->sin_port = htons(port);
        out.len = sizeof *v4;
        return true;
    }
    auto *v6 = reinterpret_cast<sockaddr_in6 *>(&out.addr);
    if (inet_pton(AF_INET6, h.c_str(), &v6->sin6_addr) == 1) {
        v6->sin6_family = AF_INET6;
        v6->sin6_port = htons(port);
        out.len = sizeof *v6;
        return true;
    }
    return false;
}

std::string address_text(const Address &a) {
    char buf[INET6_ADDRSTRLEN] = {};
    if (a.addr.ss_family == AF_INET)
        inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in *>(&a.addr)->sin_addr, buf, sizeof buf);
    else if (a.addr.ss_family == AF_INET6)
        inet_ntop(AF_INET6, &reinterpret_cast<const sockaddr_in6 *>(&a.addr)->sin6_addr, buf, sizeof buf);
    return buf;
}

base::Result<std::unique_ptr<Resolver>> Resolver::start(event::Loop &loop, const std::string &host, std::uint16_t port,
                                                        int socktype, Done done) {
    std::unique_ptr<Resolver> r(new Resolver());
    r->host_ = host;
    r->done_ = std::move(done);
    int sv[2];
    if (::socketpair(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0, sv) < 0)
        return base::unexpected(base::errno_error(errno, "socketpair"));
    r->fd_ = base::UniqueFd(sv[0]);
    base::UniqueFd theirs(sv[1]);
    auto src = event::IoSource::create(loop, sv[0], event::io::kReadable, [p = r.get()](std::uint32_t) { p->answered(); });
    if (!src) return base::unexpected(src.error());
    r->source_ = std::move(*src);
    try {
        std::thread([host, port, socktype, fd = theirs.release()] {
            auto a = std::make_unique<Answer>();
            addrinfo hints{};
            hints.ai_family = AF_UNSPEC;
            hints.ai_socktype = socktype;
            addrinfo *res = nullptr;
            const int e = ::getaddrinfo(host.c_str(), std::to_string(port).c_str(), &hints, &res);
            if (e != 0 || !res) {
                std::snprintf(a->error, sizeof a->error, "cannot resolve %s: %s", host.c_str(),
                              e ? ::gai_strerror(e) : "no address");
            }
            for (addrinfo *i = res; i && a->count < kMax; i = i->ai_next) {
                std::memcpy(&a->addresses[a->count].addr, i->ai_addr, i->ai_addrlen);
                a->addresses[a->count++].len = i->ai_addrlen;
            }
            if (res) ::freeaddrinfo(res);
            (void)::send(fd, a.get(), sizeof *a, MSG_NOSIGNAL);
            ::close(fd);
        }).detach();
    } catch (...) {
        return base::unexpected(base::Error{std::make_error_code(std::errc::resource_unavailable_try_again), "resolve",
                                            "no thread available"});
    }
    return r;
}

void Resolver::answered() {
    auto a = std::make_unique<Answer>();
    const ssize_t n = ::recv(fd_.get(), a.get(), sizeof *a, 0);
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) return;
    source_->disable();
    std::vector<Address> out;
    std::string error;
    if (n != static_cast<ssize_t>(sizeof *a)) error = "cannot resolve " + host_;
    else if (a->count == 0) error = a->error;
    else out.assign(a->addresses, a->addresses + std::min<std::uint32_t>(a->count, kMax));
    if (done_) std::exchange(done_, nullptr)(std::move(out), std::move(error));
}

} // namespace watchd::probe
