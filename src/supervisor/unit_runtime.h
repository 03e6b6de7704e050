// Live resources of one unit: its process watches, timers and output readers. Destroyed with the unit.
#pragma once

#include <memory>
#include <string>
#include <sys/types.h>
#include <vector>

#include "base/unique_fd.h"
#include "event/source.h"

namespace watchd::supervisor {

// A process being watched through its pidfd. `fd` is declared first so the source goes before it.
struct WatchedProcess {
    pid_t pid = 0;
    bool child = false; // spawned by watchd (reaped by sd-event) vs. found through a pid file or a ping
    base::Pidfd fd;
    std::unique_ptr<event::ChildSource> child_source;
    std::unique_ptr<event::IoSource> io_source;
};

// Reads an app's stdout or stderr pipe and forwards whole lines to the journal (or watchd's stderr).
struct OutputReader {
    std::string app_id;
    std::string instance;
    pid_t pid = 0;
    int priority = 6;
    std::string partial;
    base::UniqueFd fd;
    std::unique_ptr<event::IoSource> source;
    bool done = false;
};

struct UnitRuntime {
    std::vector<std::unique_ptr<WatchedProcess>> processes;
    std::vector<std::unique_ptr<OutputReader>> outputs;
    std::unique_ptr<event::Timer> state_timer;
    std::unique_ptr<event::Timer> exec_timer;
};

} // namespace watchd::supervisor
