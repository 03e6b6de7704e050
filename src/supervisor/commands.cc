// Views out of the engine and commands into it (patrol's API rules), and the STATUS= summary.
#include <algorithm>
#include <string>

#include <syslog.h>

#include "base/time.h"
#include "base/uuid.h"
#include "supervisor/engine.h"
#include "supervisor/supervisor.h"
#include "sys/proc_info.h"

namespace watchd::supervisor {

namespace {

// Compares without leaking, through timing, how much of the secret matched.
bool same_secret(const std::string &a, const std::string &b) {
    unsigned diff = a.size() != b.size(); // every byte is looked at: no early exit
    const std::size_t n = std::max(a.size(), b.size());
    for (std::size_t i = 0; i < n; ++i)
        diff |= static_cast<unsigned char>((i < a.size() ? a[i] : 0) ^ (i < b.size() ? b[i] : 0));
    return diff == 0;
}

const std::string &secret_of(const Unit &u) {
    static const std::string none;
    return std::visit(
        [](const auto &ku) -> const std::string & {
            if constexpr (requires { ku.spec.secret; }) return ku.spec.secret;
            else return none;
        },
        u.k);
}

} // namespace

std::string_view describe(CommandError e, UnitKind kind) {
    switch (e) {
    case CommandError::None: return "";
    case CommandError::UnknownUnit:
        return kind == UnitKind::App ? "Unknown App" : kind == UnitKind::Service ? "Unknown Service" : "Unknown Check";
    case CommandError::SecretInvalid: return "Secret Invalid";
    case CommandError::PingNotSupported: return "Ping Not Supported";
    case CommandError::PidNotSupported: return "PID Not Supported";
    case CommandError::PidRequiresPing: return "PID Requires Ping";
    case CommandError::InvalidPingEndpoint: return "Invalid Ping Endpoint";
    case CommandError::ShuttingDown: return "Shutting Down";
    }
    return "";
}

UnitView Engine::make_view(const Unit &u, bool with_history) const {
    const model::UnitCore &c = u.core();
    UnitView v;
    static_cast<model::UnitFacts &>(v) = c;
    if (c.instance_id.empty()) v.started = v.last_seen = 0;
    v.ref = u.ref;
    v.name = std::visit([](const auto &ku) { return ku.spec.name; }, u.k);
    v.supervised = model::is_supervised(u.ref.kind);
    v.has_secret = !secret_of(u).empty();
    if (with_history) v.history.assign(c.history.begin(), c.history.end());
    v.history_total = c.history_total;
    if (const AppUnit *a = u.app()) {
        v.keepalive = a->spec.keepalive;
        v.launcher_pid = a->status.launcher_pid;
    }
    if (const ServiceUnit *s = u.service()) {
        const model::SystemdUnit &sd = s->status.sd;
        v.systemd = UnitView::Systemd{s->spec.unit, sd.load_state, sd.active_state, sd.sub_state, sd.result};
    }
    if (const auto *c = std::get_if<CheckUnit>(&u.k)) {
        v.check = UnitView::Check{c->spec.protocol, c->spec.endpoint(), {},
                                  c->status.samples.empty() ? 0 : c->status.samples.back().latency,
                                  c->status.samples_total, c->status.probes_ok, c->status.probes_failed,
                                  c->status.latency};
        if (with_history) v.check->samples.assign(c->status.samples.begin(), c->status.samples.end());
    }
    return v;
}

std::optional<UnitView> Engine::unit_view(const UnitRef &ref, bool with_history) const {
    const Unit *u = find(ref);
    if (!u) return std::nullopt;
    return make_view(*u, with_history);
}

SupervisorView Engine::view(bool with_history) const {
    SupervisorView v;
    v.instance_id = instance_id_;
    v.started = started_;
    v.shutting_down = shutting_down_;
    v.json_timestamp = json_timestamp_;
    v.ping_timeout = ping_timeout_;
    for (const auto &[ref, u] : units_) // the map's order: kind (apps, services, checks), then id
        if (!u->removing) v.units.push_back(make_view(*u, with_history));
    return v;
}

namespace {

// Why the PID a ping names must not be watched as the app's process, or empty when it may. A ping comes from the
// app, which is untrusted: an app running as another user must not make watchd watch (and later signal) a process
// that is not its own, and a PID that does not exist would make the app "start" and "exit" at once, ping by ping.
std::string untrusted_ping_pid(const model::AppSpec &spec, pid_t pid) {
    if (pid <= 0) return {};
    if (auto owner = sys::process_uid(pid); !owner)
        return "PID " + std::to_string(pid) + " does not exist (" + owner.error().message() + ")";
    return foreign_pid(spec, pid);
}

} // namespace

// A refused ping is logged at most once a minute per unit, with how many there were.
void Engine::note_refused_ping(Unit &u, const std::string &why) {
    auto &r = u.rt.refused_pings;
    ++r.count;
    ++pings_refused_;
    const base::Usec now = base::now_monotonic();
    if (r.logged && now - r.logged < 60 * base::kUsecPerSec) return;
    announce(u, model::Announcement::Error, LOG_WARNING,
             "ping ignored: " + why +
                 (r.count > 1 ? " (" + std::to_string(r.count) + " such pings since the last message)" : ""));
    r.logged = now;
    r.count = 0;
}

CommandResult Engine::submit(const UnitRef &ref, const Command &cmd) {
    CommandResult r;
    auto fail = [&](CommandError e) {
        r.error = e;
        return r;
    };
    Unit *u = find(ref);
    if (!u) return fail(CommandError::UnknownUnit);
    const std::string &secret = secret_of(*u);
    if (!secret.empty() && cmd.authenticate) {
        if (!cmd.authenticate(secret)) return fail(CommandError::SecretInvalid);
    } else if (!secret.empty() && cmd.secret.empty()) {
        // patrol: no secret given is no error, but nothing changes and the answer says so.
        r.before = make_view(*u, cmd.history);
        r.cas_invalid = true;
        return r;
    } else if (!secret.empty() && !same_secret(secret, cmd.secret)) {
        return fail(CommandError::SecretInvalid);
    }
    const AppUnit *app = u->app();
    const bool pingable =
        app && (app->spec.keepalive == model::KeepAlive::Http || app->spec.keepalive == model::KeepAlive::Udp);
    if (cmd.ping && !pingable) return fail(CommandError::PingNotSupported);
    if (cmd.ping && cmd.via != Command::Via::Any &&
        (cmd.via == Command::Via::Http) != (app->spec.keepalive == model::KeepAlive::Http))
        return fail(CommandError::InvalidPingEndpoint);
    if (cmd.pid > 0 && !pingable) return fail(CommandError::PidNotSupported);
    if (cmd.pid > 0 && !cmd.ping) return fail(CommandError::PidRequiresPing);
    if (cmd.toggle && shutting_down_) return fail(CommandError::ShuttingDown);
    r.before = make_view(*u, cmd.history);
    r.cas_invalid = cmd.cas != 0 && cmd.cas != u->core().cas;
    if (!r.cas_invalid) {
        if (cmd.keyvalue && (cmd.keyvalue_replace || !cmd.keyvalue->empty()))
            queue(*u, model::ev::KeyValueSet{*cmd.keyvalue, cmd.keyvalue_replace});
        if (cmd.toggle) queue(*u, model::ev::ToggleCmd{*cmd.toggle});
    }
    if (cmd.ping) {
        // The PID already watched was checked when it was first named: a steady pinger costs no /proc read.
        const bool known = cmd.pid > 0 && cmd.pid == u->core().pid;
        // A new instance id only where the machine may open an instance: not for the steady ping of a running app.
        const bool steady = u->core().state == UnitState::Running && (cmd.pid <= 0 || cmd.pid == u->core().pid);
        if (const std::string why = known ? std::string() : untrusted_ping_pid(app->spec, cmd.pid); why.empty())
            queue(*u, model::ev::HeartbeatSeen{cmd.pid, steady ? std::string() : base::uuid_v4()});
        else
            note_refused_ping(*u, why);
    }
    drain();
    return r;
}

std::string Engine::summary() const {
    auto n = [&](UnitKind k, UnitState s) { return counts_[static_cast<std::size_t>(k)][static_cast<std::size_t>(s)]; };
    auto total = [&](UnitKind k) {
        std::size_t t = 0;
        for (std::size_t c : counts_[static_cast<std::size_t>(k)]) t += c;
        return t;
    };
    // "3 apps running, 1 restarting", "2 services running, 1 failed": the kinds watchd runs, each when it has some.
    auto kind = [&](UnitKind k, const char *one, const char *many) {
        const std::size_t running = n(k, UnitState::Running);
        std::string out = std::to_string(running) + " " + (running == 1 ? one : many) + " running";
        auto add = [&](UnitState s, const char *what) {
            if (std::size_t c = n(k, s)) out += ", " + std::to_string(c) + " " + what;
        };
        add(UnitState::Starting, "starting");
        add(UnitState::Backoff, "restarting");
        add(UnitState::Stopping, "stopping");
        add(UnitState::Failed, "failed");
        add(UnitState::Unavailable, "unavailable");
        add(UnitState::Inactive, "inactive");
        return out;
    };
    std::string out = total(UnitKind::App) ? kind(UnitKind::App, "app", "apps") : "no apps";
    if (total(UnitKind::Service)) out += "; " + kind(UnitKind::Service, "service", "services");
    if (total(UnitKind::Check)) {
        // "12 checks ok, 1 failing": gossm's up and down
        const std::size_t ok = n(UnitKind::Check, UnitState::Running);
        out += "; " + std::to_string(ok) + (ok == 1 ? " check ok" : " checks ok");
        if (std::size_t c = n(UnitKind::Check, UnitState::Failed)) out += ", " + std::to_string(c) + " failing";
        if (std::size_t c = n(UnitKind::Check, UnitState::Starting)) out += ", " + std::to_string(c) + " not checked yet";
        if (std::size_t c = n(UnitKind::Check, UnitState::Inactive)) out += ", " + std::to_string(c) + " disabled";
    }
    return out;
}

} // namespace watchd::supervisor
