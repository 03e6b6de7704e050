// EventLoop: owns the sd_event, blocks the signals it handles, runs until exit().
#pragma once

#include <memory>

#include "base/result.h"
#include "event/source.h"

namespace watchd::event {

class Loop {
public:
    // Creates the loop and blocks SIGTERM, SIGINT, SIGHUP and SIGCHLD (handled through sd-event only).
    static base::Result<std::unique_ptr<Loop>> create();
    Loop(const Loop &) = delete;
    Loop &operator=(const Loop &) = delete;

    sd_event *get() const { return event_.get(); }
    // Sends WATCHDOG=1 from the loop when $WATCHDOG_USEC asks for it.
    void enable_watchdog();
    // Runs until exit(); returns the exit code.
    int run();
    void exit(int code);

private:
    Loop() = default;
    EventPtr event_;
};

} // namespace watchd::event
