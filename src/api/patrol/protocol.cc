// patrol's api() (patrol_api.go, app_api.go, service_api.go) on top of CommandSink::submit, which already applies
// patrol's rules for the secret, the CAS, pings and PIDs and takes the snapshot before the change.
#include "api/patrol/protocol.h"

#include <climits>

namespace watchd::api::patrol {

Translation translate(const ApiRequest &r, Endpoint ep) {
    // Checked on the group as given, before it is lower-cased: patrol_api.go does it in this order.
    if (r.ping && (r.group == "service" || r.group == "services")) return kServicesNoPing;
    const std::string group = go_lower(r.group);
    Target t;
    if (group == "app" || group == "apps") t.ref.kind = supervisor::UnitKind::App;
    else if (group == "service" || group == "services") t.ref.kind = supervisor::UnitKind::Service;
    else return kUnknownGroup;
    t.ref.id = go_lower(r.id);
    supervisor::Command &c = t.cmd;
    if (r.toggle >= 1 && r.toggle <= 7) c.toggle = static_cast<supervisor::Toggle>(r.toggle);
    if (r.keyvalue_replace) c.keyvalue = r.keyvalue.value_or(supervisor::KeyValue{}); // Go replaces with nil too
    else if (r.keyvalue && !r.keyvalue->empty()) c.keyvalue = r.keyvalue;
    c.keyvalue_replace = r.keyvalue_replace;
    if (t.ref.kind == supervisor::UnitKind::App) {
        c.ping = r.ping;
        // A PID beyond pid_t's range names no process (Linux PIDs stay below 2^22); kept non-zero so that patrol's
        // "PID Requires Ping" and "PID Not Supported" still apply to it.
        c.pid = r.pid > static_cast<std::uint32_t>(INT_MAX) ? INT_MAX : static_cast<pid_t>(r.pid);
    }
    c.via = ep == Endpoint::Http ? supervisor::Command::Via::Http : supervisor::Command::Via::Udp;
    c.cas = r.cas;
    c.secret = r.secret;
    c.history = ep == Endpoint::Http;
    return t;
}

std::size_t TranslationMemo::slot(std::string_view bytes) { return std::hash<std::string_view>{}(bytes) % kSlots; }

const Translation *TranslationMemo::find(std::string_view bytes) const {
    const Entry &e = slots_[slot(bytes)];
    return !bytes.empty() && e.bytes == bytes ? &e.translated : nullptr;
}

const Translation &TranslationMemo::keep(std::string_view bytes, Translation t) {
    if (bytes.empty() || bytes.size() > kLargest) return large_ = std::move(t);
    Entry &e = slots_[slot(bytes)];
    e.translated = std::move(t);
    e.bytes.assign(bytes);
    return e.translated;
}

std::size_t TranslationMemo::kept_bytes() const {
    std::size_t n = 0;
    for (const Entry &e : slots_) n += e.bytes.size();
    return n;
}

Reply handle(supervisor::CommandSink &sink, const ApiRequest &r, Endpoint ep, std::string_view layout,
             base::Usec now) {
    return handle(sink, translate(r, ep), ep, layout, now);
}

Reply handle(supervisor::CommandSink &sink, const Translation &t, Endpoint ep, std::string_view layout,
             base::Usec now) {
    if (const auto *error = std::get_if<std::string_view>(&t)) return Reply{true, render_errors({*error})};
    const Target &target = std::get<Target>(t);
    const supervisor::CommandResult result = sink.submit(target.ref, target.cmd);
    if (!result.ok() || !result.before)
        return Reply{true, render_errors({supervisor::describe(result.error, target.ref.kind)})};
    const RenderContext ctx{layout, now};
    return Reply{false, render_unit(*result.before, ep == Endpoint::Http ? Shape::Http : Shape::Udp, ctx,
                                    result.cas_invalid)};
}

Reply invalid_request() { return Reply{true, render_errors({kInvalidRequest})}; }

} // namespace watchd::api::patrol
