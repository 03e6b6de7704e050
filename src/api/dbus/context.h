// What the object vtables of the bus service share (private to src/api/dbus): the supervisor's seams, the daemon's
// hooks, and the unit object the last find callback looked up.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "api/dbus/bus_handles.h"
#include "api/dbus/bus_service.h"
#include "api/dbus/properties.h"
#include "base/time.h"
#include "supervisor/command_sink.h"
#include "supervisor/view.h"

namespace watchd::api::dbus {

struct Context;

// What a unit's find callback hands to its getters and methods (sd-bus's userdata).
struct FoundUnit : UnitObject {
    Context *ctx = nullptr;
};

struct Context {
    Context(const supervisor::ViewProvider &v, supervisor::CommandSink &c, Hooks h)
        : views(v), commands(c), hooks(std::move(h)) {}
    Context(const Context &) = delete;
    Context &operator=(const Context &) = delete;

    const supervisor::ViewProvider &views;
    supervisor::CommandSink &commands;
    Hooks hooks;
    // sd-bus runs a unit's find callback, then that unit's getters or method, before the next find: one slot is
    // enough, and it is refreshed on every lookup.
    FoundUnit found;
    // While InterfacesRemoved is emitted for a unit that is already gone from the views, its last snapshot.
    std::optional<UnitObject> removed;

    // The unit object of `ref` now (view without history + the daemon's extras), or nullopt.
    std::optional<UnitObject> object(const supervisor::UnitRef &ref) const;
    // Every unit object now, by unit.
    std::map<supervisor::UnitRef, UnitObject> objects() const;
    // The manager's counters now; recomputed only after a change (mark_changed()), since GetAll reads nine.
    const Counts &counts();
    void mark_changed() { counts_valid_ = false; }
    std::string instance_id; // of this watchd run
    base::Usec started = 0;  // realtime µs

private:
    Counts counts_;
    bool counts_valid_ = false;
};

// The vtables (exposed for the test that checks them against the property tables).
extern const sd_bus_vtable kManagerVtable[];
const sd_bus_vtable *unit_vtable(supervisor::UnitKind kind);

// Registers /org/watchd1 (org.watchd1.Manager) and the ObjectManager there; slots are appended to `slots`.
int add_manager_object(sd_bus *bus, Context &ctx, std::vector<BusSlotPtr> &slots);
// Registers the unit objects of every kind (fallback vtables + node enumerators under /org/watchd1/<kind>).
int add_unit_objects(sd_bus *bus, Context &ctx, std::vector<BusSlotPtr> &slots);

// Mutating calls are root's: returns 1 when the sender's effective uid is 0 (as the bus daemon saw it, not read
// racily from /proc); otherwise fills `error` with org.freedesktop.DBus.Error.AccessDenied and returns its
// negative errno. `what` names the call in the message ("org.watchd1.App.Disable()").
// pid: when not null, the sender's PID (for the log), 0 when unknown.
int require_root(sd_bus_message *m, sd_bus_error *error, const std::string &what, pid_t *pid = nullptr);
// Submits a command for root (who owns the config: authenticated without the unit's secret) and answers the call:
// an empty reply, or the command's error as a D-Bus error. Logs who asked for what.
int submit_and_reply(Context &ctx, sd_bus_message *m, const supervisor::UnitRef &ref, supervisor::Command cmd,
                     const std::string &what, sd_bus_error *error);
// Fills `error` with org.watchd1.Error.NoSuchUnit for `ref`; returns its negative errno.
int no_such_unit(sd_bus_error *error, const supervisor::UnitRef &ref);

} // namespace watchd::api::dbus
