// /org/watchd1, interface org.watchd1.Manager: what watchd is (version, start, counters) and the calls that name
// a unit by kind and id (ListUnits, GetUnit, Toggle) or act on watchd itself (Reload).
#include <cstring>
#include <syslog.h>

#include "api/dbus/context.h"
#include "api/dbus/paths.h"
#include "watchd_config.h"

namespace watchd::api::dbus {

namespace {

Context &ctx_of(void *userdata) { return *static_cast<Context *>(userdata); }

int get_version(sd_bus *, const char *, const char *, const char *, sd_bus_message *reply, void *,
                sd_bus_error *) {
    return sd_bus_message_append(reply, "s", WATCHD_VERSION);
}

int get_instance_id(sd_bus *, const char *, const char *, const char *, sd_bus_message *reply, void *userdata,
                    sd_bus_error *) {
    return sd_bus_message_append(reply, "s", ctx_of(userdata).instance_id.c_str());
}

int get_started(sd_bus *, const char *, const char *, const char *, sd_bus_message *reply, void *userdata,
                sd_bus_error *) {
    return sd_bus_message_append(reply, "t", std::uint64_t(ctx_of(userdata).started));
}

int get_shutting_down(sd_bus *, const char *, const char *, const char *, sd_bus_message *reply, void *userdata,
                      sd_bus_error *) {
    return sd_bus_message_append(reply, "b", int(ctx_of(userdata).counts().shutting_down));
}

int get_counter(sd_bus *, const char *, const char *, const char *property, sd_bus_message *reply,
                void *userdata, sd_bus_error *) {
    for (const ManagerCounter &c : manager_counters())
        if (std::strcmp(c.name, property) == 0) return sd_bus_message_append(reply, "u", c.get(ctx_of(userdata).counts()));
    return -ENOENT;
}

// The (kind, id) arguments of a call, checked; 0 with `ref` set, or a negative errno with `error` set.
int read_ref(sd_bus_message *m, supervisor::UnitRef &ref, sd_bus_error *error) {
    const char *kind = nullptr, *id = nullptr;
    int r = sd_bus_message_read(m, "ss", &kind, &id);
    if (r < 0) return r;
    auto k = model::parse_unit_kind(kind);
    if (!k) return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS, "unknown kind \"%s\": app, service or check", kind);
    ref = {*k, id};
    return 0;
}

int list_units(sd_bus_message *m, void *userdata, sd_bus_error *) {
    sd_bus_message *raw = nullptr;
    int r = sd_bus_message_new_method_return(m, &raw);
    if (r < 0) return r;
    BusMessagePtr reply(raw);
    r = sd_bus_message_open_container(raw, 'a', "(sssssuo)");
    for (const auto &u : ctx_of(userdata).views.view(false).units) {
        if (r < 0) break;
        r = sd_bus_message_append(raw, "(sssssuo)", std::string(model::to_string(u.ref.kind)).c_str(), u.ref.id.c_str(),
                                  u.name.c_str(), std::string(model::to_string(u.state)).c_str(),
                                  std::string(model::to_active_state(u.state)).c_str(),
                                  std::uint32_t(u.pid > 0 ? u.pid : 0), unit_path(u.ref).c_str());
    }
    if (r >= 0) r = sd_bus_message_close_container(raw);
    return r < 0 ? r : sd_bus_send(nullptr, raw, nullptr);
}

int get_unit(sd_bus_message *m, void *userdata, sd_bus_error *error) {
    supervisor::UnitRef ref;
    if (int r = read_ref(m, ref, error); r < 0) return r;
    if (!ctx_of(userdata).views.unit(ref, false)) return no_such_unit(error, ref);
    return sd_bus_reply_method_return(m, "o", unit_path(ref).c_str());
}

int reload(sd_bus_message *m, void *userdata, sd_bus_error *error) {
    Context &ctx = ctx_of(userdata);
    pid_t pid = 0;
    if (int r = require_root(m, error, "org.watchd1.Manager.Reload()", &pid); r <= 0) return r;
    if (ctx.hooks.log)
        ctx.hooks.log(LOG_INFO, "reload requested over D-Bus by root" +
                                    (pid > 0 ? " (pid " + std::to_string(pid) + ")" : std::string()));
    if (!ctx.hooks.reload) return sd_bus_error_set(error, SD_BUS_ERROR_NOT_SUPPORTED, "this watchd cannot reload");
    if (!ctx.hooks.reload())
        return sd_bus_error_set(error, kErrorReloadFailed,
                                "the configuration was rejected (see the log; the running one is kept), or watchd is stopping");
    return sd_bus_reply_method_return(m, nullptr);
}

int toggle(sd_bus_message *m, void *userdata, sd_bus_error *error) {
    supervisor::UnitRef ref;
    if (int r = read_ref(m, ref, error); r < 0) return r;
    std::uint32_t t = 0;
    if (int r = sd_bus_message_read(m, "u", &t); r < 0) return r;
    if (t < 1 || t > 7)
        return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS,
                                 "toggle %u: patrol's toggles are 1 enable, 2 disable, 3 restart, 4 run-once on, "
                                 "5 run-once off, 6 enable + run-once on, 7 enable + run-once off", t);
    supervisor::Command cmd;
    cmd.toggle = static_cast<supervisor::Toggle>(t);
    return submit_and_reply(ctx_of(userdata), m, ref, std::move(cmd),
                            "org.watchd1.Manager.Toggle(" + std::to_string(t) + ")", error);
}

constexpr std::uint64_t kEmits = SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE;
constexpr std::uint64_t kConst = SD_BUS_VTABLE_PROPERTY_CONST;
// Every call is open to everyone at the bus level; the mutating ones check for root themselves (require_root).
constexpr std::uint64_t kOpen = SD_BUS_VTABLE_UNPRIVILEGED;

} // namespace

extern const sd_bus_vtable kManagerVtable[] = {
    SD_BUS_VTABLE_START(0),
    SD_BUS_PROPERTY("Version", "s", get_version, 0, kConst),
    SD_BUS_PROPERTY("InstanceID", "s", get_instance_id, 0, kConst),
    SD_BUS_PROPERTY("Started", "t", get_started, 0, kConst),
    SD_BUS_PROPERTY("ShuttingDown", "b", get_shutting_down, 0, kEmits),
    SD_BUS_PROPERTY("NApps", "u", get_counter, 0, kEmits),
    SD_BUS_PROPERTY("NServices", "u", get_counter, 0, kEmits),
    SD_BUS_PROPERTY("NChecks", "u", get_counter, 0, kEmits),
    SD_BUS_PROPERTY("NInactive", "u", get_counter, 0, kEmits),
    SD_BUS_PROPERTY("NStarting", "u", get_counter, 0, kEmits),
    SD_BUS_PROPERTY("NRunning", "u", get_counter, 0, kEmits),
    SD_BUS_PROPERTY("NStopping", "u", get_counter, 0, kEmits),
    SD_BUS_PROPERTY("NBackoff", "u", get_counter, 0, kEmits),
    SD_BUS_PROPERTY("NFailed", "u", get_counter, 0, kEmits),
    SD_BUS_PROPERTY("NUnavailable", "u", get_counter, 0, kEmits),
    SD_BUS_METHOD_WITH_ARGS("ListUnits", SD_BUS_NO_ARGS, SD_BUS_RESULT("a(sssssuo)", units), list_units, kOpen),
    SD_BUS_METHOD_WITH_ARGS("GetUnit", SD_BUS_ARGS("s", kind, "s", id), SD_BUS_RESULT("o", unit), get_unit, kOpen),
    SD_BUS_METHOD_WITH_ARGS("Toggle", SD_BUS_ARGS("s", kind, "s", id, "u", toggle), SD_BUS_NO_RESULT, toggle, kOpen),
    SD_BUS_METHOD_WITH_ARGS("Reload", SD_BUS_NO_ARGS, SD_BUS_NO_RESULT, reload, kOpen),
    SD_BUS_VTABLE_END,
};

int add_manager_object(sd_bus *bus, Context &ctx, std::vector<BusSlotPtr> &slots) {
    sd_bus_slot *slot = nullptr;
    int r = sd_bus_add_object_vtable(bus, &slot, kManagerPath, kManagerInterface, kManagerVtable, &ctx);
    if (r < 0) return r;
    slots.emplace_back(slot);
    // InterfacesAdded/InterfacesRemoved and GetManagedObjects for the unit objects below.
    r = sd_bus_add_object_manager(bus, &slot, kManagerPath);
    if (r < 0) return r;
    slots.emplace_back(slot);
    return 0;
}

} // namespace watchd::api::dbus
