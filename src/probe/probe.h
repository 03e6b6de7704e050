// Probes: one look at a check's target, on the event loop, never blocking it. A probe knows nothing of units or
// the supervisor: it gets the check's spec and a completion callback (ARCHITECTURE.md: probes receive a context
// and a completion callback).
#pragma once

#include <algorithm>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <sys/types.h>
#include <sys/wait.h>
#include <vector>

#include "base/result.h"
#include "base/time.h"
#include "base/unique_fd.h"
#include "event/loop.h"
#include "model/unit_spec.h"
#include "event/deadlines.h"
#include "event/poll_set.h"
#include "event/source.h"
#include "net/curl_multi.h"

namespace watchd::probe {

struct Result {
    bool ok = false;
    base::Usec latency = 0; // µs from the start to the result
    std::string error;      // why not ok ("connection refused", "timed out after 5s", ...)
    std::string warning;    // ok, but worth saying ("certificate expires in 5 days")
};
using Done = std::function<void(Result)>;

// A probe in flight; destroying it cancels it (its callback is not called any more).
class Probe {
public:
    virtual ~Probe() = default;
};

// What the dns and exec probes share: a timeout, and the result told once, on the next loop iteration (never
// inside start(), never inside the callback of a source the probe owns).
class TimedProbe : public Probe {
protected:
    TimedProbe(event::Loop &loop, Done done) : loop_(loop), done_(std::move(done)) {}
    // Starts the clock: `on_timeout` runs when no result came within `timeout`. False when the loop cannot take the
    // timers.
    bool start_clock(base::Usec timeout, std::function<void()> on_timeout);
    // The result (the first one counts), told on the next iteration; latency from start_clock().
    void finish_with(bool ok, std::string error, std::string warning = {});
    // Runs just before the result is told: let go of what the probe holds (a resolver, ...).
    virtual void before_report() {}

    event::Loop &loop_;
    bool finished_ = false;

private:
    void report();
    Done done_;
    base::Usec started_ = 0;
    Result result_;
    std::unique_ptr<event::Timer> timeout_, finish_;
};

// The children of exec probes, each watched (pidfd) until it has ended and been reaped, even after its probe is
// gone: a cancelled or timed-out probe's command is killed (its process group) and still reaped here, never left
// a zombie, and never reaped by anyone else while watched (see owns()).
class ExecChildren {
public:
    using Exited = std::function<void(const siginfo_t &)>;
    explicit ExecChildren(event::Loop &loop);
    ~ExecChildren();
    ExecChildren(const ExecChildren &) = delete;
    ExecChildren &operator=(const ExecChildren &) = delete;

    // Watches a spawned child (pid and its pidfd); `exited` runs once, from the loop, when it ends, unless it was
    // abandon()ed first. Fails (and kills the child) when the loop cannot watch it.
    base::Result<void> watch(pid_t pid, base::Pidfd fd, Exited exited);
    // Its probe is gone: the child's process group is killed, and the child reaped when it ends.
    void abandon(pid_t pid);
    // Whether pid is a child watched here (the daemon's orphan reaper must leave it alone).
    bool owns(pid_t pid) const;

private:
    struct Child;
    event::Loop &loop_;
    std::vector<std::unique_ptr<Child>> children_;
    std::unique_ptr<event::Timer> sweeper_;
};

// Starts probes of every kind; owns what they share, each made when the first probe needs it: libcurl's multi
// handle (http), the exec probes' children, the socket probes' epoll set.
class Prober {
public:
    explicit Prober(event::Loop &loop);
    ~Prober();
    Prober(const Prober &) = delete;
    Prober &operator=(const Prober &) = delete;

    // Starts probing `spec`'s target. `done` runs once, from the loop, never inside start(), unless the probe is
    // destroyed first. Fails only when the loop (or curl) cannot take the probe.
    //   tcp: up when a connection is established within the timeout (gossm's only probe).
    //   udp: the payload (empty by default) is sent to the target; up when a reply comes, down when the target
    //        refuses (ICMP port unreachable), and up when neither comes within the timeout: a silent UDP service
    //        cannot be told from a lost datagram, and gossm counted every UDP server up.
    //   http, https: a request (method, headers, redirects, TLS verification as the spec says); up when the
    //        status is an expected one (2xx/3xx by default) and the body has what the spec wants (a substring,
    //        a regular expression); https warns when the certificate expires within cert_warning.
    //   tls: a TCP connection, then a TLS handshake (verified against server_name, or the address, unless
    //        tls_verify is off); warns when the certificate expires within cert_warning.
    //   dns: the name (address) resolves through the system's resolver within the timeout, and when the spec
    //        lists expected addresses, to one of them.
    //   exec: the command runs (as the spec's user and group, in /, with a minimal environment and
    //        WATCHD_CHECK_ID, its output read); up when it exits with an expected code (0 by default); down with
    //        its exit status and the first line it wrote, or when it is killed; at the timeout its process group
    //        is killed and the check is down.
    //   Addresses are IP addresses or host names (resolved off the loop).
    base::Result<std::unique_ptr<Probe>> start(const model::CheckSpec &spec, Done done);
    // Whether pid is an exec probe's child, alive or not yet reaped (see ExecChildren::owns).
    bool owns_child(pid_t pid) const { return children_ && children_->owns(pid); }

private:
    event::Loop &loop_;
    std::unique_ptr<net::CurlMulti> curl_;
    std::unique_ptr<ExecChildren> children_;
    std::unique_ptr<event::PollSet> sockets_;
    std::unique_ptr<event::Deadlines> timeouts_; // the socket probes' timeouts, under one timer
};

// The socket probes (socket_probe.cc) and the http probe (http_probe.cc).
base::Result<std::unique_ptr<Probe>> start_socket_probe(event::Loop &loop, event::PollSet &poll,
                                                        event::Deadlines &timeouts, const model::CheckSpec &spec,
                                                        Done done);
base::Result<std::unique_ptr<Probe>> start_dns_probe(event::Loop &loop, const model::CheckSpec &spec, Done done);
base::Result<std::unique_ptr<Probe>> start_http_probe(net::CurlMulti &curl, const model::CheckSpec &spec, Done done);
base::Result<std::unique_ptr<Probe>> start_exec_probe(event::Loop &loop, ExecChildren &children,
                                                      const model::CheckSpec &spec, Done done);
// "the certificate expires in 5 days" when `expiry` (realtime µs) is within `within` of now; empty otherwise (no
// expiry known, within 0, or later). Shared by the https and tls probes.
std::string expiry_warning(std::optional<base::Usec> expiry, base::Usec within);
// How late a probe's timeout may fire: 1/20 of it, at most 50 ms (sd-event then wakes for it together with other
// timers, and setting or cancelling it never re-arms the loop's timerfd while another timer is due sooner).
inline base::Usec timeout_accuracy(base::Usec timeout) {
    return std::clamp<base::Usec>(timeout / 20, base::kUsecPerMsec, 50 * base::kUsecPerMsec);
}
// The URL an http check requests: its url, or <protocol>://<address>:<port><path>.
std::string check_url(const model::CheckSpec &spec);

} // namespace watchd::probe
