// An epoll set under one loop source (see poll_set.h). Each event carries its entry's index and generation, so an event
// fetched for a client that went away in the same batch (its probe was stopped by another's result) is dropped.
#include "event/poll_set.h"

#include <cerrno>
#include <sys/epoll.h>

namespace watchd::event {

namespace {
std::uint64_t pack(std::uint32_t index, std::uint32_t generation) {
    return (static_cast<std::uint64_t>(index) << 32) | generation;
}
} // namespace

base::Result<std::unique_ptr<PollSet>> PollSet::create(Loop &loop) {
    std::unique_ptr<PollSet> p(new PollSet());
    const int fd = ::epoll_create1(EPOLL_CLOEXEC);
    if (fd < 0) return base::unexpected(base::errno_error(errno, "epoll_create1"));
    p->epoll_ = base::UniqueFd(fd);
    PollSet *raw = p.get();
    auto src = IoSource::create(loop, fd, io::kReadable, [raw](std::uint32_t) { raw->dispatch(); });
    if (!src) return base::unexpected(src.error());
    p->source_ = std::move(*src);
    return p;
}

base::Result<void> PollSet::wait(int fd, std::uint32_t events, Client *c, Slot &slot) {
    if (!slot.used) {
        if (free_.empty()) {
            entries_.emplace_back();
            slot.index = static_cast<std::uint32_t>(entries_.size() - 1);
        } else {
            slot.index = free_.back();
            free_.pop_back();
        }
        slot.used = true;
        slot.added = false;
    }
    Entry &e = entries_[slot.index];
    e.client = c;
    epoll_event ev{};
    ev.events = (events & (io::kReadable | io::kWritable)) | EPOLLONESHOT; // io bits are epoll's
    ev.data.u64 = pack(slot.index, e.generation);
    int r = ::epoll_ctl(epoll_.get(), slot.added ? EPOLL_CTL_MOD : EPOLL_CTL_ADD, fd, &ev);
    if (r < 0 && errno == EEXIST) // still in the set from a client that forgot it without closing it
        r = ::epoll_ctl(epoll_.get(), EPOLL_CTL_MOD, fd, &ev);
    if (r < 0) return base::unexpected(base::errno_error(errno, "epoll_ctl"));
    slot.added = true;
    return {};
}

void PollSet::forget(Slot &slot) {
    if (!slot.used) return;
    Entry &e = entries_[slot.index];
    e.client = nullptr;
    ++e.generation;
    free_.push_back(slot.index);
    slot = Slot{};
}

void PollSet::dispatch() {
    epoll_event events[256];
    const int n = ::epoll_wait(epoll_.get(), events, 256, 0);
    for (int i = 0; i < n; ++i) {
        const auto index = static_cast<std::uint32_t>(events[i].data.u64 >> 32);
        const auto generation = static_cast<std::uint32_t>(events[i].data.u64);
        if (index >= entries_.size()) continue;
        Entry &e = entries_[index];
        if (!e.client || e.generation != generation) continue; // its client went away meanwhile
        e.client->ready(events[i].events);
    }
}

} // namespace watchd::event
