// libmicrohttpd on watchd's loop. MHD is started in external epoll mode (no thread): the loop watches MHD's epoll
// fd and wakes MHD_run() when a socket is ready, and a timer wakes it when MHD_get_timeout() says (0 when MHD
// already has data to process). Every callback runs inside MHD_run(), on the loop, and never blocks.
//
// MHD's connection timeout only counts idle time, so a client trickling a byte now and then would hold a
// connection forever (slowloris). Each connection is therefore also given `request_timeout` from the moment it is
// idle (accepted, or its last response sent) to its next whole request; past that it is shut down, and MHD, seeing
// the shutdown on its next run, closes and frees it.
//
// A streamed response (Stream, for server-sent events) is read by MHD through a content reader. When the stream
// has nothing to send, the reader suspends the connection (MHD stops polling it) and returns 0; the next write
// resumes it, and MHD_run() is called on the loop's next iteration (MHD's epoll fd does not wake for a resumed
// connection in external mode: the timer is armed for now).
#include "api/http/listener.h"

#include <cerrno>
#include <cstdarg>
#include <cstdio>
#include <cstring>
#include <algorithm>
#include <fcntl.h>
#include <microhttpd.h>
#include <sys/socket.h>
#include <syslog.h>
#include <unistd.h>

namespace watchd::api::http {

struct Listener::StreamConn {
    Listener *listener;
    MHD_Connection *conn;
    std::shared_ptr<Stream> stream;
    bool suspended = false;
};

bool Stream::write(std::string_view data) {
    if (!open()) return false;
    if (pending() + data.size() > max_pending_) { // the client does not keep up: the stream ends here
        closed_ = true;
        buf_.clear();
        sent_ = 0;
        wake();
        return false;
    }
    buf_.append(data); // take() empties the buffer once all is sent
    wake();
    return true;
}

std::size_t Stream::take(char *out, std::size_t max) {
    const std::size_t n = std::min(max, pending());
    std::memcpy(out, buf_.data() + sent_, n);
    sent_ += n;
    if (sent_ == buf_.size()) {
        buf_.clear();
        sent_ = 0;
    }
    return n;
}

void Stream::detach() {
    gone_ = true;
    wake_ = nullptr;
}

void Stream::close() {
    if (closed_) return;
    closed_ = true;
    wake();
}

void Stream::wake() {
    if (!wake_) return;
    auto w = std::move(wake_);
    wake_ = nullptr;
    w();
}

struct Listener::Request {
    std::string query; // the raw query string, from the request line (MHD parses its own copy differently)
    std::string body;
    bool headers_seen = false;
    bool answered = false;
};

// MHD's C callbacks: each forwards to its listener (cls) and never lets an exception out.
struct MhdCallbacks {
    static void *uri(void *, const char *uri, MHD_Connection *) noexcept {
        try {
            auto r = std::make_unique<Listener::Request>();
            if (const char *q = std::strchr(uri, '?')) r->query = q + 1;
            return r.release(); // MHD keeps it as the request's context; completed() frees it
        } catch (...) {
            return nullptr;
        }
    }
    static MHD_Result access(void *cls, MHD_Connection *c, const char *url, const char *method, const char *,
                             const char *upload_data, std::size_t *upload_data_size, void **req_cls) noexcept {
        try {
            return static_cast<Listener *>(cls)->access(c, url, method, upload_data, upload_data_size, req_cls)
                       ? MHD_YES
                       : MHD_NO;
        } catch (...) {
            return MHD_NO; // closes the connection
        }
    }
    static void completed(void *cls, MHD_Connection *c, void **req_cls, MHD_RequestTerminationCode) noexcept {
        auto *l = static_cast<Listener *>(cls);
        l->completed(req_cls);
        if (auto it = l->conns_.find(c); it != l->conns_.end()) it->second = Listener::Conn{base::now_monotonic()};
    }
    static void connection(void *cls, MHD_Connection *c, void **, MHD_ConnectionNotificationCode code) noexcept {
        try {
            static_cast<Listener *>(cls)->connection(c, code == MHD_CONNECTION_NOTIFY_STARTED);
        } catch (...) {
        }
    }
    // A Stream's bytes for MHD: what is pending, the end when it is closed, else suspend until the next write.
    static ssize_t read(void *cls, std::uint64_t, char *buf, std::size_t max) noexcept {
        auto *sc = static_cast<Listener::StreamConn *>(cls);
        Stream &s = *sc->stream;
        if (const std::size_t n = s.take(buf, max)) return static_cast<ssize_t>(n);
        if (s.closed_) return MHD_CONTENT_READER_END_OF_STREAM;
        MHD_suspend_connection(sc->conn);
        sc->suspended = true;
        s.wake_ = [sc] {
            sc->suspended = false;
            MHD_resume_connection(sc->conn);
            sc->listener->kick();
        };
        return 0; // nothing now: MHD asks again once the connection is resumed
    }
    // The response is gone (sent, or its connection closed): the stream learns it, the listener forgets it.
    static void free_stream(void *cls) noexcept {
        std::unique_ptr<Listener::StreamConn> sc(static_cast<Listener::StreamConn *>(cls));
        sc->stream->detach();
        std::erase(sc->listener->streams_, sc.get());
    }
    static void log(void *cls, const char *fmt, va_list ap) noexcept {
        try {
            char buf[512];
            std::vsnprintf(buf, sizeof buf, fmt, ap);
            std::string m(buf);
            while (!m.empty() && (m.back() == '\n' || m.back() == '\r')) m.pop_back();
            static_cast<Listener *>(cls)->log_(LOG_DEBUG, "HTTP: " + m); // connection-level noise, not errors
        } catch (...) {
        }
    }
};

void Listener::DaemonStop::operator()(MHD_Daemon *d) const noexcept { MHD_stop_daemon(d); }

Listener::Listener(const Limits &limits, Handler handler, LogFn log)
    : limits_(limits), handler_(std::move(handler)), log_(std::move(log)) {}

Listener::~Listener() {
    // Sources first (no more MHD_run), then MHD, whose stop still calls completed()/connection(). MHD must not be
    // stopped with a connection suspended: each is resumed first, and its stream ends.
    sweep_.reset();
    timer_.reset();
    io_.reset();
    for (StreamConn *sc : streams_) {
        sc->stream->detach();
        if (sc->suspended) {
            sc->suspended = false;
            MHD_resume_connection(sc->conn);
        }
    }
    daemon_.reset();
}

base::Result<std::unique_ptr<Listener>> Listener::start(event::Loop &loop, base::UniqueFd socket,
                                                         const Limits &limits, Handler handler, LogFn log) {
    std::unique_ptr<Listener> l(new Listener(limits, std::move(handler), std::move(log)));
    const unsigned timeout_s =
        static_cast<unsigned>(std::max<base::Usec>(1, limits.request_timeout / base::kUsecPerSec));
    const int fd = socket.release(); // MHD closes it when it stops
    MHD_Daemon *d = MHD_start_daemon(
        MHD_USE_EPOLL | MHD_USE_TURBO | MHD_USE_ERROR_LOG | MHD_ALLOW_SUSPEND_RESUME, 0, nullptr, nullptr, &MhdCallbacks::access, l.get(),
        MHD_OPTION_EXTERNAL_LOGGER, &MhdCallbacks::log, l.get(), // first: libmicrohttpd warns about it otherwise
        MHD_OPTION_LISTEN_SOCKET, fd,
        MHD_OPTION_CONNECTION_LIMIT, limits.max_connections,
        MHD_OPTION_PER_IP_CONNECTION_LIMIT, limits.max_connections_per_ip,
        MHD_OPTION_CONNECTION_TIMEOUT, timeout_s,
        MHD_OPTION_URI_LOG_CALLBACK, &MhdCallbacks::uri, l.get(),
        MHD_OPTION_NOTIFY_COMPLETED, &MhdCallbacks::completed, l.get(),
        MHD_OPTION_NOTIFY_CONNECTION, &MhdCallbacks::connection, l.get(),
        MHD_OPTION_END);
    if (!d) {
        // MHD closes the socket on some of its failure paths and not on others; the program is single-threaded,
        // so an fd it closed cannot have been reused yet.
        if (::fcntl(fd, F_GETFD) >= 0) ::close(fd);
        return base::unexpected(base::Error{std::make_error_code(std::errc::io_error), "MHD_start_daemon",
                                            "libmicrohttpd refused to start"});
    }
    l->daemon_.reset(d);
    const MHD_DaemonInfo *info = MHD_get_daemon_info(d, MHD_DAEMON_INFO_EPOLL_FD);
    if (!info) return base::unexpected(base::Error{{}, "MHD_get_daemon_info", "no epoll fd"});
    Listener *self = l.get();
    auto io = event::IoSource::create(loop, info->epoll_fd, event::io::kReadable,
                                      [self](std::uint32_t) { self->run(); });
    if (!io) return base::unexpected(io.error());
    l->io_ = std::move(*io);
    auto timer = event::Timer::create(loop, [self] { self->run(); });
    if (!timer) return base::unexpected(timer.error());
    l->timer_ = std::move(*timer);
    auto sweep = event::Timer::create(loop, [self] { self->sweep(); });
    if (!sweep) return base::unexpected(sweep.error());
    l->sweep_ = std::move(*sweep);
    l->rearm();
    return l;
}

void Listener::run() {
    MHD_run(daemon_.get());
    rearm();
}

void Listener::kick() {
    if (timer_) timer_->arm(0); // in the past: the next iteration
}

void Listener::rearm() {
    MHD_UNSIGNED_LONG_LONG ms = 0;
    if (MHD_get_timeout(daemon_.get(), &ms) != MHD_YES) {
        timer_->cancel();
        return;
    }
    const base::Usec max_ms = 24ull * 3600 * 1000; // MHD's timeouts are seconds; a day is beyond any of them
    timer_->arm(base::now_monotonic() + std::min<base::Usec>(ms, max_ms) * base::kUsecPerMsec);
}

void Listener::arm_sweep() {
    if (!conns_.empty() && !sweep_->armed()) sweep_->arm(base::now_monotonic() + base::kUsecPerSec);
}

void Listener::sweep() {
    const base::Usec now = base::now_monotonic();
    for (auto &[c, conn] : conns_) {
        if (conn.answering || now - conn.since <= limits_.request_timeout) continue;
        // Not closed here: MHD owns the socket. A shutdown makes it readable (EOF), and MHD closes it.
        if (const MHD_ConnectionInfo *ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD))
            ::shutdown(ci->connect_fd, SHUT_RDWR);
        conn.since = now; // once is enough: MHD drops it on its next run
    }
    arm_sweep();
}

void Listener::connection(MHD_Connection *c, bool started) {
    if (started) {
        conns_[c] = Conn{base::now_monotonic()};
        arm_sweep();
    } else {
        conns_.erase(c);
    }
}

void Listener::completed(void **req_cls) {
    std::unique_ptr<Request> r(static_cast<Request *>(*req_cls));
    *req_cls = nullptr;
}

bool Listener::access(MHD_Connection *c, const char *url, const char *method, const char *upload_data,
                      std::size_t *upload_data_size, void **req_cls) {
    auto *r = static_cast<Request *>(*req_cls);
    if (!r) { // the URI callback could not allocate it
        r = std::make_unique<Request>().release(); // MHD's request context: completed() frees it
        *req_cls = r;
    }
    if (r->answered) { // a body after an early answer (413): dropped
        *upload_data_size = 0;
        return true;
    }
    if (!r->headers_seen) { // first call: the headers are in, the body (if any) is not
        r->headers_seen = true;
        if (const char *cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH)) {
            std::size_t n = 0;
            bool too_large = false;
            for (const char *p = cl; *p >= '0' && *p <= '9'; ++p) {
                n = n * 10 + static_cast<std::size_t>(*p - '0');
                if (n > limits_.max_body) {
                    too_large = true;
                    break;
                }
            }
            if (too_large) { // answered before reading it: MHD closes the connection afterwards
                r->answered = true;
                queue(c, HttpResponse{413, "application/json; charset=utf-8",
                                      "{\n\t\"errors\": [\n\t\t\"Invalid Body\"\n\t]\n}\n", {}});
                return true;
            }
            r->body.reserve(n);
        }
        return true;
    }
    if (*upload_data_size) {
        if (r->body.size() + *upload_data_size > limits_.max_body) return false; // chunked beyond the limit: close
        r->body.append(upload_data, *upload_data_size);
        *upload_data_size = 0;
        return true;
    }
    r->answered = true;
    const char *ct = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_TYPE);
    queue(c, handler_(HttpRequest{method, url, r->query, r->body, ct ? ct : ""}));
    return true;
}

void Listener::queue(MHD_Connection *c, const HttpResponse &r) {
    struct Destroy {
        void operator()(MHD_Response *p) const noexcept { MHD_destroy_response(p); }
    };
    std::unique_ptr<MHD_Response, Destroy> resp;
    if (r.stream) {
        auto sc = std::make_unique<StreamConn>(StreamConn{this, c, r.stream});
        resp.reset(MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 16 * 1024, &MhdCallbacks::read, sc.get(),
                                                     &MhdCallbacks::free_stream));
        if (!resp) return;
        streams_.push_back(sc.release()); // the response owns it now: free_stream() deletes it
    } else {
        resp.reset(MHD_create_response_from_buffer(r.body.size(), const_cast<char *>(r.body.data()),
                                                   MHD_RESPMEM_MUST_COPY));
    }
    if (!resp) return; // out of memory: MHD answers 500 when the handler queued nothing
    if (!r.content_type.empty()) MHD_add_response_header(resp.get(), "Content-Type", r.content_type.c_str());
    for (const auto &[name, value] : r.headers) MHD_add_response_header(resp.get(), name.c_str(), value.c_str());
    if (MHD_queue_response(c, r.status, resp.get()) == MHD_YES)
        if (auto it = conns_.find(c); it != conns_.end()) it->second.answering = true;
}

} // namespace watchd::api::http
