// The UDP listener: sockets on the loop, batched reads and replies, and the once-a-minute report of what was
// dropped. The protocol itself is DatagramHandler's.
#include "api/udp/listener.h"

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <sys/socket.h>
#include <syslog.h>

#include "api/udp/udp_socket.h"

namespace watchd::api::udp {

struct UdpListener::Socket {
    std::string configured;                 // the udp.listen entry it was opened for
    std::string local;                      // as bound
    base::UniqueFd fd;
    std::unique_ptr<event::IoSource> source; // after fd: disabled before the fd is closed
    bool unwatched = false;                  // out of the epoll set: putting it back failed (see rewatch)
};

// The buffers of one wake-up, allocated once: kBatch slots for datagrams and their senders, kBatch replies.
struct UdpListener::Batch {
    std::unique_ptr<char[]> data = std::make_unique_for_overwrite<char[]>(kBatch * kSlot);
    std::array<mmsghdr, kBatch> in{};
    std::array<iovec, kBatch> in_iov{};
    std::array<sockaddr_storage, kBatch> from{};
    std::array<mmsghdr, kBatch> out{};
    std::array<iovec, kBatch> out_iov{};
    std::array<std::string, kBatch> replies; // keep their capacity from one wake-up to the next

    Batch() {
        for (unsigned i = 0; i < kBatch; ++i) {
            in_iov[i] = iovec{data.get() + i * kSlot, kSlot};
            in[i].msg_hdr.msg_iov = &in_iov[i];
            in[i].msg_hdr.msg_iovlen = 1;
            in[i].msg_hdr.msg_name = &from[i];
            out[i].msg_hdr.msg_iov = &out_iov[i];
            out[i].msg_hdr.msg_iovlen = 1;
        }
    }
};

// Drops of one kind since they were last logged, and from whom.
struct UdpListener::Tally {
    std::uint64_t count = 0;
    std::uint64_t bad = 0, replayed = 0, outside = 0; // kSignature: by cause
    sockaddr_storage first{};                         // the first sender
    unsigned first_len = 0;
    std::uint64_t others = 0;                         // datagrams from other senders
    base::Usec last_report = 0;                       // monotonic; 0: never reported
};

UdpListener::UdpListener(event::Loop &loop, supervisor::CommandSink &sink, Log log)
    : log_(std::move(log)), handler_(sink), batch_(std::make_unique<Batch>()), tallies_(kTallies), loop_(loop) {}

base::Result<std::unique_ptr<UdpListener>> UdpListener::create(event::Loop &loop, supervisor::CommandSink &sink,
                                                               const UdpOptions &options, Log log) {
    std::unique_ptr<UdpListener> l(new UdpListener(loop, sink, std::move(log)));
    auto timer = event::Timer::create(loop, [self = l.get()] { self->report(false); });
    if (!timer) return base::unexpected(timer.error());
    l->report_timer_ = std::move(*timer);
    auto rewatch = event::Timer::create(loop, [self = l.get()] {
        for (auto &s : self->sockets_)
            if (s->unwatched) self->rewatch(*s);
    });
    if (!rewatch) return base::unexpected(rewatch.error());
    l->rewatch_timer_ = std::move(*rewatch);
    l->apply(options);
    return l;
}

UdpListener::~UdpListener() {
    sockets_.clear();
    report(true);
    const UdpStats &s = handler_.stats();
    if (s.received == 0) return;
    log_(LOG_INFO, "udp: " + std::to_string(s.received) + " datagrams received, " + std::to_string(s.replied) +
                       " answered, " + std::to_string(s.replies_dropped) + " replies dropped, " +
                       std::to_string(s.malformed) + " malformed, " + std::to_string(s.refused) + " refused, " +
                       std::to_string(s.signed_ok) + " signed pings accepted, " + std::to_string(s.bad_signature) +
                       " bad signatures, " + std::to_string(s.replayed) + " replayed, " +
                       std::to_string(s.outside_window) + " outside the window");
}

void UdpListener::apply(const UdpOptions &options) {
    handler_.set_layout(options.json_timestamp);
    const auto &want = options.listen;
    std::erase_if(sockets_, [&](const auto &s) { return std::find(want.begin(), want.end(), s->configured) == want.end(); });
    for (const std::string &address : want) {
        if (std::any_of(sockets_.begin(), sockets_.end(), [&](const auto &s) { return s->configured == address; }))
            continue;
        OpenedSockets opened = open_udp_sockets(address);
        for (const std::string &e : opened.errors)
            log_(LOG_ERR, "udp.listen: cannot listen on " + e + "; UDP requests to it go unanswered, running on");
        for (BoundSocket &b : opened.sockets) {
            auto s = std::make_unique<Socket>();
            s->configured = address;
            s->local = std::move(b.local);
            s->fd = std::move(b.fd);
            Socket *raw = s.get();
            auto src = event::IoSource::create(
                loop_, s->fd.get(), event::io::kReadable, [this, raw](std::uint32_t) { readable(*raw); },
                event::Priority::Normal);
            if (!src) {
                log_(LOG_ERR, "udp.listen: cannot watch " + s->local + ": " + src.error().message() + ", running on");
                continue;
            }
            s->source = std::move(*src);
            log_(LOG_INFO, "udp.listen: listening on " + s->local);
            sockets_.push_back(std::move(s));
        }
    }
}

std::vector<std::string> UdpListener::addresses() const {
    std::vector<std::string> out;
    for (const auto &s : sockets_) out.push_back(s->local);
    return out;
}

// One wake-up: at most kBatch datagrams, then back to the loop (it comes back at once if more are waiting, after
// whatever else is ready at a higher priority, such as a process exit).
void UdpListener::readable(Socket &s) {
    Batch &b = *batch_;
    for (unsigned i = 0; i < kBatch; ++i) {
        b.in[i].msg_hdr.msg_namelen = sizeof(sockaddr_storage);
        b.in[i].msg_hdr.msg_flags = 0;
    }
    const int n = ::recvmmsg(s.fd.get(), b.in.data(), kBatch, MSG_DONTWAIT, nullptr);
    if (n <= 0) return; // EAGAIN (another wake-up took them) or a pending socket error, which reading cleared
    unsigned replies = 0;
    const base::Usec now = handler_.now(); // one reading for the batch, which takes well under a millisecond
    for (int i = 0; i < n; ++i) {
        const msghdr &h = b.in[i].msg_hdr;
        Outcome o;
        if (h.msg_flags & MSG_TRUNC) o = handler_.truncated();
        else o = handler_.handle({b.data.get() + i * kSlot, b.in[i].msg_len}, b.replies[replies], now);
        switch (o) {
        case Outcome::Replied:
            b.out_iov[replies] = iovec{b.replies[replies].data(), b.replies[replies].size()};
            b.out[replies].msg_hdr.msg_name = &b.from[i];
            b.out[replies].msg_hdr.msg_namelen = h.msg_namelen;
            ++replies;
            break;
        case Outcome::Malformed: note(kMalformed, o, &b.from[i], h.msg_namelen); break;
        case Outcome::Refused: note(kRefused, o, &b.from[i], h.msg_namelen); break;
        case Outcome::BadSignature:
        case Outcome::Replayed:
        case Outcome::OutsideWindow: note(kSignature, o, &b.from[i], h.msg_namelen); break;
        }
    }
    // A batch of replies goes out with the socket out of the loop's epoll set: each datagram sent, as the kernel
    // frees it, wakes whatever waits on the socket (epoll's entry included) to say there is room to write, which
    // nobody asked for; about 5 % of watchd's CPU in a flood. Level-triggered, the set reports at once what
    // arrived meanwhile when the socket is back.
    const bool quiet = replies >= kQuietSend;
    if (quiet) s.source->disable();
    send_replies(s, replies);
    if (quiet) rewatch(s);
    report(false);
}

void UdpListener::rewatch(Socket &s) {
    if (auto r = s.source->enable(); !r) {
        log_(LOG_ERR, "udp.listen: cannot watch " + s.local + " again: " + r.error().message() + ", retrying in 100 ms");
        rewatch_timer_->arm(base::now_monotonic() + 100 * base::kUsecPerMsec);
        s.unwatched = true;
        return;
    }
    s.unwatched = false;
}

void UdpListener::send_replies(Socket &s, unsigned count) {
    Batch &b = *batch_;
    UdpStats &stats = handler_.stats();
    unsigned done = 0;
    while (done < count) {
        const int r = ::sendmmsg(s.fd.get(), b.out.data() + done, count - done, MSG_DONTWAIT);
        if (r > 0) {
            done += static_cast<unsigned>(r);
            stats.replied += static_cast<unsigned>(r);
            continue;
        }
        if (r < 0 && errno == EINTR) continue;
        const bool full = r == 0 || errno == EAGAIN || errno == EWOULDBLOCK || errno == ENOBUFS;
        // A full send buffer: this reply and the rest of the batch are dropped (patrol's clients retry by pinging
        // again). Another error concerns this reply only (e.g. one too large): it alone is dropped.
        const unsigned dropped = full ? count - done : 1;
        for (unsigned i = done; i < done + dropped; ++i)
            note(kRepliesDropped, Outcome::Replied, b.out[i].msg_hdr.msg_name, b.out[i].msg_hdr.msg_namelen);
        stats.replies_dropped += dropped;
        done += dropped;
    }
}

void UdpListener::note(TallyKind kind, Outcome outcome, const void *from, unsigned from_len) {
    Tally &t = tallies_[kind];
    ++t.count;
    if (outcome == Outcome::BadSignature) ++t.bad;
    else if (outcome == Outcome::Replayed) ++t.replayed;
    else if (outcome == Outcome::OutsideWindow) ++t.outside;
    from_len = std::min<unsigned>(from_len, sizeof t.first);
    if (t.count == 1) {
        std::memcpy(&t.first, from, from_len);
        t.first_len = from_len;
    } else if (from_len != t.first_len || std::memcmp(&t.first, from, from_len) != 0) {
        ++t.others;
    }
}

std::string UdpListener::describe(TallyKind kind, const Tally &t) const {
    const std::string n = std::to_string(t.count);
    const bool one = t.count == 1;
    std::string what;
    switch (kind) {
    case kMalformed: what = "dropped " + n + (one ? " malformed datagram" : " malformed datagrams"); break;
    case kRefused:
        what = "no reply to " + n + (one ? " request" : " requests") + " patrol refuses (last: " +
               std::string(handler_.last_refusal()) + ")";
        break;
    case kSignature:
        what = "rejected " + n + (one ? " signed ping" : " signed pings") + " (" + std::to_string(t.bad) +
               " bad signature, " + std::to_string(t.replayed) + " replayed, " + std::to_string(t.outside) +
               " outside the +/-" + std::to_string(kWindowSec) + " s window)";
        break;
    case kRepliesDropped: what = "dropped " + n + (one ? " reply" : " replies") + ": the send buffer was full"; break;
    case kTallies: break;
    }
    what += (kind == kRepliesDropped ? " to " : " from ") +
            format_address(reinterpret_cast<const sockaddr *>(&t.first), t.first_len);
    if (t.others) what += " and " + std::to_string(t.others) + " from other senders";
    return "udp: " + what;
}

// Logs each kind of drop whose minute has passed (all of them when `all`: the listener is going away), and arms
// the timer for the next one held back.
void UdpListener::report(bool all) {
    const base::Usec now = base::now_monotonic();
    base::Usec next = 0;
    for (unsigned k = 0; k < kTallies; ++k) {
        Tally &t = tallies_[k];
        if (t.count == 0) continue;
        const base::Usec due = t.last_report ? t.last_report + kReportEvery : 0;
        if (all || now >= due) {
            log_(k == kRefused ? LOG_NOTICE : LOG_WARNING, describe(static_cast<TallyKind>(k), t));
            t = Tally{};
            t.last_report = now;
        } else if (!next || due < next) {
            next = due;
        }
    }
    if (next && !all && (next != report_at_ || !report_timer_->armed())) {
        report_at_ = next;
        report_timer_->arm(next);
    }
}

void append_metrics(metrics::Exposition &e, const UdpStats &s) {
    using Type = metrics::Exposition::Type;
    e.family("watchd_udp_datagrams_received_total", Type::Counter, "Datagrams the UDP API read.");
    e.sample("watchd_udp_datagrams_received_total", {}, static_cast<double>(s.received));
    e.family("watchd_udp_replies_total", Type::Counter, "Replies of the UDP API: sent, or dropped (a full send buffer).");
    e.sample("watchd_udp_replies_total", {{"result", "sent"}}, static_cast<double>(s.replied));
    e.sample("watchd_udp_replies_total", {{"result", "dropped"}}, static_cast<double>(s.replies_dropped));
    e.family("watchd_udp_datagrams_rejected_total", Type::Counter, "Datagrams the UDP API did not serve, by reason.");
    const std::pair<const char *, std::uint64_t> reasons[] = {
        {"malformed", s.malformed},   {"refused", s.refused},   {"bad_signature", s.bad_signature},
        {"replayed", s.replayed},     {"outside_window", s.outside_window}};
    for (const auto &[reason, n] : reasons)
        e.sample("watchd_udp_datagrams_rejected_total", {{"reason", reason}}, static_cast<double>(n));
}

} // namespace watchd::api::udp
