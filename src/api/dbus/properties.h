// The properties of unit objects and of the manager, as tables: one row per property (name, signature, how to
// append it, how to tell it changed). The vtables, the getters and PropertiesChanged all go through these rows.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "supervisor/view.h"

struct sd_bus_message;

namespace watchd::api::dbus {

// What one unit object shows: the unit's view, and what the daemon adds from its configuration.
struct UnitObject {
    supervisor::UnitView view;
    std::string log_directory; // apps with a log-directory: the absolute directory of their dated files; else ""
};

// App properties read live when asked (what the app's processes use, as systemd names them; type "t", UINT64_MAX
// when unknown, no PropertiesChanged), served after the table's rows.
inline constexpr const char *kUsageProperties[] = {"CPUUsageNSec", "MemoryCurrent", "TasksCurrent", "Processes"};

struct UnitProperty {
    const char *name;
    const char *signature;
    // Which unit interfaces have it: all, or only org.watchd1.App / org.watchd1.Service.
    enum class Only { Any, App, Service, Check } only;
    bool emits;    // PropertiesChanged carries it (false: constant, or too frequent, as LastSeen on every ping)
    // Appends the value (one complete value of `signature`); returns sd-bus's negative errno on failure.
    int (*append)(sd_bus_message *m, const UnitObject &o);
    bool (*same)(const UnitObject &a, const UnitObject &b);
};

// All unit properties, in the order the interfaces list them.
std::span<const UnitProperty> unit_properties();
// Does the interface of units of `kind` have `p`?
bool has_property(supervisor::UnitKind kind, const UnitProperty &p);
const UnitProperty *find_unit_property(std::string_view name);
// The emitting properties that differ between two snapshots of one unit (for PropertiesChanged), in table
// order; app-only ones only for apps.
std::vector<const char *> changed_properties(const UnitObject &before, const UnitObject &after);

// "patrol", "pidfile", "http", "udp".
std::string_view keepalive_name(supervisor::KeepAlive k);
// patrol's flags of a history entry, by name: "disabled", "restart", "run-once", "shutdown".
std::vector<std::string> flag_names(const model::PatrolFlags &f);

// The manager's counters: units per kind and per state, and whether watchd is stopping.
struct Counts {
    std::uint32_t apps = 0, services = 0, checks = 0;
    std::array<std::uint32_t, model::kUnitStateCount> states{}; // indexed by UnitState, all kinds together
    bool shutting_down = false;
    bool operator==(const Counts &) const = default;
};
Counts count_units(const supervisor::SupervisorView &v);

struct ManagerCounter {
    const char *name; // "NApps", "NRunning", ...
    std::uint32_t (*get)(const Counts &c);
};
// NApps, NServices, NChecks, then one per state (NInactive, NStarting, NRunning, NStopping, NBackoff, NFailed).
std::span<const ManagerCounter> manager_counters();
// The manager properties that differ (the counters and ShuttingDown).
std::vector<const char *> changed_counts(const Counts &before, const Counts &after);

} // namespace watchd::api::dbus
