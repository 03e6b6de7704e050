// The dashboard's JSON (see dashboard.h). Built by hand, member by member, as the page reads it.
#include "api/http/dashboard.h"

#include <boost/json.hpp>
#include <algorithm>
#include <csignal>

#include "base/json_text.h"

namespace watchd::api::http {

namespace {

using base::json_string;
using supervisor::UnitKind;
using supervisor::UnitState;
using supervisor::UnitView;

long long ms(base::Usec t) { return static_cast<long long>(t / 1000); }

class Obj {
public:
    explicit Obj(std::string &out) : out_(out) { out_ += '{'; }
    ~Obj() { out_ += '}'; }
    Obj(const Obj &) = delete;
    Obj &operator=(const Obj &) = delete;
    std::string &key(std::string_view k) {
        if (!first_) out_ += ',';
        first_ = false;
        out_ += json_string(k);
        out_ += ':';
        return out_;
    }
    void str(std::string_view k, std::string_view v) { key(k) += json_string(v); }
    void num(std::string_view k, long long v) { key(k) += std::to_string(v); }
    void boolean(std::string_view k, bool v) { key(k) += v ? "true" : "false"; }

private:
    std::string &out_;
    bool first_ = true;
};

std::string_view keepalive_name(model::KeepAlive k) {
    switch (k) {
    case model::KeepAlive::Patrol: return "patrol";
    case model::KeepAlive::PidFile: return "pidfile";
    case model::KeepAlive::Http: return "http";
    case model::KeepAlive::Udp: return "udp";
    }
    return "";
}

// The first index of `size` kept entries (the newest numbered `total`) to show: numbered above `since`, and no more
// than kTimelineLength.
std::size_t first_shown(std::size_t size, std::uint64_t total, std::uint64_t since) {
    std::size_t from = size > kTimelineLength ? size - kTimelineLength : 0;
    const std::uint64_t first_seq = total - size + 1; // of index 0
    if (since >= first_seq) from = std::max<std::size_t>(from, static_cast<std::size_t>(since - first_seq + 1));
    return std::min(from, size);
}

// Apps and services: one bar per closed instance, red when it ended badly.
void history_timeline(std::string &out, const UnitView &u, std::uint64_t since) {
    out += '[';
    const auto &h = u.history;
    const std::uint64_t total = std::max<std::uint64_t>(u.history_total, h.size());
    const std::size_t from = first_shown(h.size(), total, since);
    for (std::size_t i = from; i < h.size(); ++i) {
        const model::HistoryEntry &e = h[i];
        if (i != from) out += ',';
        Obj o(out);
        o.num("seq", static_cast<long long>(total - h.size() + i + 1));
        // "ok": a clean exit, or a stop asked for (disabled, shutting down); "stopped": ended by SIGTERM or SIGINT,
        // which is how a restart or a stop ends it (patrol's history does not keep the restart flag), or an
        // operator's kill; "failed": anything else.
        const bool asked = e.disabled || e.restart || e.shutdown;
        std::string_view end = "failed";
        if (!e.result.empty()) end = e.result == "success" ? "ok" : "failed";
        else if ((e.exit_code == 0 && e.signal == 0) || asked) end = "ok";
        else if (e.signal == SIGTERM || e.signal == SIGINT) end = "stopped";
        o.boolean("ok", end != "failed");
        o.str("outcome", end);
        o.num("start", ms(e.started));
        o.num("end", ms(e.stopped));
        o.num("exit", e.exit_code);
        o.num("signal", e.signal);
        if (!e.result.empty()) o.str("result", e.result);
    }
    out += ']';
}

// Checks: one bar per probe, with its latency.
void sample_timeline(std::string &out, const UnitView &u, std::uint64_t since) {
    out += '[';
    const auto &s = u.check->samples;
    const std::uint64_t total = std::max<std::uint64_t>(u.check->probes, s.size());
    const std::size_t from = first_shown(s.size(), total, since);
    for (std::size_t i = from; i < s.size(); ++i) {
        if (i != from) out += ',';
        Obj o(out);
        o.num("seq", static_cast<long long>(total - s.size() + i + 1));
        o.boolean("ok", s[i].online);
        o.num("at", ms(s[i].time));
        o.num("latency_us", static_cast<long long>(s[i].latency));
        if (!s[i].online) o.str("error", s[i].error);
    }
    out += ']';
}

} // namespace

std::string_view tone(const UnitView &u) {
    switch (u.state) {
    case UnitState::Running: return "ok";
    case UnitState::Starting:
    case UnitState::Stopping: return "busy";
    case UnitState::Backoff:
    case UnitState::Failed: return "bad";
    case UnitState::Inactive: return "off";
    case UnitState::Unavailable: return "unknown";
    }
    return "unknown";
}

std::uint64_t timeline_seq(const UnitView &u) {
    if (u.check) return std::max<std::uint64_t>(u.check->probes, u.check->samples.size());
    return std::max<std::uint64_t>(u.history_total, u.history.size());
}

std::string unit_json(const UnitView &u, std::uint64_t since) {
    std::string out;
    out.reserve(512 + 64 * std::min(kTimelineLength, u.history.size() + (u.check ? u.check->samples.size() : 0)));
    write_unit(out, u, since);
    return out;
}

void write_unit(std::string &out, const UnitView &u, std::uint64_t since) {
    Obj o(out);
    o.str("kind", model::to_string(u.ref.kind));
    o.str("id", u.ref.id);
    o.str("name", u.name.empty() ? u.ref.id : u.name);
    o.str("state", model::to_string(u.state));
    o.str("active", model::to_active_state(u.state));
    o.str("tone", tone(u));
    o.str("desired", model::to_string(u.desired));
    o.boolean("disabled", u.disabled);
    o.boolean("run_once", u.run_once);
    o.boolean("secret", u.has_secret);
    o.num("pid", u.pid);
    o.str("instance", u.instance_id);
    o.num("started", ms(u.started));
    o.num("last_seen", ms(u.last_seen));
    o.num("restarts", static_cast<long long>(u.restarts));
    o.num("last_exit", u.last_exit_code);
    o.num("last_signal", u.last_signal);
    o.str("error", u.last_error);
    o.num("pings", static_cast<long long>(u.pings));
    {
        std::string &kv = o.key("keyvalue");
        Obj k(kv);
        for (const auto &[key, value] : u.keyvalue) k.str(key, value); // the value's JSON text, shown as it is
    }
    if (u.keepalive) o.str("keepalive", keepalive_name(*u.keepalive));
    if (u.systemd) {
        std::string &s = o.key("systemd");
        Obj sd(s);
        sd.str("unit", u.systemd->unit);
        sd.str("load", u.systemd->load_state);
        sd.str("active", u.systemd->active_state);
        sd.str("sub", u.systemd->sub_state);
        sd.str("result", u.systemd->result);
    }
    if (u.check) {
        std::string &c = o.key("check");
        {
            Obj ch(c);
            ch.str("protocol", u.check->protocol);
            ch.str("endpoint", u.check->endpoint);
            ch.num("latency_us", static_cast<long long>(u.check->last_latency));
            ch.num("probes", static_cast<long long>(u.check->probes));
            ch.num("failed", static_cast<long long>(u.check->probes_failed));
            // Why it is down: the newest failed probe's error while down.
            const auto &samples = u.check->samples;
            std::string error;
            if (!samples.empty() && !samples.back().online) error = samples.back().error;
            ch.str("error", error);
            // Since when it has been as it is now: the first of the newest probes that agree (as far back as the
            // kept history goes: "since_known" false when all of them agree).
            if (!samples.empty()) {
                std::size_t i = samples.size() - 1;
                while (i > 0 && samples[i - 1].online == samples.back().online) --i;
                ch.num("since", ms(samples[i].time));
                ch.boolean("since_known", i > 0);
            }
        }
        sample_timeline(o.key("timeline"), u, since);
    } else {
        history_timeline(o.key("timeline"), u, since);
    }
    o.num("timeline_seq", static_cast<long long>(timeline_seq(u)));
    o.boolean("timeline_partial", since > 0);
}

std::string snapshot_json(const supervisor::SupervisorView &v, std::string_view host) {
    std::string out;
    write_snapshot(out, v, host);
    return out;
}

void write_snapshot(std::string &out, const supervisor::SupervisorView &v, std::string_view host) {
    Obj o(out);
    o.str("host", host);
    o.str("instance", v.instance_id);
    o.num("started", ms(v.started));
    std::string &units = o.key("units");
    units += '[';
    for (std::size_t i = 0; i < v.units.size(); ++i) {
        if (i) units += ',';
        write_unit(units, v.units[i]);
    }
    units += ']';
}

std::variant<UiCommand, UiCommandError> parse_ui_command(std::string_view body) {
    boost::system::error_code ec;
    boost::json::value doc = boost::json::parse(body, ec);
    if (ec || !doc.is_object()) return UiCommandError{"", "the body is not a JSON object"};
    const boost::json::object &o = doc.as_object();
    auto text = [&](std::string_view k) -> std::optional<std::string> {
        const boost::json::value *v = o.if_contains(k);
        if (!v || !v->is_string()) return std::nullopt;
        return std::string(v->as_string());
    };
    for (const auto &[k, v] : o)
        if (k != "kind" && k != "id" && k != "toggle" && k != "secret")
            return UiCommandError{std::string(k), "unknown field (kind, id, toggle, secret)"};
    UiCommand c;
    const auto kind = text("kind");
    const auto parsed = kind ? model::parse_unit_kind(*kind) : std::nullopt;
    if (!parsed) return UiCommandError{"kind", "must be \"app\", \"service\" or \"check\""};
    c.ref.kind = *parsed;
    const auto id = text("id");
    if (!id || id->empty()) return UiCommandError{"id", "must be the unit's id"};
    c.ref.id = *id;
    const auto toggle = text("toggle");
    if (!toggle) return UiCommandError{"toggle", "must be \"start\", \"stop\", \"restart\" or \"run-once\""};
    if (*toggle == "start") c.cmd.toggle = model::Toggle::Enable;
    else if (*toggle == "stop") c.cmd.toggle = model::Toggle::Disable;
    else if (*toggle == "restart") c.cmd.toggle = model::Toggle::Restart;
    else if (*toggle == "run-once") c.cmd.toggle = model::Toggle::EnableRunOnceEnable;
    else return UiCommandError{"toggle", "must be \"start\", \"stop\", \"restart\" or \"run-once\""};
    if (const boost::json::value *s = o.if_contains("secret")) {
        if (!s->is_string()) return UiCommandError{"secret", "must be a string"};
        c.cmd.secret = std::string(s->as_string());
    }
    return c;
}

std::string ui_error_json(std::string_view message, std::string_view field) {
    std::string out;
    {
        Obj o(out);
        o.str("error", message);
        if (!field.empty()) o.str("field", field);
    }
    return out;
}

} // namespace watchd::api::http
