// Observers of the core: what D-Bus signals, HTTP server-sent events, metrics and systemd's STATUS= follow.
#pragma once

#include "supervisor/view.h"

namespace watchd::supervisor {

class UnitObserver {
public:
    // A unit changed (state, PID, instance, toggles, key/value: anything that moves its CAS), called from the one
    // place where units change, after the change. view: the unit now (without history); old_state, new_state: its
    // state before and after (equal when only other properties changed). Called inside the event loop: return
    // quickly; commands submitted from here are queued behind the current event.
    virtual void on_unit_changed(const UnitView &view, UnitState old_state, UnitState new_state) noexcept = 0;
    // An instance of `unit` ended and `entry` was appended to its history.
    virtual void on_history_added(const UnitRef &unit, const HistoryEntry &entry) noexcept = 0;
    // A reload removed `unit` and it is down: it is gone from the views from now on.
    virtual void on_unit_removed(const UnitRef &unit) noexcept = 0;

protected:
    ~UnitObserver() = default;
};

} // namespace watchd::supervisor
