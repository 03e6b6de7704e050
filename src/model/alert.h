// Alert: all a notifier ever sees of an event (ARCHITECTURE.md): which unit, what happened, the text for people.
#pragma once

#include <string>

#include "base/time.h"
#include "model/unit_ref.h"

namespace watchd::model {

enum class AlertKind {
    Down,      // a check failed (as gossm's backoff allows)
    Up,        // a check is up again
    Failed,    // an app or a service hit its start limit: it is not restarted any more
    CrashLoop, // an app or a service failed quickly kCrashLoopFailures times in a row: restarted with backoff
    Recovered, // an app or a service that had failed runs again
};

// Quick failures in a row that make a crash loop worth telling (once per loop).
inline constexpr unsigned kCrashLoopFailures = 3;

struct Alert {
    UnitRef unit;
    AlertKind kind = AlertKind::Down;
    std::string name;    // the unit's display name
    std::string target;  // checks: "web (tcp 10.0.0.1:80)", gossm's server text; else empty
    std::string message; // what happened, with the error ("not reached: connection refused")
    base::Usec at = 0;   // realtime µs
    base::Usec since = 0; // realtime µs the trouble started (Down: the first failure), 0 when not known
};

// "down", "up", "failed", "recovered".
std::string_view to_string(AlertKind k);

} // namespace watchd::model
