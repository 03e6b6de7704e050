// UdpListener: patrol's UDP API on every address of udp.listen. Non-blocking sockets on the event loop, read in
// batches (recvmmsg, at most kBatch datagrams a wake-up, at event::Priority::Normal, so process exits always go
// first), answered to the sender in batches (sendmmsg, never blocking: a reply that would block is dropped and
// counted). Errors and garbage get no reply (patrol's rule); they are counted, and logged at most once a minute per
// kind. Memory is bounded whatever arrives: fixed buffers, the socket's receive buffer, the replay cache.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "api/udp/datagram.h"
#include "base/result.h"
#include "base/time.h"
#include "event/loop.h"
#include "event/source.h"
#include "metrics/prometheus.h"
#include "supervisor/command_sink.h"

namespace watchd::api::udp {

struct UdpOptions {
    std::vector<std::string> listen; // udp.listen: "host:port", "[v6]:port"
    std::string json_timestamp;      // json-timestamp (a Go layout) for the replies; empty = RFC 3339
};

class UdpListener {
public:
    using Log = std::function<void(int priority, std::string_view message)>;
    static constexpr unsigned kBatch = 64;       // datagrams read (and replies sent) per wake-up
    static constexpr std::size_t kSlot = 8192;   // bytes kept of one datagram (patrol reads 2048); a longer one is
                                                 // cut by the kernel and counted as malformed
    static constexpr unsigned kQuietSend = 16;   // replies from which a wake-up sends them unwatched (readable())
    static constexpr base::Usec kReportEvery = 60 * base::kUsecPerSec; // drops of one kind: one log line a minute

    // Binds every address of options.listen; one that cannot be bound is logged (naming udp.listen) and skipped.
    // Fails only when the loop cannot take a timer.
    static base::Result<std::unique_ptr<UdpListener>> create(event::Loop &loop, supervisor::CommandSink &sink,
                                                             const UdpOptions &options, Log log);
    // Logs what was not reported yet and the totals.
    ~UdpListener();
    UdpListener(const UdpListener &) = delete;
    UdpListener &operator=(const UdpListener &) = delete;

    // A reload: addresses still listed keep their socket, others are closed, new ones bound (and ones that failed
    // before are tried again); the timestamp layout is taken. Never call it from a UDP callback.
    void apply(const UdpOptions &options);

    const UdpStats &stats() const { return handler_.stats(); }
    // The addresses bound now, as bound ("127.0.0.1:8421"; the real port for ":0").
    std::vector<std::string> addresses() const;

private:
    struct Socket;
    struct Batch;
    struct Tally;
    enum TallyKind : unsigned { kMalformed, kRefused, kSignature, kRepliesDropped, kTallies };

    UdpListener(event::Loop &loop, supervisor::CommandSink &sink, Log log);
    void readable(Socket &s);
    void send_replies(Socket &s, unsigned count);
    void rewatch(Socket &s);
    void note(TallyKind kind, Outcome outcome, const void *from, unsigned from_len);
    void report(bool all);
    std::string describe(TallyKind kind, const Tally &t) const;

    Log log_;
    DatagramHandler handler_;
    std::unique_ptr<Batch> batch_;
    std::vector<Tally> tallies_;                 // by TallyKind
    std::unique_ptr<event::Timer> report_timer_; // the next report of drops held back by the once-a-minute rule
    base::Usec report_at_ = 0;                   // when report_timer_ was last armed for
    std::unique_ptr<event::Timer> rewatch_timer_; // tries again a socket that could not go back in the epoll set
    std::vector<std::unique_ptr<Socket>> sockets_; // last: their callbacks use everything above
    event::Loop &loop_;
};

// The listener's figures in Prometheus' format (GET /metrics): datagrams received, replies sent and dropped, and
// datagrams rejected by reason.
void append_metrics(metrics::Exposition &e, const UdpStats &s);

} // namespace watchd::api::udp
