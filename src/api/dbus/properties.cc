// The property tables of unit objects and of the manager (see properties.h), and the counting behind NRunning...
#include "api/dbus/properties.h"

#include <systemd/sd-bus.h>

namespace watchd::api::dbus {

namespace {

using supervisor::UnitKind;
using supervisor::UnitState;

int append_str(sd_bus_message *m, std::string_view s) {
    return sd_bus_message_append_basic(m, 's', std::string(s).c_str());
}

int append_keyvalue(sd_bus_message *m, const supervisor::KeyValue &kv) {
    int r = sd_bus_message_open_container(m, 'a', "{ss}");
    for (auto it = kv.begin(); r >= 0 && it != kv.end(); ++it)
        r = sd_bus_message_append(m, "{ss}", it->first.c_str(), it->second.c_str());
    return r < 0 ? r : sd_bus_message_close_container(m);
}

constexpr auto Any = UnitProperty::Only::Any, App = UnitProperty::Only::App, Service = UnitProperty::Only::Service,
               Check = UnitProperty::Only::Check;

constexpr std::uint64_t kZero = 0;

// A row whose value is one expression of the view `v` (and of `o` for what is not in the view).
#define WATCHD_ROW(NAME, SIG, ONLY, EMITS, APPEND, VALUE)                                                      \
    UnitProperty {                                                                                                 \
        NAME, SIG, ONLY, EMITS,                                                                                    \
            [](sd_bus_message *m, const UnitObject &o) -> int {                                                    \
                [[maybe_unused]] const supervisor::UnitView &v = o.view;                                           \
                return APPEND;                                                                                     \
            },                                                                                                     \
            [](const UnitObject &a, const UnitObject &b) -> bool {                                                 \
                auto value = [](const UnitObject &o) {                                                             \
                    [[maybe_unused]] const supervisor::UnitView &v = o.view;                                       \
                    return VALUE;                                                                                  \
                };                                                                                                 \
                return value(a) == value(b);                                                                       \
            }                                                                                                      \
    }

std::uint32_t u32(pid_t p) { return static_cast<std::uint32_t>(p > 0 ? p : 0); }

const UnitProperty kUnitProperties[] = {
    WATCHD_ROW("Kind", "s", Any, false, append_str(m, model::to_string(v.ref.kind)), v.ref.kind),
    WATCHD_ROW("Id", "s", Any, false, append_str(m, v.ref.id), v.ref.id),
    WATCHD_ROW("Name", "s", Any, true, append_str(m, v.name), v.name),
    WATCHD_ROW("State", "s", Any, true, append_str(m, model::to_string(v.state)), v.state),
    WATCHD_ROW("ActiveState", "s", Any, true, append_str(m, model::to_active_state(v.state)),
               model::to_active_state(v.state)),
    WATCHD_ROW("Desired", "s", Any, true, append_str(m, model::to_string(v.desired)), v.desired),
    WATCHD_ROW("PID", "u", Any, true, sd_bus_message_append(m, "u", u32(v.pid)), v.pid),
    WATCHD_ROW("InstanceID", "s", Any, true, append_str(m, v.instance_id), v.instance_id),
    WATCHD_ROW("Started", "t", Any, true, sd_bus_message_append(m, "t", std::uint64_t(v.started)), v.started),
    WATCHD_ROW("LastSeen", "t", Any, false, sd_bus_message_append(m, "t", std::uint64_t(v.last_seen)),
               v.last_seen),
    WATCHD_ROW("Disabled", "b", Any, true, sd_bus_message_append(m, "b", int(v.disabled)), v.disabled),
    WATCHD_ROW("RunOnce", "b", Any, true, sd_bus_message_append(m, "b", int(v.run_once)), v.run_once),
    WATCHD_ROW("Restarts", "t", Any, true, sd_bus_message_append(m, "t", std::uint64_t(v.restarts)), v.restarts),
    WATCHD_ROW("LastExit", "(ii)", Any, true,
               sd_bus_message_append(m, "(ii)", std::int32_t(v.last_exit_code), std::int32_t(v.last_signal)),
               std::pair(v.last_exit_code, v.last_signal)),
    WATCHD_ROW("LastError", "s", Any, true, append_str(m, v.last_error), v.last_error),
    WATCHD_ROW("Supervised", "b", Any, true, sd_bus_message_append(m, "b", int(v.supervised)), v.supervised),
    WATCHD_ROW("KeyValue", "a{ss}", Any, true, append_keyvalue(m, v.keyvalue), v.keyvalue),
    WATCHD_ROW("KeepAlive", "s", App, true,
               append_str(m, v.keepalive ? keepalive_name(*v.keepalive) : std::string_view()), v.keepalive),
    WATCHD_ROW("LogDirectory", "s", App, true, append_str(m, o.log_directory), o.log_directory),
    WATCHD_ROW("Unit", "s", Service, true, append_str(m, v.systemd ? v.systemd->unit : ""),
               v.systemd ? v.systemd->unit : ""),
    WATCHD_ROW("UnitLoadState", "s", Service, true, append_str(m, v.systemd ? v.systemd->load_state : ""),
               v.systemd ? v.systemd->load_state : ""),
    WATCHD_ROW("UnitActiveState", "s", Service, true, append_str(m, v.systemd ? v.systemd->active_state : ""),
               v.systemd ? v.systemd->active_state : ""),
    WATCHD_ROW("UnitSubState", "s", Service, true, append_str(m, v.systemd ? v.systemd->sub_state : ""),
               v.systemd ? v.systemd->sub_state : ""),
    WATCHD_ROW("UnitResult", "s", Service, true, append_str(m, v.systemd ? v.systemd->result : ""),
               v.systemd ? v.systemd->result : ""),
    // A check's target, and its last probe (not signalled: it changes with every probe, as LastSeen does).
    WATCHD_ROW("Protocol", "s", Check, false, append_str(m, v.check ? v.check->protocol : ""),
               v.check ? v.check->protocol : ""),
    WATCHD_ROW("Endpoint", "s", Check, false, append_str(m, v.check ? v.check->endpoint : ""),
               v.check ? v.check->endpoint : ""),
    WATCHD_ROW("LastLatency", "t", Check, false,
               sd_bus_message_append_basic(m, 't', &(v.check ? v.check->last_latency : kZero)),
               v.check ? v.check->last_latency : 0),
    WATCHD_ROW("Probes", "t", Check, false, sd_bus_message_append_basic(m, 't', &(v.check ? v.check->probes : kZero)),
               v.check ? v.check->probes : 0),
};
#undef WATCHD_ROW

constexpr const char *kStateCounters[] = {"NInactive", "NStarting", "NRunning", "NStopping", "NBackoff", "NFailed",
                                          "NUnavailable"};
static_assert(std::size(kStateCounters) == model::kUnitStateCount, "one counter per UnitState, in enum order");

template <std::size_t I> std::uint32_t state_count(const Counts &c) { return c.states[I]; }

const ManagerCounter kManagerCounters[] = {
    {"NApps", [](const Counts &c) { return c.apps; }},
    {"NServices", [](const Counts &c) { return c.services; }},
    {"NChecks", [](const Counts &c) { return c.checks; }},
    {kStateCounters[0], state_count<0>},
    {kStateCounters[1], state_count<1>},
    {kStateCounters[2], state_count<2>},
    {kStateCounters[3], state_count<3>},
    {kStateCounters[4], state_count<4>},
    {kStateCounters[5], state_count<5>},
    {kStateCounters[6], state_count<6>},
};

} // namespace

std::span<const UnitProperty> unit_properties() { return kUnitProperties; }

const UnitProperty *find_unit_property(std::string_view name) {
    for (const UnitProperty &p : kUnitProperties)
        if (name == p.name) return &p;
    return nullptr;
}

std::vector<const char *> changed_properties(const UnitObject &before, const UnitObject &after) {
    std::vector<const char *> names;
    for (const UnitProperty &p : kUnitProperties)
        if (p.emits && has_property(after.view.ref.kind, p) && !p.same(before, after)) names.push_back(p.name);
    return names;
}

bool has_property(UnitKind kind, const UnitProperty &p) {
    return p.only == UnitProperty::Only::Any || (p.only == UnitProperty::Only::App && kind == UnitKind::App) ||
           (p.only == UnitProperty::Only::Service && kind == UnitKind::Service) ||
           (p.only == UnitProperty::Only::Check && kind == UnitKind::Check);
}

std::string_view keepalive_name(supervisor::KeepAlive k) {
    switch (k) {
    case supervisor::KeepAlive::Patrol: return "patrol";
    case supervisor::KeepAlive::PidFile: return "pidfile";
    case supervisor::KeepAlive::Http: return "http";
    case supervisor::KeepAlive::Udp: return "udp";
    }
    return "";
}

std::vector<std::string> flag_names(const model::PatrolFlags &f) {
    std::vector<std::string> out;
    if (f.disabled) out.emplace_back("disabled");
    if (f.restart) out.emplace_back("restart");
    if (f.run_once) out.emplace_back("run-once");
    if (f.shutdown) out.emplace_back("shutdown");
    return out;
}

Counts count_units(const supervisor::SupervisorView &v) {
    Counts c;
    c.shutting_down = v.shutting_down;
    for (const auto &u : v.units) {
        (u.ref.kind == UnitKind::App ? c.apps : u.ref.kind == UnitKind::Service ? c.services : c.checks)++;
        c.states[static_cast<std::size_t>(u.state)]++;
    }
    return c;
}

std::span<const ManagerCounter> manager_counters() { return kManagerCounters; }

std::vector<const char *> changed_counts(const Counts &before, const Counts &after) {
    std::vector<const char *> names;
    for (const ManagerCounter &c : kManagerCounters)
        if (c.get(before) != c.get(after)) names.push_back(c.name);
    if (before.shutting_down != after.shutting_down) names.push_back("ShuttingDown");
    return names;
}

} // namespace watchd::api::dbus
