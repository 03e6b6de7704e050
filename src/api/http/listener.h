// One libmicrohttpd daemon on one listening socket, driven by watchd's event loop: no thread of its own. MHD runs
// in external epoll mode; its epoll fd is an event::IoSource, its next timeout an event::Timer, and MHD_run()
// follows each wake-up. Requests reach a Handler whole (headers and body), one at a time, on the loop.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "base/result.h"
#include "base/time.h"
#include "base/unique_fd.h"
#include "event/loop.h"
#include "event/source.h"

struct MHD_Daemon;
struct MHD_Connection;

namespace watchd::api::http {

struct HttpRequest {
    std::string_view method;    // "GET", "POST", ...
    std::string_view path;      // %-decoded
    std::string_view raw_query; // as sent, without the '?'
    std::string_view body;
    std::string_view content_type; // the Content-Type header as sent; empty when none
};

// A response body written over time (server-sent events). The server keeps the Stream and writes to it; the
// listener sends what was written and, when nothing is left, sets the connection aside (suspended: no polling,
// no busy loop) until the next write. Bounded: a client that reads slower than the server writes loses the stream
// once more than `max_pending` bytes wait for it.
class Stream {
public:
    explicit Stream(std::size_t max_pending = 1 << 20) : max_pending_(max_pending) {}
    Stream(const Stream &) = delete;
    Stream &operator=(const Stream &) = delete;

    // Appends `data`. False when the stream is over: its client went away, it was closed, or `data` would have
    // made more than max_pending bytes wait (the stream is then closed).
    bool write(std::string_view data);
    // Ends the response once what was written is sent.
    void close();
    // Still worth writing to.
    bool open() const { return !closed_ && !gone_; }
    std::size_t pending() const { return buf_.size() - sent_; }

private:
    friend class Listener;
    friend struct MhdCallbacks;
    void wake();
    // Moves up to `max` pending bytes to `out` (the buffer emptied once all is taken); how many.
    std::size_t take(char *out, std::size_t max);
    // Its connection ended (or is ending): nothing resumes it any more.
    void detach();

    std::size_t max_pending_;
    std::string buf_;
    std::size_t sent_ = 0;       // bytes of buf_ handed to MHD
    bool closed_ = false;
    bool gone_ = false;          // the connection ended
    std::function<void()> wake_; // set while the connection is suspended: resumes it
};

struct HttpResponse {
    unsigned status = 200;
    std::string content_type;
    std::string body;
    std::vector<std::pair<std::string, std::string>> headers; // more headers (Location, ...)
    std::shared_ptr<Stream> stream = nullptr; // set: the body is what is written to it (`body` is not sent)
};

// Bounds on what clients can make watchd hold; memory per listener is at most about
// max_connections × (MHD's 32 KiB per connection + max_body).
struct Limits {
    std::size_t max_body = 64 * 1024;       // a larger Content-Length is answered 413; a larger chunked body closes
    unsigned max_connections = 512;         // per listening socket; beyond it new clients wait in the backlog
    unsigned max_connections_per_ip = 256;  // beyond it a new connection from that address is closed at once
    base::Usec request_timeout = 10 * base::kUsecPerSec; // from idle to a whole request: a slow sender (slowloris)
                                                         // or an idle keep-alive connection is closed after it
};

using Handler = std::function<HttpResponse(const HttpRequest &)>;
// priority (LOG_*), message
using LogFn = std::function<void(int, const std::string &)>;

class Listener {
public:
    // Starts MHD on `socket` (bound and listening). `handler` answers every request; `log` gets MHD's messages.
    static base::Result<std::unique_ptr<Listener>> start(event::Loop &loop, base::UniqueFd socket,
                                                         const Limits &limits, Handler handler, LogFn log);
    ~Listener();
    Listener(const Listener &) = delete;
    Listener &operator=(const Listener &) = delete;

    std::size_t connections() const { return conns_.size(); }
    std::size_t streams() const { return streams_.size(); }

private:
    struct Conn {
        base::Usec since = 0;   // CLOCK_MONOTONIC µs: accepted, or its last response was sent
        bool answering = false; // a response is queued: MHD's own idle timeout covers a client that reads slowly
    };
    struct Request;
    struct StreamConn; // a connection sending a Stream

    Listener(const Limits &limits, Handler handler, LogFn log);
    void run();
    void rearm();
    void kick(); // MHD_run() on the loop's next iteration (a resumed connection has something to send)
    void sweep();
    void arm_sweep();
    void queue(MHD_Connection *c, const HttpResponse &r);

    // What MHD's callbacks (C trampolines in listener.cc, friends) call. access(): false closes the connection.
    friend struct MhdCallbacks;
    bool access(MHD_Connection *c, const char *url, const char *method, const char *upload_data,
                std::size_t *upload_data_size, void **req_cls);
    void completed(void **req_cls);
    void connection(MHD_Connection *c, bool started);

    struct DaemonStop {
        void operator()(MHD_Daemon *d) const noexcept;
    };

    Limits limits_;
    Handler handler_;
    LogFn log_;
    std::unordered_map<MHD_Connection *, Conn> conns_;
    std::vector<StreamConn *> streams_; // owned by MHD's responses (freed by their free callback)
    // MHD calls back into the members above, even while it stops: it is declared after them.
    std::unique_ptr<MHD_Daemon, DaemonStop> daemon_;
    // The loop calls MHD through these: declared last, destroyed (disabled) first.
    std::unique_ptr<event::IoSource> io_;
    std::unique_ptr<event::Timer> timer_; // MHD's own timeout
    std::unique_ptr<event::Timer> sweep_; // request_timeout
};

} // namespace watchd::api::http
