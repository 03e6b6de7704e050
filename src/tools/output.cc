// Rendering of watchctl's read commands.
#include "tools/output.h"

#include <map>

namespace watchd::tools {

namespace {

std::string state_text(const UnitInfo &u) { return u.supervised ? u.state : u.state + " (not run)"; }
std::string pid_text(std::uint32_t pid) { return pid ? std::to_string(pid) : "-"; }

// "3 units: 2 running, 1 failed"
std::string summary(const std::vector<UnitInfo> &units) {
    std::map<std::string, std::size_t> by_state;
    for (const UnitInfo &u : units) ++by_state[u.state];
    std::string s = std::to_string(units.size()) + (units.size() == 1 ? " unit" : " units");
    const char *sep = ": ";
    for (const auto &[state, n] : by_state) {
        s += sep + std::to_string(n) + " " + state;
        sep = ", ";
    }
    return s + "\n";
}

// {"a":"1","b":{"c":2}}: key/value values are JSON text already (watchd checked them).
std::string keyvalue_json(const std::map<std::string, std::string> &kv) {
    std::string s = "{";
    for (const auto &[k, v] : kv) s += (s.size() > 1 ? "," : "") + json_string(k) + ":" + (v.empty() ? "null" : v);
    return s + "}";
}

std::string exit_json(std::int32_t code, std::int32_t signal) {
    return "{\"code\":" + (code < 0 ? std::string("null") : std::to_string(code)) +
           ",\"signal\":" + (signal > 0 ? std::to_string(signal) : std::string("null")) + "}";
}

// A usage figure (UINT64_MAX: unknown → null), divided by `per`.
std::string optional_number(std::uint64_t v, std::uint64_t per) {
    return v == UINT64_MAX ? std::string("null") : std::to_string(v / per);
}

// Joins JSON objects into an array, one per line, as journalctl -o json does for entries.
std::string array(const std::vector<std::string> &objects) {
    if (objects.empty()) return "[]\n";
    std::string s = "[\n";
    for (std::size_t i = 0; i < objects.size(); ++i) s += objects[i] + (i + 1 < objects.size() ? ",\n" : "\n");
    return s + "]\n";
}

} // namespace

std::string status_text(const std::vector<UnitInfo> &units, std::uint64_t now, bool color, bool legend) {
    Table t{{"KIND", "ID", "NAME", "STATE", "PID", "UPTIME", "MEMORY", "CPU", "RESTARTS", "LAST EXIT"}, {}};
    for (const UnitInfo &u : units)
        t.rows.push_back({{u.kind}, {u.id}, {u.name}, {state_text(u), state_color(u.state)}, {pid_text(u.pid)},
                          {u.state == "running" ? format_uptime(u.started, now) : "-"}, {format_bytes(u.memory)},
                          {format_cpu(u.cpu_nsec)}, {std::to_string(u.restarts)},
                          {format_exit(u.last_exit_code, u.last_signal)}});
    std::string out = render(t, color, legend);
    // Why a unit cannot run (a service's unit not found, systemd unreachable, a start limit), as systemctl
    // status shows a unit's last error under it.
    std::string why;
    for (const UnitInfo &u : units)
        if ((u.state == "failed" || u.state == "unavailable") && !u.last_error.empty())
            why += display_name(u) + ": " + u.last_error + "\n";
    if (!why.empty()) out += "\n" + why;
    if (legend) out += "\n" + summary(units);
    return out;
}

std::string list_text(const std::vector<UnitInfo> &units, bool color, bool legend) {
    Table t{{"KIND", "ID", "NAME", "STATE", "ACTIVE", "PID", "PATH"}, {}};
    for (const UnitInfo &u : units)
        t.rows.push_back({{u.kind}, {u.id}, {u.name}, {state_text(u), state_color(u.state)}, {u.active_state},
                          {pid_text(u.pid)}, {u.path}});
    std::string out = render(t, color, legend);
    if (legend) out += "\n" + std::to_string(units.size()) + (units.size() == 1 ? " unit listed.\n" : " units listed.\n");
    return out;
}

std::string history_text(const std::vector<HistoryRow> &rows, bool legend) {
    Table t{{"INSTANCE", "PID", "STARTED", "STOPPED", "RAN", "EXIT", "FLAGS"}, {}};
    for (const HistoryRow &h : rows) {
        std::string flags;
        for (const std::string &f : h.flags) flags += (flags.empty() ? "" : ",") + f;
        t.rows.push_back({{h.instance_id.empty() ? "-" : h.instance_id}, {pid_text(h.pid)}, {format_time(h.started)},
                          {format_time(h.stopped)}, {format_uptime(h.started, h.stopped)},
                          {format_exit(h.exit_code, h.signal) + (h.result.empty() ? "" : " (" + h.result + ")")},
                          {flags.empty() ? "-" : flags}});
    }
    std::string out = render(t, false, legend);
    if (legend) out += "\n" + std::to_string(rows.size()) + (rows.size() == 1 ? " instance.\n" : " instances.\n");
    return out;
}

std::string status_json(const std::vector<UnitInfo> &units) {
    std::vector<std::string> objects;
    for (const UnitInfo &u : units) {
        objects.push_back(
            "{\"kind\":" + json_string(u.kind) + ",\"id\":" + json_string(u.id) + ",\"name\":" + json_string(u.name) +
            ",\"state\":" + json_string(u.state) + ",\"active_state\":" + json_string(u.active_state) +
            ",\"desired\":" + json_string(u.desired) + ",\"pid\":" + std::to_string(u.pid) +
            ",\"instance_id\":" + json_string(u.instance_id) + ",\"started\":" + std::to_string(u.started) +
            ",\"last_seen\":" + std::to_string(u.last_seen) + ",\"restarts\":" + std::to_string(u.restarts) +
            ",\"last_exit\":" + exit_json(u.last_exit_code, u.last_signal) + ",\"last_error\":" +
            json_string(u.last_error) + ",\"disabled\":" + (u.disabled ? "true" : "false") +
            ",\"run_once\":" + (u.run_once ? "true" : "false") + ",\"supervised\":" + (u.supervised ? "true" : "false") +
            (u.kind == "app" ? ",\"keepalive\":" + json_string(u.keepalive) + ",\"log_directory\":" +
                                   json_string(u.log_directory) + ",\"cpu_usec\":" + optional_number(u.cpu_nsec, 1000) +
                                   ",\"memory_bytes\":" + optional_number(u.memory, 1) +
                                   ",\"tasks\":" + optional_number(u.tasks, 1)
                             : std::string()) +
            ",\"keyvalue\":" + keyvalue_json(u.keyvalue) + ",\"path\":" + json_string(u.path) + "}");
    }
    return array(objects);
}

std::string list_json(const std::vector<UnitInfo> &units) {
    std::vector<std::string> objects;
    for (const UnitInfo &u : units)
        objects.push_back("{\"kind\":" + json_string(u.kind) + ",\"id\":" + json_string(u.id) + ",\"name\":" +
                          json_string(u.name) + ",\"state\":" + json_string(u.state) + ",\"active_state\":" +
                          json_string(u.active_state) + ",\"pid\":" + std::to_string(u.pid) + ",\"path\":" +
                          json_string(u.path) + "}");
    return array(objects);
}

std::string history_json(const std::vector<HistoryRow> &rows) {
    std::vector<std::string> objects;
    for (const HistoryRow &h : rows) {
        std::string flags = "[";
        for (const std::string &f : h.flags) flags += (flags.size() > 1 ? "," : "") + json_string(f);
        objects.push_back("{\"instance_id\":" + json_string(h.instance_id) + ",\"pid\":" + std::to_string(h.pid) +
                          ",\"started\":" + std::to_string(h.started) + ",\"stopped\":" + std::to_string(h.stopped) +
                          ",\"exit\":" + exit_json(h.exit_code, h.signal) + ",\"flags\":" + flags + "]" +
                          (h.result.empty() ? std::string() : ",\"result\":" + json_string(h.result)) + "}");
    }
    return array(objects);
}

} // namespace watchd::tools
