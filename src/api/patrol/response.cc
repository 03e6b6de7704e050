// patrol's response structs written as Go writes them: fields in the order of API_Response, History and
// API_Status (api.go, history.go, api_status.go), each left out when empty as their `omitempty` tags say.
#include "api/patrol/response.h"

#include <map>

#include "api/patrol/go_json.h"
#include "api/patrol/go_time.h"
#include "api/patrol/json_doc.h"

namespace watchd::api::patrol {

namespace {

using supervisor::KeepAlive;
using supervisor::UnitKind;

void timestamp(ObjectWriter &w, std::string_view key, base::Usec t, const RenderContext &ctx) {
    if (t) append_go_string(w.member(key), format_timestamp(t, ctx.layout));
}

// The keyvalue map: keys in byte order (Go sorts map keys; std::map's order is the same), values as Go writes them.
void keyvalue(ObjectWriter &w, const supervisor::KeyValue &kv) {
    if (kv.empty()) return;
    std::string &out = w.member("keyvalue");
    out += '{';
    bool first = true;
    for (const auto &[k, v] : kv) {
        if (!first) out += ',';
        first = false;
        append_go_string(out, k);
        out += ':';
        out += normalize_value(v);
    }
    out += '}';
}

// "lastseen" of a running instance, or of a closed one (`end` is its stop time then, now otherwise); 0 = none.
base::Usec seen(const std::optional<KeepAlive> &keepalive, base::Usec started, base::Usec last_seen, pid_t pid,
                base::Usec end) {
    if (!started) return 0;
    if (!keepalive) return end; // a service: followed all the time through systemd's signals
    switch (*keepalive) {
    case KeepAlive::Patrol: return end;
    case KeepAlive::PidFile: return pid > 0 ? end : 0;
    case KeepAlive::Http:
    case KeepAlive::Udp: return last_seen > started ? last_seen : 0; // the core starts last_seen at started
    }
    return 0;
}

std::string_view group_of(UnitKind k) { return k == UnitKind::App ? "app" : k == UnitKind::Service ? "service" : ""; }

} // namespace

std::string render_history(const supervisor::HistoryEntry &h, const std::optional<KeepAlive> &keepalive,
                           const RenderContext &ctx) {
    std::string out;
    ObjectWriter w(out);
    w.string("instance-id", h.instance_id);
    w.number("pid", h.pid > 0 ? static_cast<std::uint64_t>(h.pid) : 0);
    timestamp(w, "started", h.started, ctx);
    timestamp(w, "lastseen", seen(keepalive, h.started, h.last_seen, h.pid, h.stopped), ctx);
    timestamp(w, "stopped", h.stopped, ctx);
    w.flag("disabled", h.disabled).flag("restart", h.restart).flag("run-once", h.run_once);
    w.flag("shutdown", h.shutdown);
    // Only patrol-mode apps have one, as in patrol: the others' processes are not the app's own (pidfile), or end
    // by watchd's stop signal when their pings stop (http/udp), which patrol never records.
    // A service's is its main process's (ExecMainStatus), and systemd's Result beside it.
    int code = h.signal ? 255 : (h.exit_code > 0 && h.exit_code <= 255 ? h.exit_code : 0);
    if (keepalive && keepalive != KeepAlive::Patrol) code = 0;
    w.number("exit-code", static_cast<std::uint64_t>(code));
    w.string("result", h.result);
    keyvalue(w, h.keyvalue);
    w.close();
    return out;
}

std::string render_unit(const supervisor::UnitView &v, Shape shape, const RenderContext &ctx, bool cas_invalid,
                        const supervisor::ResourceUsage *usage) {
    std::string out;
    render_unit(out, v, shape, ctx, cas_invalid, usage);
    return out;
}

void render_unit(std::string &out, const supervisor::UnitView &v, Shape shape, const RenderContext &ctx,
                 bool cas_invalid, const supervisor::ResourceUsage *usage) {
    out.clear();
    ObjectWriter w(out);
    const bool app = v.ref.kind == UnitKind::App;
    if (shape != Shape::Status) w.string("id", v.ref.id);
    w.string("instance-id", v.instance_id);
    if (shape != Shape::Status) w.string("group", group_of(v.ref.kind));
    w.string("name", v.name);
    if (app) w.number("pid", v.pid > 0 ? static_cast<std::uint64_t>(v.pid) : 0); // patrol's services have none
    timestamp(w, "started", v.started, ctx);
    timestamp(w, "lastseen", seen(v.keepalive, v.started, v.last_seen, v.pid, ctx.now), ctx);
    w.flag("disabled", v.disabled).flag("restart", v.restart).flag("run-once", v.run_once);
    if (shape != Shape::Status) w.flag("shutdown", v.shutdown);
    if (shape != Shape::Udp) {
        if (!v.history.empty()) {
            std::string &h = w.member("history");
            h += '[';
            for (std::size_t i = 0; i < v.history.size(); ++i) {
                if (i) h += ',';
                h += render_history(v.history[i], v.keepalive, ctx);
            }
            h += ']';
        }
        keyvalue(w, v.keyvalue);
    }
    w.flag("secret", v.has_secret);
    // patrol's "Did any Errors occur?": a service that cannot run now (its unit cannot be loaded, systemd is
    // unreachable, its start limit was hit) says why.
    if (v.ref.kind == UnitKind::Service && !v.last_error.empty() &&
        (v.state == supervisor::UnitState::Failed || v.state == supervisor::UnitState::Unavailable)) {
        std::string &list = w.member("errors");
        list += '[';
        append_go_string(list, v.last_error);
        list += ']';
    }
    w.number("cas", v.cas);
    w.flag("cas-invalid", cas_invalid);
    if (usage) {
        w.number("cpu-usec", usage->cpu_usec);
        if (usage->memory_bytes) w.number("memory-bytes", *usage->memory_bytes);
        w.number("tasks", usage->tasks);
        w.number("processes", usage->processes);
    }
    w.close();
}

std::string render_status(const supervisor::SupervisorView &v, base::Usec now,
                          const std::function<std::optional<supervisor::ResourceUsage>(const supervisor::UnitRef &)>
                              &usage) {
    const RenderContext ctx{v.json_timestamp, now};
    std::map<std::string, std::string> apps, services; // by id: Go sorts map keys
    for (const auto &u : v.units) {
        if (u.ref.kind == UnitKind::App) {
            const auto used = usage ? usage(u.ref) : std::nullopt;
            apps[u.ref.id] = render_unit(u, Shape::Status, ctx, false, used ? &*used : nullptr);
        }
        else if (u.ref.kind == UnitKind::Service) services[u.ref.id] = render_unit(u, Shape::Status, ctx);
    }
    auto map = [](ObjectWriter &w, std::string_view key, const std::map<std::string, std::string> &m) {
        if (m.empty()) return;
        std::string &out = w.member(key);
        ObjectWriter inner(out);
        for (const auto &[id, json] : m) inner.raw(id, json);
        inner.close();
    };
    std::string out;
    ObjectWriter w(out);
    w.string("instance-id", v.instance_id);
    map(w, "apps", apps);
    map(w, "service", services); // sic: patrol's API_Status tags its services map "service"
    timestamp(w, "started", v.started, ctx);
    w.flag("shutdown", v.shutting_down);
    w.close();
    return out;
}

std::string render_errors(const std::vector<std::string_view> &errors) {
    std::string out;
    ObjectWriter w(out);
    if (!errors.empty()) {
        std::string &list = w.member("errors");
        list += '[';
        for (std::size_t i = 0; i < errors.size(); ++i) {
            if (i) list += ',';
            append_go_string(list, errors[i]);
        }
        list += ']';
    }
    w.close();
    return out;
}

std::string http_body(std::string_view compact) { return indent_go(compact) + "\n"; }

} // namespace watchd::api::patrol
