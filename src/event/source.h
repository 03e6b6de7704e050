// Event sources on the loop: io, timer, child (pidfd), signal. Each owns its source and its callback; destroying
// the object disables the source, so no callback outlives its owner.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <signal.h>
#include <sys/signalfd.h>

#include "base/result.h"
#include "base/time.h"
#include "event/loop.h"

struct sd_event_source;

namespace watchd::event {

// What an IoSource waits for and what its callback is told (epoll's bits, under watchd's names).
namespace io {
inline constexpr std::uint32_t kReadable = 0x001; // data to read (or a pidfd: its process exited)
inline constexpr std::uint32_t kWritable = 0x004; // room to write
inline constexpr std::uint32_t kError = 0x008;    // an error condition (always reported)
inline constexpr std::uint32_t kHangup = 0x010;   // the peer closed (always reported)
} // namespace io

struct SourceUnref {
    void operator()(sd_event_source *s) const noexcept; // disables, then unrefs
};
using SourcePtr = std::unique_ptr<sd_event_source, SourceUnref>;

// An fd becoming readable/writable (or a pidfd: its process exited).
class IoSource {
public:
    using Callback = std::function<void(std::uint32_t revents)>;
    // events: io::kReadable | io::kWritable.
    static base::Result<std::unique_ptr<IoSource>> create(Loop &loop, int fd, std::uint32_t events, Callback cb,
                                                          Priority priority = Priority::Normal);
    IoSource(const IoSource &) = delete;
    IoSource &operator=(const IoSource &) = delete;
    // Changes what to wait for (a protocol that alternates reading and writing, e.g. curl's or MHD's sockets).
    base::Result<void> set_events(std::uint32_t events);
    // Stops dispatching; safe from inside the callback (destroying the source there is not).
    void disable();
    // Dispatches again after disable() (for an fd: back in the loop's epoll set, which can fail for want of memory).
    base::Result<void> enable();

private:
    IoSource() = default;
    static int dispatch(sd_event_source *, int, std::uint32_t revents, void *ud) noexcept;
    Callback cb_;
    SourcePtr src_;
};

// A re-armable one-shot timer on CLOCK_MONOTONIC, accurate to 1 ms unless told otherwise.
class Timer {
public:
    using Callback = std::function<void()>;
    // `accuracy`: how late it may fire, so that sd-event can wake once for several timers (1 ms by default; a
    // timeout that only has to end something eventually can take more, and then costs no re-arm of the loop's
    // timerfd when it is set or cancelled).
    static base::Result<std::unique_ptr<Timer>> create(Loop &loop, Callback cb, Priority priority = Priority::Normal,
                                                       base::Usec accuracy = base::kUsecPerMsec);
    Timer(const Timer &) = delete;
    Timer &operator=(const Timer &) = delete;
    // Fires once at `at` (CLOCK_MONOTONIC µs; a time in the past fires on the next iteration); re-arming moves it.
    // Moved later while armed (a keepalive timeout at every ping), it stays armed in sd-event for the earlier
    // deadline and, woken there, goes on to the latest: a move costs no sd-event call.
    void arm(base::Usec at);
    void cancel();
    bool armed() const { return armed_; }

private:
    Timer() = default;
    static int dispatch(sd_event_source *, std::uint64_t, void *ud) noexcept;
    void set(base::Usec at);
    Callback cb_;
    SourcePtr src_;
    bool armed_ = false;
    base::Usec at_ = 0;     // the deadline asked for
    base::Usec set_at_ = 0; // the one sd-event holds (at most at_)
};

// A child process watched through its pidfd; the loop reaps it after the callback (which gets its siginfo).
// Dispatched before ordinary sources (Priority::Important): a restart must not wait behind the dead child's output
// pipes reaching EOF.
class ChildSource {
public:
    using Callback = std::function<void(const siginfo_t &)>;
    static base::Result<std::unique_ptr<ChildSource>> create(Loop &loop, int pidfd, Callback cb);
    ChildSource(const ChildSource &) = delete;
    ChildSource &operator=(const ChildSource &) = delete;

private:
    ChildSource() = default;
    static int dispatch(sd_event_source *, const siginfo_t *si, void *ud) noexcept;
    Callback cb_;
    SourcePtr src_;
};

// A signal delivered through signalfd (the loop blocks it first: see Loop::create).
class SignalSource {
public:
    using Callback = std::function<void(const signalfd_siginfo &)>;
    static base::Result<std::unique_ptr<SignalSource>> create(Loop &loop, int sig, Callback cb);
    SignalSource(const SignalSource &) = delete;
    SignalSource &operator=(const SignalSource &) = delete;

private:
    SignalSource() = default;
    static int dispatch(sd_event_source *, const signalfd_siginfo *si, void *ud) noexcept;
    Callback cb_;
    SourcePtr src_;
};

} // namespace watchd::event
