// sd-event source wrappers. Callbacks are noexcept trampolines: an escaping exception is a bug, logged, ignored.
#include "event/source.h"

#include <algorithm>
#include <cstdio>
#include <exception>
#include <sys/epoll.h>
#include <systemd/sd-event.h>

namespace watchd::event {

static_assert(io::kReadable == EPOLLIN && io::kWritable == EPOLLOUT && io::kError == EPOLLERR &&
              io::kHangup == EPOLLHUP);

void SourceUnref::operator()(sd_event_source *s) const noexcept { sd_event_source_disable_unref(s); }

namespace {
template <class F> int guarded(const char *what, F &&f) noexcept {
    try {
        f();
    } catch (const std::exception &e) {
        std::fprintf(stderr, "<3>watchd: BUG: exception in %s callback: %s, ignoring\n", what, e.what());
    } catch (...) {
        std::fprintf(stderr, "<3>watchd: BUG: unknown exception in %s callback, ignoring\n", what);
    }
    return 0; // never disable a source or end the loop because of a callback
}
} // namespace

base::Result<std::unique_ptr<IoSource>> IoSource::create(Loop &loop, int fd, std::uint32_t events, Callback cb,
                                                         Priority priority) {
    std::unique_ptr<IoSource> s(new IoSource());
    s->cb_ = std::move(cb);
    sd_event_source *raw = nullptr;
    int r = sd_event_add_io(loop.raw(), &raw, fd, events, &IoSource::dispatch, s.get());
    if (r < 0) return base::unexpected(base::errno_error(r, "sd_event_add_io"));
    s->src_.reset(raw);
    sd_event_source_set_priority(raw, static_cast<int>(priority));
    return s;
}

base::Result<void> IoSource::set_events(std::uint32_t events) {
    int r = sd_event_source_set_io_events(src_.get(), events);
    if (r < 0) return base::unexpected(base::errno_error(r, "sd_event_source_set_io_events"));
    return {};
}

void IoSource::disable() { sd_event_source_set_enabled(src_.get(), SD_EVENT_OFF); }
base::Result<void> IoSource::enable() {
    const int r = sd_event_source_set_enabled(src_.get(), SD_EVENT_ON);
    if (r < 0) return base::unexpected(base::errno_error(r, "sd_event_source_set_enabled"));
    return {};
}

int IoSource::dispatch(sd_event_source *, int, std::uint32_t revents, void *ud) noexcept {
    auto *self = static_cast<IoSource *>(ud);
    return guarded("io", [&] { self->cb_(revents); });
}

base::Result<std::unique_ptr<Timer>> Timer::create(Loop &loop, Callback cb, Priority priority, base::Usec accuracy) {
    std::unique_ptr<Timer> t(new Timer());
    t->cb_ = std::move(cb);
    sd_event_source *raw = nullptr;
    // Accuracy 1 ms unless asked: sd-event's default (0) allows it to coalesce a timer up to 250 ms after its deadline.
    int r = sd_event_add_time(loop.raw(), &raw, CLOCK_MONOTONIC, UINT64_MAX, std::max<base::Usec>(accuracy, 1),
                              &Timer::dispatch, t.get());
    if (r < 0) return base::unexpected(base::errno_error(r, "sd_event_add_time"));
    t->src_.reset(raw);
    sd_event_source_set_priority(raw, static_cast<int>(priority));
    sd_event_source_set_enabled(raw, SD_EVENT_OFF);
    return t;
}

void Timer::set(base::Usec at) {
    sd_event_source_set_time(src_.get(), at);
    sd_event_source_set_enabled(src_.get(), SD_EVENT_ONESHOT);
    set_at_ = at;
}

void Timer::arm(base::Usec at) {
    at_ = at;
    if (!armed_ || at < set_at_) set(at);
    armed_ = true;
}

void Timer::cancel() {
    if (armed_) sd_event_source_set_enabled(src_.get(), SD_EVENT_OFF);
    armed_ = false;
}

int Timer::dispatch(sd_event_source *, std::uint64_t, void *ud) noexcept {
    auto *self = static_cast<Timer *>(ud);
    if (self->at_ > self->set_at_) { // moved later since it was set: on to the deadline asked for
        self->set(self->at_);
        return 0;
    }
    self->armed_ = false;
    return guarded("timer", [&] { self->cb_(); });
}

base::Result<std::unique_ptr<ChildSource>> ChildSource::create(Loop &loop, int pidfd, Callback cb) {
    std::unique_ptr<ChildSource> c(new ChildSource());
    c->cb_ = std::move(cb);
    sd_event_source *raw = nullptr;
    int r = sd_event_add_child_pidfd(loop.raw(), &raw, pidfd, WEXITED, &ChildSource::dispatch, c.get());
    if (r < 0) return base::unexpected(base::errno_error(r, "sd_event_add_child_pidfd"));
    c->src_.reset(raw);
    sd_event_source_set_priority(raw, SD_EVENT_PRIORITY_IMPORTANT);
    return c;
}

int ChildSource::dispatch(sd_event_source *, const siginfo_t *si, void *ud) noexcept {
    auto *self = static_cast<ChildSource *>(ud);
    return guarded("child", [&] { self->cb_(*si); });
}

base::Result<std::unique_ptr<SignalSource>> SignalSource::create(Loop &loop, int sig, Callback cb) {
    std::unique_ptr<SignalSource> s(new SignalSource());
    s->cb_ = std::move(cb);
    sd_event_source *raw = nullptr;
    int r = sd_event_add_signal(loop.raw(), &raw, sig, &SignalSource::dispatch, s.get());
    if (r < 0) return base::unexpected(base::errno_error(r, "sd_event_add_signal"));
    s->src_.reset(raw);
    return s;
}

int SignalSource::dispatch(sd_event_source *, const signalfd_siginfo *si, void *ud) noexcept {
    auto *self = static_cast<SignalSource *>(ud);
    return guarded("signal", [&] { self->cb_(*si); });
}

} // namespace watchd::event
