// One log destination that never blocks its caller. An entry is written at once when the fd takes it; otherwise
// it waits in a bounded queue (kMaxEntries entries, kMaxBytes bytes), and beyond that it is dropped and counted.
// When the queue has drained, the count is written as an entry of its own ("N messages dropped"), so a loss is
// always visible where the log is read. Private to sys/log.cc (and its tests).
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <string>

#include "base/unique_fd.h"

namespace watchd::sys::log {

struct Entry {
    std::string data;            // the bytes to write: one line with its '\n', or one journal datagram
    std::size_t message_at = 0;  // datagrams: offset of the MESSAGE field (the last one), for truncation
    bool notice = false;         // the drop count itself: its own loss is not counted again
};

// How entries reach the fd.
enum class How {
    Write,    // write(): a regular file (as it is), or watchd's own O_NONBLOCK open file description of fd 2
    Polled,   // write() when poll() says there is room: fd 2 itself, when it could not be reopened
    Send,     // send(MSG_DONTWAIT | MSG_NOSIGNAL): fd 2 is a socket (e.g. journald's stdout stream)
    Datagram, // as Send, one entry per datagram: a too large one is sent with a shortened MESSAGE; a refused one
              // after connecting again once (journal_native.h)
};

class Sink {
public:
    static constexpr std::size_t kMaxEntries = 1000;
    static constexpr std::size_t kMaxBytes = 1 << 20;
    using NoticeFn = std::function<Entry(std::uint64_t dropped)>; // formats "N messages dropped" for this fd

    // owned: closed with the sink (may be empty when fd is not ours, e.g. fd 2); path: Datagram's peer.
    Sink(base::UniqueFd owned, int fd, How how, NoticeFn notice, std::string path = {});

    // Writes e now if nothing is queued and the fd takes it whole; keeps what is left of a partly written line
    // at the head of the queue (no other line may come in between); queues e behind older entries, or drops it
    // when the queue is full. Never waits.
    void submit(Entry e);
    // Writes queued entries (then the drop count) until the fd would block. True when nothing is left.
    bool flush();

    bool backlogged() const { return !queue_.empty(); }
    int fd() const { return fd_; }
    How how() const { return how_; }
    std::uint64_t dropped_total() const { return dropped_total_; }

private:
    enum class Outcome { Done, Again, Failed };
    Outcome write(Entry &e, std::size_t &off);
    Outcome send_datagram(Entry &e);
    void lose(const Entry &e);

    base::UniqueFd owned_;
    int fd_;
    How how_;
    NoticeFn notice_;
    std::string path_;
    std::deque<Entry> queue_;
    std::size_t queued_bytes_ = 0;
    std::size_t head_written_ = 0; // bytes of queue_.front() already written
    std::uint64_t dropped_ = 0;    // since the last drop notice
    std::uint64_t dropped_total_ = 0;
};

// The sink for fd 2, chosen by what fd 2 is: a socket → Send; a pipe, FIFO, terminal or other character device →
// Write to a new O_NONBLOCK open file description of it (/proc/self/fd/2; fd 2's own flags, shared with the
// parent, are left alone), or Polled when it cannot be reopened; anything else (a regular file) → Write as it is.
Sink stderr_sink(Sink::NoticeFn notice);

} // namespace watchd::sys::log
