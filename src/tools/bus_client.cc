// watchctl's D-Bus calls. Properties are read generically from GetManagedObjects' a{oa{sa{sv}}}: what a newer
// watchd adds is skipped, what it lacks keeps its default.
#include "tools/bus_client.h"

#include <algorithm>
#include <cstring>
#include <string_view>

namespace watchd::tools {

namespace {

using MessagePtr = base::Handle<sd_bus_message, sd_bus_message_unref>;

constexpr const char *kService = "org.watchd1";

// sd_bus_error, freed on scope exit, turned into a CallError.
struct ErrorHolder {
    sd_bus_error e = SD_BUS_ERROR_NULL;
    ~ErrorHolder() { sd_bus_error_free(&e); }
    bool fill(CallError &out, int r) const {
        if (sd_bus_error_is_set(&e)) out = {e.name, e.message ? e.message : ""};
        else out = {"", std::strerror(-r)};
        return false;
    }
};

// A reply watchctl could not read (a watchd speaking another version of org.watchd1?).
bool reply_error(CallError &out, int r) {
    out = {"org.watchd1.watchctl.BadReply", std::string("cannot read watchd's answer: ") + std::strerror(r < 0 ? -r : r)};
    return false;
}

int read_string(sd_bus_message *m, std::string &dst) {
    const char *s = nullptr;
    int r = sd_bus_message_read(m, "s", &s);
    if (r >= 0) dst = s ? s : "";
    return r;
}

// One property value of the signature `sig`, into the field its name says; anything else is skipped.
int read_property(sd_bus_message *m, std::string_view name, std::string_view sig, UnitInfo &u) {
    if (sig == "s") {
        std::string *dst = name == "Kind" ? &u.kind : name == "Id" ? &u.id : name == "Name" ? &u.name
                         : name == "State" ? &u.state : name == "ActiveState" ? &u.active_state
                         : name == "Desired" ? &u.desired : name == "InstanceID" ? &u.instance_id
                         : name == "LastError" ? &u.last_error : name == "KeepAlive" ? &u.keepalive
                         : name == "LogDirectory" ? &u.log_directory : nullptr;
        if (dst) return read_string(m, *dst);
    } else if (sig == "u" && name == "PID") {
        return sd_bus_message_read(m, "u", &u.pid);
    } else if (sig == "t") {
        std::uint64_t *dst = name == "Started" ? &u.started : name == "LastSeen" ? &u.last_seen
                           : name == "Restarts" ? &u.restarts : name == "CPUUsageNSec" ? &u.cpu_nsec
                           : name == "MemoryCurrent" ? &u.memory : name == "TasksCurrent" ? &u.tasks : nullptr;
        if (dst) return sd_bus_message_read(m, "t", dst);
    } else if (sig == "b") {
        bool *dst = name == "Disabled" ? &u.disabled : name == "RunOnce" ? &u.run_once
                  : name == "Supervised" ? &u.supervised : nullptr;
        int v = 0;
        if (dst) {
            int r = sd_bus_message_read(m, "b", &v);
            *dst = v;
            return r;
        }
    } else if (sig == "(ii)" && name == "LastExit") {
        return sd_bus_message_read(m, "(ii)", &u.last_exit_code, &u.last_signal);
    } else if (sig == "a{ss}" && name == "KeyValue") {
        int r = sd_bus_message_enter_container(m, 'a', "{ss}");
        const char *k = nullptr, *v = nullptr;
        while (r >= 0 && (r = sd_bus_message_read(m, "{ss}", &k, &v)) > 0) u.keyvalue[k] = v;
        return r < 0 ? r : sd_bus_message_exit_container(m);
    }
    return sd_bus_message_skip(m, std::string(sig).c_str());
}

// a{sv} of one interface.
int read_properties(sd_bus_message *m, UnitInfo &u) {
    int r = sd_bus_message_enter_container(m, 'a', "{sv}");
    while (r >= 0 && (r = sd_bus_message_enter_container(m, 'e', "sv")) > 0) {
        std::string name;
        char type = 0;
        const char *contents = nullptr;
        if ((r = read_string(m, name)) < 0 || (r = sd_bus_message_peek_type(m, &type, &contents)) < 0) break;
        if ((r = sd_bus_message_enter_container(m, 'v', contents)) < 0) break;
        if ((r = read_property(m, name, contents, u)) < 0) break;
        if ((r = sd_bus_message_exit_container(m)) < 0 || (r = sd_bus_message_exit_container(m)) < 0) break;
    }
    return r < 0 ? r : sd_bus_message_exit_container(m);
}

bool is_unit_interface(std::string_view iface) {
    return iface == "org.watchd1.App" || iface == "org.watchd1.Service" || iface == "org.watchd1.Check";
}

int kind_rank(const std::string &kind) { return kind == "app" ? 0 : kind == "service" ? 1 : 2; }

// The interface of a unit's kind.
std::string interface_of(const UnitInfo &u) {
    return u.kind == "app" ? "org.watchd1.App" : u.kind == "service" ? "org.watchd1.Service" : "org.watchd1.Check";
}

} // namespace

bool CallError::unreachable() const {
    return name.empty() || name == SD_BUS_ERROR_SERVICE_UNKNOWN || name == SD_BUS_ERROR_NAME_HAS_NO_OWNER ||
           name == SD_BUS_ERROR_NO_REPLY || name == SD_BUS_ERROR_DISCONNECTED;
}

std::unique_ptr<BusClient> BusClient::connect(CallError &error) {
    sd_bus *raw = nullptr;
    int r = sd_bus_open_system(&raw);
    if (r < 0) {
        error = {"", std::strerror(-r)}; // no bus at all
        return nullptr;
    }
    return std::unique_ptr<BusClient>(new BusClient(BusPtr(raw)));
}

bool BusClient::units(std::vector<UnitInfo> &out, CallError &error) {
    ErrorHolder e;
    sd_bus_message *raw = nullptr;
    int r = sd_bus_call_method(bus_.get(), kService, "/org/watchd1", "org.freedesktop.DBus.ObjectManager",
                               "GetManagedObjects", &e.e, &raw, "");
    if (r < 0) return e.fill(error, r);
    MessagePtr reply(raw);
    r = sd_bus_message_enter_container(raw, 'a', "{oa{sa{sv}}}");
    while (r >= 0 && (r = sd_bus_message_enter_container(raw, 'e', "oa{sa{sv}}")) > 0) {
        UnitInfo u;
        const char *path = nullptr;
        bool is_unit = false;
        if ((r = sd_bus_message_read(raw, "o", &path)) < 0) break;
        u.path = path;
        r = sd_bus_message_enter_container(raw, 'a', "{sa{sv}}");
        while (r >= 0 && (r = sd_bus_message_enter_container(raw, 'e', "sa{sv}")) > 0) {
            std::string iface;
            if ((r = read_string(raw, iface)) < 0) break;
            if (is_unit_interface(iface)) {
                is_unit = true;
                r = read_properties(raw, u);
            } else {
                r = sd_bus_message_skip(raw, "a{sv}");
            }
            if (r >= 0) r = sd_bus_message_exit_container(raw);
        }
        if (r >= 0) r = sd_bus_message_exit_container(raw);
        if (r >= 0) r = sd_bus_message_exit_container(raw);
        if (is_unit) out.push_back(std::move(u));
    }
    if (r < 0) return reply_error(error, r);
    std::sort(out.begin(), out.end(), [](const UnitInfo &a, const UnitInfo &b) {
        return std::pair(kind_rank(a.kind), a.id) < std::pair(kind_rank(b.kind), b.id);
    });
    return true;
}

bool BusClient::history(const UnitInfo &u, std::vector<HistoryRow> &out, CallError &error) {
    ErrorHolder e;
    sd_bus_message *raw = nullptr;
    int r = sd_bus_call_method(bus_.get(), kService, u.path.c_str(), interface_of(u).c_str(), "GetHistory", &e.e,
                               &raw, "");
    if (r < 0) return e.fill(error, r);
    MessagePtr reply(raw);
    r = sd_bus_message_enter_container(raw, 'a', "(suttiiass)");
    while (r >= 0 && (r = sd_bus_message_enter_container(raw, 'r', "suttiiass")) > 0) {
        HistoryRow h;
        const char *id = nullptr, *flag = nullptr, *result = nullptr;
        r = sd_bus_message_read(raw, "suttii", &id, &h.pid, &h.started, &h.stopped, &h.exit_code, &h.signal);
        if (r >= 0) {
            h.instance_id = id;
            r = sd_bus_message_enter_container(raw, 'a', "s");
        }
        while (r >= 0 && (r = sd_bus_message_read(raw, "s", &flag)) > 0) h.flags.emplace_back(flag);
        if (r >= 0) r = sd_bus_message_exit_container(raw);
        if (r >= 0) r = sd_bus_message_read(raw, "s", &result);
        if (r >= 0) h.result = result;
        if (r >= 0) r = sd_bus_message_exit_container(raw);
        out.push_back(std::move(h));
    }
    return r < 0 ? reply_error(error, r) : true;
}

bool BusClient::call(const UnitInfo &u, const char *method, std::optional<bool> arg, CallError &error) {
    ErrorHolder e;
    sd_bus_message *raw = nullptr;
    int r = arg ? sd_bus_call_method(bus_.get(), kService, u.path.c_str(), interface_of(u).c_str(), method, &e.e,
                                     &raw, "b", int(*arg))
                : sd_bus_call_method(bus_.get(), kService, u.path.c_str(), interface_of(u).c_str(), method, &e.e,
                                     &raw, "");
    MessagePtr reply(raw);
    return r < 0 ? e.fill(error, r) : true;
}

bool BusClient::reload(CallError &error) {
    ErrorHolder e;
    sd_bus_message *raw = nullptr;
    int r = sd_bus_call_method(bus_.get(), kService, "/org/watchd1", "org.watchd1.Manager", "Reload", &e.e, &raw, "");
    MessagePtr reply(raw);
    return r < 0 ? e.fill(error, r) : true;
}

} // namespace watchd::tools
