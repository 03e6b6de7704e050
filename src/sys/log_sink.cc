// A log destination that never blocks: write now, else queue (bounded), else drop and count.
#include "sys/log_sink.h"

#include <cerrno>
#include <fcntl.h>
#include <poll.h>
#include <string_view>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>
#include <utility>

#include "sys/journal_native.h"

namespace watchd::sys::log {

namespace {
// A datagram the kernel refuses for its size: EMSGSIZE beyond the send buffer, or ENOBUFS/ENOMEM when it cannot
// allocate one contiguous buffer that large (small datagrams failing so are a real shortage: not retried).
bool too_big(int err, std::size_t size) {
    return err == EMSGSIZE || ((err == ENOBUFS || err == ENOMEM) && size > (64u << 10));
}

// The first `keep` bytes of message (not cutting a UTF-8 sequence), marked as shortened.
std::string shorten(std::string_view message, std::size_t keep) {
    while (keep > 0 && keep < message.size() && (static_cast<unsigned char>(message[keep]) & 0xc0) == 0x80) --keep;
    std::string s(message.substr(0, keep));
    s += "... [truncated, " + std::to_string(message.size()) + " bytes in all]";
    return s;
}

// 0 or the errno of one send() that does not wait.
int send_once(int fd, const std::string &d) {
    for (;;) {
        if (::send(fd, d.data(), d.size(), MSG_DONTWAIT | MSG_NOSIGNAL) >= 0) return 0;
        if (errno != EINTR) return errno;
    }
}
} // namespace

Sink::Sink(base::UniqueFd owned, int fd, How how, NoticeFn notice, std::string path)
    : owned_(std::move(owned)), fd_(fd), how_(how), notice_(std::move(notice)), path_(std::move(path)) {}

void Sink::lose(const Entry &e) {
    if (e.notice) return; // a lost drop count is not a message of its own
    ++dropped_;
    ++dropped_total_;
}

void Sink::submit(Entry e) {
    flush(); // older entries, and the count of earlier drops, go first
    if (queue_.empty()) {
        std::size_t off = 0;
        switch (write(e, off)) {
        case Outcome::Done: return;
        case Outcome::Failed: lose(e); return;
        case Outcome::Again:
            if (off > 0) { // half a line is out: the rest must follow before anything else, whatever the limits
                head_written_ = off;
                queued_bytes_ += e.data.size();
                queue_.push_back(std::move(e));
                return;
            }
            break;
        }
    }
    if (queue_.size() >= kMaxEntries || queued_bytes_ + e.data.size() > kMaxBytes) {
        lose(e);
        return;
    }
    queued_bytes_ += e.data.size();
    queue_.push_back(std::move(e));
}

bool Sink::flush() {
    for (;;) {
        if (queue_.empty()) {
            if (dropped_ == 0) return true;
            Entry n = notice_(std::exchange(dropped_, 0));
            n.notice = true;
            queued_bytes_ += n.data.size();
            queue_.push_back(std::move(n));
        }
        Entry &e = queue_.front();
        Outcome r = write(e, head_written_);
        if (r == Outcome::Again) return false;
        if (r == Outcome::Failed) lose(e);
        queued_bytes_ -= e.data.size();
        queue_.pop_front();
        head_written_ = 0;
    }
}

Sink::Outcome Sink::write(Entry &e, std::size_t &off) {
    if (how_ == How::Datagram) return send_datagram(e);
    if (how_ == How::Polled) {
        pollfd p{fd_, POLLOUT, 0};
        int r = ::poll(&p, 1, 0);
        if (r < 0) return errno == EINTR ? Outcome::Again : Outcome::Failed;
        if (r == 0) return Outcome::Again;
        if (!(p.revents & POLLOUT)) return Outcome::Failed; // POLLERR, POLLHUP (no reader), POLLNVAL
    }
    while (off < e.data.size()) {
        const char *p = e.data.data() + off;
        const std::size_t left = e.data.size() - off;
        ssize_t n = how_ == How::Send ? ::send(fd_, p, left, MSG_DONTWAIT | MSG_NOSIGNAL) : ::write(fd_, p, left);
        if (n > 0) {
            off += static_cast<std::size_t>(n);
            if (how_ == How::Polled && off < e.data.size()) return Outcome::Again; // one write per poll
            continue;
        }
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return Outcome::Again;
        return Outcome::Failed; // EPIPE (no reader; SIGPIPE is ignored by the event loop), EIO, EBADF...
    }
    return Outcome::Done;
}

Sink::Outcome Sink::send_datagram(Entry &e) {
    int err = send_once(fd_, e.data);
    // Refused: the receiver's socket is gone, perhaps replaced by a new one at the same path. Connect once more.
    if ((err == ECONNREFUSED || err == ENOTCONN || err == ECONNRESET) && journal::reconnect(fd_, path_) == 0)
        err = send_once(fd_, e.data);
    if (too_big(err, e.data.size())) {
        // Keep the entry, with MESSAGE halved until the datagram fits (MESSAGE is the last field).
        const std::string_view message = journal::field_value(e.data, e.message_at); // e.data is replaced last
        for (std::size_t keep = message.size() / 2;; keep /= 2) {
            std::string d = e.data.substr(0, e.message_at);
            journal::append_field(d, "MESSAGE", shorten(message, keep));
            err = send_once(fd_, d);
            if (!too_big(err, d.size())) {
                e.data = std::move(d); // if it has to wait (EAGAIN), it waits shortened
                break;
            }
            if (keep == 0) break;
        }
    }
    if (err == 0) return Outcome::Done;
    if (err == EAGAIN || err == EWOULDBLOCK) return Outcome::Again;
    return Outcome::Failed;
}

Sink stderr_sink(Sink::NoticeFn notice) {
    struct stat st {};
    if (::fstat(STDERR_FILENO, &st) == 0) {
        if (S_ISSOCK(st.st_mode)) return Sink({}, STDERR_FILENO, How::Send, std::move(notice));
        if (S_ISFIFO(st.st_mode) || S_ISCHR(st.st_mode)) {
            // A new open file description of the same pipe or terminal: O_NONBLOCK on it is watchd's alone.
            // O_NOCTTY: a terminal opened here must not become watchd's controlling terminal.
            int fd = ::open("/proc/self/fd/2", O_WRONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
            if (fd >= 0) return Sink(base::UniqueFd(fd), fd, How::Write, std::move(notice));
            return Sink({}, STDERR_FILENO, How::Polled, std::move(notice));
        }
    }
    return Sink({}, STDERR_FILENO, How::Write, std::move(notice)); // a regular file: written as it is
}

} // namespace watchd::sys::log
