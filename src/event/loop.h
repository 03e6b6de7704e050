// Loop: the one event loop (sd-event inside; no other layer names it). Blocks the signals it handles, runs until
// exit(), feeds systemd's watchdog.
#pragma once

#include <memory>

#include "base/result.h"
#include "base/time.h"

struct sd_event;

namespace watchd::event {

// When a source runs relative to others that are ready at the same time (lower runs first; sd-event's values).
enum class Priority : int {
    Important = -100, // process exits: a restart must not wait behind output pipes
    Normal = 0,
    Idle = 100,       // clean-up that can wait until nothing else is pending
};

class Loop {
public:
    // Creates the loop and blocks SIGTERM, SIGINT, SIGHUP and SIGCHLD (handled through the loop only).
    static base::Result<std::unique_ptr<Loop>> create();
    ~Loop();
    Loop(const Loop &) = delete;
    Loop &operator=(const Loop &) = delete;

    // Sends WATCHDOG=1 from the loop when $WATCHDOG_USEC asks for it.
    void enable_watchdog();
    // Runs until exit(); returns the exit code.
    int run();
    void exit(int code);
    // Runs at most one iteration, waiting up to `timeout` for something to happen (tests and tools drive the
    // loop with it). Returns false once the loop has finished.
    bool run_once(base::Usec timeout);

private:
    friend class IoSource;
    friend class Timer;
    friend class ChildSource;
    friend class SignalSource;
    Loop() = default;
    sd_event *raw() const { return event_; }
    sd_event *event_ = nullptr;
};

} // namespace watchd::event
