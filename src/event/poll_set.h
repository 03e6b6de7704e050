// An epoll set of its own under one source on the loop, for many short-lived sockets (the socket probes): those that
// become ready together are handled in one dispatch (sd-event dispatches one source per iteration, and an iteration
// costs an epoll_wait of its own), each wait is one-shot, and a socket leaves the set by being closed.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "base/result.h"
#include "base/unique_fd.h"
#include "event/loop.h"
#include "event/source.h"

namespace watchd::event {

class PollSet {
public:
    // What waits on a socket: told once per wait().
    class Client {
    public:
        virtual void ready(std::uint32_t revents) = 0;

    protected:
        ~Client() = default;
    };
    // A client's registration; forget()ing it (or destroying the poll) means no more calls.
    struct Slot {
        std::uint32_t index = 0;
        bool used = false, added = false;
    };

    static base::Result<std::unique_ptr<PollSet>> create(Loop &loop);
    PollSet(const PollSet &) = delete;
    PollSet &operator=(const PollSet &) = delete;

    // Waits once for `events` (event::io bits) on fd: c->ready() is called from the loop when one comes (errors and
    // hang-ups always count). The fd stays registered until it is closed (a new client may wait on it again);
    // `slot` remembers it. Fails only when epoll_ctl does (no memory, too many watches).
    base::Result<void> wait(int fd, std::uint32_t events, Client *c, Slot &slot);
    // The client goes away: events already fetched for it are dropped. Call before its fd is closed.
    void forget(Slot &slot);

private:
    PollSet() = default;
    void dispatch();

    struct Entry {
        Client *client = nullptr;
        std::uint32_t generation = 0;
    };
    base::UniqueFd epoll_;
    std::vector<Entry> entries_;
    std::vector<std::uint32_t> free_;
    std::unique_ptr<IoSource> source_;
};

} // namespace watchd::event
