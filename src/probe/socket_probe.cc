// tcp, tls and udp probes: resolve (a host name off the loop: resolver.h), connect, and for udp a datagram
// out and a reply (or a refusal) back, all bounded by the check's timeout. See probe.h for what counts as up.
#include <cerrno>
#include <cstring>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "base/unique_fd.h"
#include "event/source.h"
#include "probe/probe.h"
#include "probe/resolver.h"
#include "event/deadlines.h"
#include "event/poll_set.h"
#include "net/tls_client.h"

namespace watchd::probe {

namespace {

class SocketProbe final : public Probe, private event::PollSet::Client {
public:
    SocketProbe(event::Loop &loop, event::PollSet &poll, event::Deadlines &timeouts, const model::CheckSpec &spec,
                Done done)
        : loop_(loop), poll_(poll), timeouts_(timeouts), udp_(spec.protocol == "udp"), tls_(spec.protocol == "tls"), host_(spec.address),
          port_(spec.port), payload_(spec.payload), timeout_(spec.timeout),
          server_name_(spec.server_name.empty() ? spec.address : spec.server_name), verify_(spec.tls_verify),
          cert_warning_(spec.cert_warning), done_(std::move(done)) {}
    ~SocketProbe() override {
        poll_.forget(slot_);
        timeouts_.cancel(timeout_id_);
    }

    bool begin() {
        started_ = base::now_monotonic();
        timeout_id_ = timeouts_.add(started_ + timeout_, [this] {
            timeout_id_ = 0;
            // udp: no reply and no refusal within the timeout counts as up (see probe.h)
            if (udp_ && connected_) return finish_with(true, "");
            finish_with(false, "timed out after " + base::format_duration(timeout_));
        });
        Address a;
        if (numeric_address(host_, port_, a)) {
            connect_to(a.addr, a.len);
            return true;
        }
        auto r = Resolver::start(loop_, host_, port_, udp_ ? SOCK_DGRAM : SOCK_STREAM,
                                 [this](std::vector<Address> found, std::string error) {
                                     if (found.empty()) return finish_with(false, std::move(error));
                                     connect_to(found.front().addr, found.front().len);
                                 });
        if (!r) finish_with(false, "cannot resolve " + host_ + ": " + r.error().message());
        else resolver_ = std::move(*r);
        return true;
    }

private:
    void connect_to(const sockaddr_storage &addr, socklen_t len) {
        const int fd = ::socket(addr.ss_family, (udp_ ? SOCK_DGRAM : SOCK_STREAM) | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (fd < 0) return finish_with(false, std::string("cannot open a socket: ") + std::strerror(errno));
        sock_ = base::UniqueFd(fd);
        const int r = ::connect(fd, reinterpret_cast<const sockaddr *>(&addr), len);
        if (r < 0 && errno != EINPROGRESS) return finish_with(false, std::strerror(errno));
        if (udp_) {
            connected_ = true;
            if (::send(fd, payload_.data(), payload_.size(), MSG_NOSIGNAL) < 0)
                return finish_with(false, std::string("cannot send: ") + std::strerror(errno));
            return watch(event::io::kReadable);
        }
        if (r == 0) return connected(false);
        watch(event::io::kWritable);
    }

    void watch(std::uint32_t events) {
        if (auto ok = poll_.wait(sock_.get(), events, this, slot_); !ok)
            finish_with(false, "cannot watch the socket: " + ok.error().message());
    }

    // tcp: connected is up; tls: the handshake comes next. `now`: from the poll (see finish_with).
    void connected(bool now) {
        if (!tls_) return finish_with(true, "", {}, now);
        poll_.forget(slot_); // the handshake watches the socket from now on
        auto h = net::TlsHandshake::start(loop_, std::move(sock_), server_name_, verify_, [this](net::TlsResult r) {
            finish_with(r.ok, std::move(r.error), r.ok ? expiry_warning(r.cert_expiry, cert_warning_) : std::string());
        });
        if (!h) return finish_with(false, "cannot start TLS: " + h.error().message());
        handshake_ = std::move(*h);
    }

    // From the poll (which its callers may destroy this probe from: see event/poll_set.h): told at once.
    void ready(std::uint32_t) override {
        if (finished_) return;
        if (udp_) {
            char buf[512];
            const ssize_t n = ::recv(sock_.get(), buf, sizeof buf, 0);
            if (n >= 0) return finish_with(true, "", {}, true);
            if (errno == EAGAIN || errno == EINTR) return watch(event::io::kReadable);
            if (errno == ECONNREFUSED) return finish_with(false, "refused (ICMP port unreachable)", {}, true);
            return finish_with(false, std::strerror(errno), {}, true);
        }
        int err = 0;
        socklen_t len = sizeof err;
        if (::getsockopt(sock_.get(), SOL_SOCKET, SO_ERROR, &err, &len) < 0) err = errno;
        if (err == 0) return connected(true);
        finish_with(false, std::strerror(err), {}, true);
    }

    // The result is told at once when `now` (from the poll's dispatch, where the caller may do anything), else on
    // the next loop iteration: never inside start(), and never inside the callback of a source this probe owns.
    void finish_with(bool ok, std::string error, std::string warning = {}, bool now = false) {
        if (finished_) return;
        finished_ = true;
        result_ = {ok, base::now_monotonic() - started_, std::move(error), std::move(warning)};
        if (!result_.error.empty()) result_.error[0] = static_cast<char>(std::tolower(result_.error[0]));
        poll_.forget(slot_);
        timeouts_.cancel(std::exchange(timeout_id_, 0));
        if (now) return report();
        if (!finish_) {
            auto t = event::Timer::create(loop_, [this] { report(); });
            if (!t) return report(); // no memory for a timer: the caller copes with a result from here
            finish_ = std::move(*t);
        }
        finish_->arm(1);
    }

    void report() {
        resolver_.reset();
        handshake_.reset();
        sock_ = {};
        if (done_) std::exchange(done_, nullptr)(std::move(result_));
    }

    event::Loop &loop_;
    event::PollSet &poll_;
    event::PollSet::Slot slot_;
    event::Deadlines &timeouts_;
    event::Deadlines::Id timeout_id_ = 0;
    const bool udp_;
    const bool tls_;
    const std::string host_;
    const std::uint16_t port_;
    const std::string payload_;
    const base::Usec timeout_;
    const std::string server_name_;
    const bool verify_;
    const base::Usec cert_warning_;
    Done done_;
    base::Usec started_ = 0;
    bool connected_ = false;
    bool finished_ = false;
    Result result_;
    base::UniqueFd sock_;
    // Sources last: destroyed first.
    std::unique_ptr<Resolver> resolver_;
    std::unique_ptr<net::TlsHandshake> handshake_;
    std::unique_ptr<event::Timer> finish_;
};

} // namespace

base::Result<std::unique_ptr<Probe>> start_socket_probe(event::Loop &loop, event::PollSet &poll,
                                                        event::Deadlines &timeouts, const model::CheckSpec &spec,
                                                        Done done) {
    auto p = std::make_unique<SocketProbe>(loop, poll, timeouts, spec, std::move(done));
    if (!p->begin()) return base::unexpected(base::Error{std::make_error_code(std::errc::not_enough_memory),
                                                          "probe", "cannot add the probe's sources to the loop"});
    return std::unique_ptr<Probe>(std::move(p));
}

} // namespace watchd::probe
