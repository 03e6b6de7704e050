// One object per unit under /org/watchd1/<kind>/<escaped id>, interfaces org.watchd1.App/.Service/.Check: the
// unit's properties (properties.cc) and its commands. Objects are not registered one by one: a fallback vtable per
// kind finds the unit from the path, and a node enumerator lists them (busctl tree, GetManagedObjects).
#include <boost/json.hpp>
#include <cstdint>
#include <cstdlib>
#include <cstring>

#include "api/dbus/context.h"
#include "api/dbus/paths.h"

namespace watchd::api::dbus {

namespace {

FoundUnit &unit_of(void *userdata) { return *static_cast<FoundUnit *>(userdata); }

// The path names a unit of this vtable's kind that exists (or is being announced as removed): it becomes the
// userdata of the getters and methods that follow.
int find_unit(sd_bus *, const char *path, const char *interface, void *userdata, void **found, sd_bus_error *) {
    Context &ctx = *static_cast<Context *>(userdata);
    auto ref = parse_unit_path(path);
    if (!ref || unit_interface(ref->kind) != interface) return 0;
    if (ctx.removed && ctx.removed->view.ref == *ref) {
        static_cast<UnitObject &>(ctx.found) = *ctx.removed;
    } else {
        auto o = ctx.object(*ref);
        if (!o) return 0;
        static_cast<UnitObject &>(ctx.found) = std::move(*o);
    }
    ctx.found.ctx = &ctx;
    *found = &ctx.found;
    return 1;
}

// The units of one kind, as full object paths (malloc'd: sd-bus frees them).
template <supervisor::UnitKind Kind>
int enumerate_units(sd_bus *, const char *, void *userdata, char ***nodes, sd_bus_error *) {
    Context &ctx = *static_cast<Context *>(userdata);
    std::vector<std::string> paths;
    for (const auto &u : ctx.views.view(false).units)
        if (u.ref.kind == Kind) paths.push_back(unit_path(u.ref));
    char **out = static_cast<char **>(std::calloc(paths.size() + 1, sizeof(char *)));
    if (!out) return -ENOMEM;
    for (std::size_t i = 0; i < paths.size(); ++i) {
        out[i] = strdup(paths[i].c_str());
        if (!out[i]) {
            for (std::size_t j = 0; j < i; ++j) std::free(out[j]);
            std::free(out);
            return -ENOMEM;
        }
    }
    *nodes = out;
    return 0;
}

int get_unit_property(sd_bus *, const char *, const char *, const char *property, sd_bus_message *reply,
                      void *userdata, sd_bus_error *) {
    const UnitProperty *p = find_unit_property(property);
    return p ? p->append(reply, unit_of(userdata)) : -ENOENT;
}

// What an app's processes use, read when asked (as systemd's CPUUsageNSec, MemoryCurrent, TasksCurrent: no
// PropertiesChanged; UINT64_MAX when unknown).
int get_usage_property(sd_bus *, const char *, const char *, const char *property, sd_bus_message *reply,
                       void *userdata, sd_bus_error *) {
    FoundUnit &u = unit_of(userdata);
    const auto used = u.ctx->views.usage(u.view.ref);
    constexpr std::uint64_t kUnknown = UINT64_MAX;
    std::uint64_t value = kUnknown;
    const std::string_view name(property);
    if (used && name == kUsageProperties[0]) value = used->cpu_usec * 1000;
    else if (used && name == kUsageProperties[1]) value = used->memory_bytes.value_or(kUnknown);
    else if (used && name == kUsageProperties[2]) value = used->tasks;
    else if (used && name == kUsageProperties[3]) value = used->processes;
    return sd_bus_message_append(reply, "t", value);
}

// "org.watchd1.App.Disable()"
std::string call_name(const FoundUnit &u, const char *method) {
    return std::string(unit_interface(u.view.ref.kind)) + "." + method + "()";
}

int toggle(sd_bus_message *m, void *userdata, sd_bus_error *error, supervisor::Toggle t, const char *method) {
    FoundUnit &u = unit_of(userdata);
    const supervisor::UnitRef ref = u.view.ref; // the found slot is reused by the next lookup
    supervisor::Command cmd;
    cmd.toggle = t;
    return submit_and_reply(*u.ctx, m, ref, std::move(cmd), call_name(u, method), error);
}

int method_enable(sd_bus_message *m, void *ud, sd_bus_error *e) { return toggle(m, ud, e, supervisor::Toggle::Enable, "Enable"); }
int method_disable(sd_bus_message *m, void *ud, sd_bus_error *e) { return toggle(m, ud, e, supervisor::Toggle::Disable, "Disable"); }
int method_restart(sd_bus_message *m, void *ud, sd_bus_error *e) { return toggle(m, ud, e, supervisor::Toggle::Restart, "Restart"); }

int method_run_once(sd_bus_message *m, void *ud, sd_bus_error *e) {
    int on = 0;
    if (int r = sd_bus_message_read(m, "b", &on); r < 0) return r;
    return toggle(m, ud, e, on ? supervisor::Toggle::RunOnceEnable : supervisor::Toggle::RunOnceDisable, "RunOnce");
}

// SetKeyValue(a{ss} keyvalue, b replace): each value is JSON text (patrol's key/value holds JSON values); it is
// stored compact. Merging keeps the other keys; replace drops them.
int method_set_keyvalue(sd_bus_message *m, void *ud, sd_bus_error *error) {
    FoundUnit &u = unit_of(ud);
    const supervisor::UnitRef ref = u.view.ref;
    const std::string what = call_name(u, "SetKeyValue");
    supervisor::KeyValue kv;
    int r = sd_bus_message_enter_container(m, 'a', "{ss}");
    while (r >= 0 && (r = sd_bus_message_enter_container(m, 'e', "ss")) > 0) {
        const char *key = nullptr, *value = nullptr;
        if ((r = sd_bus_message_read(m, "ss", &key, &value)) < 0 || (r = sd_bus_message_exit_container(m)) < 0) break;
        boost::system::error_code ec;
        boost::json::value v = boost::json::parse(value, ec);
        if (ec)
            return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS,
                                     "the value of \"%s\" is not JSON text (%s): a string needs quotes, as \"\\\"%s\\\"\"",
                                     key, ec.message().c_str(), value);
        kv[key] = boost::json::serialize(v);
    }
    if (r < 0 || (r = sd_bus_message_exit_container(m)) < 0) return r;
    int replace = 0;
    if ((r = sd_bus_message_read(m, "b", &replace)) < 0) return r;
    supervisor::Command cmd;
    cmd.keyvalue = std::move(kv);
    cmd.keyvalue_replace = replace;
    return submit_and_reply(*u.ctx, m, ref, std::move(cmd), what, error);
}

// GetHistory() → a(suttiiass): instance id, PID, started, stopped (realtime µs), exit code (-1: unknown), signal,
// patrol's flags, systemd's Result (services; empty for apps); oldest first.
int method_get_history(sd_bus_message *m, void *ud, sd_bus_error *error) {
    FoundUnit &u = unit_of(ud);
    const supervisor::UnitRef ref = u.view.ref;
    auto v = u.ctx->views.unit(ref, true);
    if (!v) return no_such_unit(error, ref);
    sd_bus_message *raw = nullptr;
    int r = sd_bus_message_new_method_return(m, &raw);
    if (r < 0) return r;
    BusMessagePtr reply(raw);
    r = sd_bus_message_open_container(raw, 'a', "(suttiiass)");
    for (auto it = v->history.begin(); r >= 0 && it != v->history.end(); ++it) {
        r = sd_bus_message_open_container(raw, 'r', "suttiiass");
        if (r >= 0)
            r = sd_bus_message_append(raw, "suttii", it->instance_id.c_str(), std::uint32_t(it->pid > 0 ? it->pid : 0),
                                      std::uint64_t(it->started), std::uint64_t(it->stopped),
                                      std::int32_t(it->exit_code), std::int32_t(it->signal));
        if (r >= 0) r = sd_bus_message_open_container(raw, 'a', "s");
        for (const std::string &f : flag_names(*it))
            if (r >= 0) r = sd_bus_message_append(raw, "s", f.c_str());
        if (r >= 0) r = sd_bus_message_close_container(raw);
        if (r >= 0) r = sd_bus_message_append(raw, "s", it->result.c_str());
        if (r >= 0) r = sd_bus_message_close_container(raw);
    }
    if (r >= 0) r = sd_bus_message_close_container(raw);
    return r < 0 ? r : sd_bus_send(nullptr, raw, nullptr);
}

constexpr std::uint64_t kEmits = SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE;
constexpr std::uint64_t kConst = SD_BUS_VTABLE_PROPERTY_CONST;
constexpr std::uint64_t kOpen = SD_BUS_VTABLE_UNPRIVILEGED; // root is checked in code (require_root)

// What every unit interface has (the rows of properties.cc, in the same order; a test checks both agree).
#define WATCHD_UNIT_COMMON                                                                                         \
    SD_BUS_PROPERTY("Kind", "s", get_unit_property, 0, kConst),                                                    \
        SD_BUS_PROPERTY("Id", "s", get_unit_property, 0, kConst),                                                  \
        SD_BUS_PROPERTY("Name", "s", get_unit_property, 0, kEmits),                                                \
        SD_BUS_PROPERTY("State", "s", get_unit_property, 0, kEmits),                                               \
        SD_BUS_PROPERTY("ActiveState", "s", get_unit_property, 0, kEmits),                                         \
        SD_BUS_PROPERTY("Desired", "s", get_unit_property, 0, kEmits),                                             \
        SD_BUS_PROPERTY("PID", "u", get_unit_property, 0, kEmits),                                                 \
        SD_BUS_PROPERTY("InstanceID", "s", get_unit_property, 0, kEmits),                                          \
        SD_BUS_PROPERTY("Started", "t", get_unit_property, 0, kEmits),                                             \
        SD_BUS_PROPERTY("LastSeen", "t", get_unit_property, 0, 0),                                                 \
        SD_BUS_PROPERTY("Disabled", "b", get_unit_property, 0, kEmits),                                            \
        SD_BUS_PROPERTY("RunOnce", "b", get_unit_property, 0, kEmits),                                             \
        SD_BUS_PROPERTY("Restarts", "t", get_unit_property, 0, kEmits),                                            \
        SD_BUS_PROPERTY("LastExit", "(ii)", get_unit_property, 0, kEmits),                                         \
        SD_BUS_PROPERTY("LastError", "s", get_unit_property, 0, kEmits),                                           \
        SD_BUS_PROPERTY("Supervised", "b", get_unit_property, 0, kEmits),                                          \
        SD_BUS_PROPERTY("KeyValue", "a{ss}", get_unit_property, 0, kEmits)

#define WATCHD_UNIT_METHODS                                                                                        \
    SD_BUS_METHOD_WITH_ARGS("Enable", SD_BUS_NO_ARGS, SD_BUS_NO_RESULT, method_enable, kOpen),                     \
        SD_BUS_METHOD_WITH_ARGS("Disable", SD_BUS_NO_ARGS, SD_BUS_NO_RESULT, method_disable, kOpen),               \
        SD_BUS_METHOD_WITH_ARGS("Restart", SD_BUS_NO_ARGS, SD_BUS_NO_RESULT, method_restart, kOpen),               \
        SD_BUS_METHOD_WITH_ARGS("RunOnce", SD_BUS_ARGS("b", enable), SD_BUS_NO_RESULT, method_run_once, kOpen),    \
        SD_BUS_METHOD_WITH_ARGS("SetKeyValue", SD_BUS_ARGS("a{ss}", keyvalue, "b", replace), SD_BUS_NO_RESULT,     \
                                method_set_keyvalue, kOpen),                                                       \
        SD_BUS_METHOD_WITH_ARGS("GetHistory", SD_BUS_NO_ARGS, SD_BUS_RESULT("a(suttiiass)", history),               \
                                method_get_history, kOpen)

const sd_bus_vtable kAppVtable[] = {
    SD_BUS_VTABLE_START(0),
    WATCHD_UNIT_COMMON,
    SD_BUS_PROPERTY("KeepAlive", "s", get_unit_property, 0, kEmits),
    SD_BUS_PROPERTY("LogDirectory", "s", get_unit_property, 0, kEmits),
    SD_BUS_PROPERTY(kUsageProperties[0], "t", get_usage_property, 0, 0),
    SD_BUS_PROPERTY(kUsageProperties[1], "t", get_usage_property, 0, 0),
    SD_BUS_PROPERTY(kUsageProperties[2], "t", get_usage_property, 0, 0),
    SD_BUS_PROPERTY(kUsageProperties[3], "t", get_usage_property, 0, 0),
    WATCHD_UNIT_METHODS,
    SD_BUS_VTABLE_END,
};

const sd_bus_vtable kServiceVtable[] = {
    SD_BUS_VTABLE_START(0),
    WATCHD_UNIT_COMMON,
    SD_BUS_PROPERTY("Unit", "s", get_unit_property, 0, kEmits),
    SD_BUS_PROPERTY("UnitLoadState", "s", get_unit_property, 0, kEmits),
    SD_BUS_PROPERTY("UnitActiveState", "s", get_unit_property, 0, kEmits),
    SD_BUS_PROPERTY("UnitSubState", "s", get_unit_property, 0, kEmits),
    SD_BUS_PROPERTY("UnitResult", "s", get_unit_property, 0, kEmits),
    WATCHD_UNIT_METHODS,
    SD_BUS_VTABLE_END,
};

const sd_bus_vtable kCheckVtable[] = {
    SD_BUS_VTABLE_START(0),
    WATCHD_UNIT_COMMON,
    SD_BUS_PROPERTY("Protocol", "s", get_unit_property, 0, kConst),
    SD_BUS_PROPERTY("Endpoint", "s", get_unit_property, 0, kConst),
    SD_BUS_PROPERTY("LastLatency", "t", get_unit_property, 0, 0),
    SD_BUS_PROPERTY("Probes", "t", get_unit_property, 0, 0),
    WATCHD_UNIT_METHODS,
    SD_BUS_VTABLE_END,
};

constexpr supervisor::UnitKind kKinds[] = {supervisor::UnitKind::App, supervisor::UnitKind::Service,
                                           supervisor::UnitKind::Check};
constexpr sd_bus_node_enumerator_t kEnumerators[] = {enumerate_units<supervisor::UnitKind::App>,
                                                     enumerate_units<supervisor::UnitKind::Service>,
                                                     enumerate_units<supervisor::UnitKind::Check>};

} // namespace

const sd_bus_vtable *unit_vtable(supervisor::UnitKind kind) {
    return kind == supervisor::UnitKind::App       ? kAppVtable
           : kind == supervisor::UnitKind::Service ? kServiceVtable
                                                   : kCheckVtable;
}

int add_unit_objects(sd_bus *bus, Context &ctx, std::vector<BusSlotPtr> &slots) {
    for (std::size_t i = 0; i < std::size(kKinds); ++i) {
        const std::string prefix(unit_prefix(kKinds[i])), iface(unit_interface(kKinds[i]));
        sd_bus_slot *slot = nullptr;
        int r = sd_bus_add_fallback_vtable(bus, &slot, prefix.c_str(), iface.c_str(), unit_vtable(kKinds[i]),
                                           find_unit, &ctx);
        if (r < 0) return r;
        slots.emplace_back(slot);
        r = sd_bus_add_node_enumerator(bus, &slot, prefix.c_str(), kEnumerators[i], &ctx);
        if (r < 0) return r;
        slots.emplace_back(slot);
    }
    return 0;
}

} // namespace watchd::api::dbus
