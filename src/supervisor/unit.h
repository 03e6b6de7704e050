// Supervisor::Unit: one app's spec, model status and live resources (private to the supervisor).
#pragma once

#include <optional>

#include "supervisor/supervisor.h"

namespace watchd::supervisor {

struct Supervisor::Unit {
    model::AppSpec spec;
    model::AppStatus status;
    UnitRuntime rt;                              // declared after status: its callbacks touch it
    std::optional<model::AppSpec> pending_spec;  // reload changed the spec: applied once the unit is down
    bool removing = false;                       // reload dropped it: erased once the unit is down
};

// Stable MESSAGE_ID per announcement (journalctl MESSAGE_ID=...).
std::string_view message_id(model::Announcement a);

} // namespace watchd::supervisor
