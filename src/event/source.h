// Event sources on sd-event: io, timer, child (pidfd), signal. Each owns its sd_event_source and its callback;
// destroying the object disables the source, so no callback outlives its owner.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <signal.h>
#include <systemd/sd-event.h>

#include "base/handle.h"
#include "base/result.h"
#include "base/time.h"

namespace watchd::event {

using EventPtr = base::Handle<sd_event, sd_event_unref>;
using SourcePtr = base::Handle<sd_event_source, sd_event_source_disable_unref>;

// An fd becoming readable/writable (or a pidfd: its process exited).
class IoSource {
public:
    using Callback = std::function<void(std::uint32_t revents)>;
    // priority: sd-event's (lower runs first), e.g. SD_EVENT_PRIORITY_IMPORTANT for process exits.
    static base::Result<std::unique_ptr<IoSource>> create(sd_event *e, int fd, std::uint32_t events, Callback cb,
                                                          int priority = SD_EVENT_PRIORITY_NORMAL);
    IoSource(const IoSource &) = delete;
    // Stops dispatching; safe from inside the callback (destroying the source there is not).
    void disable();
    IoSource &operator=(const IoSource &) = delete;

private:
    IoSource() = default;
    static int dispatch(sd_event_source *, int, std::uint32_t revents, void *ud) noexcept;
    Callback cb_;
    SourcePtr src_;
};

// A re-armable one-shot timer on CLOCK_MONOTONIC.
class Timer {
public:
    using Callback = std::function<void()>;
    static base::Result<std::unique_ptr<Timer>> create(sd_event *e, Callback cb,
                                                       int priority = SD_EVENT_PRIORITY_NORMAL);
    Timer(const Timer &) = delete;
    Timer &operator=(const Timer &) = delete;
    // Fires once at `at` (CLOCK_MONOTONIC µs); re-arming moves the deadline.
    void arm(base::Usec at);
    void cancel();
    bool armed() const;

private:
    Timer() = default;
    static int dispatch(sd_event_source *, std::uint64_t, void *ud) noexcept;
    Callback cb_;
    SourcePtr src_;
};

// A child process watched through its pidfd; sd-event reaps it after the callback (which gets its siginfo).
// Dispatched before ordinary sources (SD_EVENT_PRIORITY_IMPORTANT): a restart must not wait behind the dead
// child's output pipes reaching EOF.
class ChildSource {
public:
    using Callback = std::function<void(const siginfo_t &)>;
    static base::Result<std::unique_ptr<ChildSource>> create(sd_event *e, int pidfd, Callback cb);
    ChildSource(const ChildSource &) = delete;
    ChildSource &operator=(const ChildSource &) = delete;

private:
    ChildSource() = default;
    static int dispatch(sd_event_source *, const siginfo_t *si, void *ud) noexcept;
    Callback cb_;
    SourcePtr src_;
};

// A signal delivered through signalfd (the caller blocks it first: see Loop).
class SignalSource {
public:
    using Callback = std::function<void(const signalfd_siginfo &)>;
    static base::Result<std::unique_ptr<SignalSource>> create(sd_event *e, int sig, Callback cb);
    SignalSource(const SignalSource &) = delete;
    SignalSource &operator=(const SignalSource &) = delete;

private:
    SignalSource() = default;
    static int dispatch(sd_event_source *, const signalfd_siginfo *si, void *ud) noexcept;
    Callback cb_;
    SourcePtr src_;
};

} // namespace watchd::event
