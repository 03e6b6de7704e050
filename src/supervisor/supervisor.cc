// Supervisor: the event queue, reload diff, shutdown and commands. Effects live in executor.cc.
#include "supervisor/supervisor.h"

#include <algorithm>
#include <syslog.h>
#include <cstring>
#include <unistd.h>

#include "base/uuid.h"
#include "supervisor/unit.h"
#include "sys/log.h"

extern char **environ;

namespace watchd::supervisor {

namespace {
// Variables of watchd's own service manager that must not leak into apps (env-parent).
bool is_private_env(std::string_view kv) {
    for (std::string_view p : {"NOTIFY_SOCKET=", "WATCHDOG_USEC=", "WATCHDOG_PID=", "LISTEN_FDS=", "LISTEN_PID=",
                               "LISTEN_FDNAMES=", "JOURNAL_STREAM=", "INVOCATION_ID=", "MANAGERPID="})
        if (kv.starts_with(p)) return true;
    return false;
}
} // namespace

Supervisor::Supervisor(event::Loop &loop) : loop_(loop) {
    for (char **e = environ; e && *e; ++e)
        if (!is_private_env(*e)) parent_env_.emplace_back(*e);
    // Freeing retired resources can wait until nothing else is pending.
    auto t = event::Timer::create(loop_.get(), [this] { graveyard_.clear(); }, SD_EVENT_PRIORITY_IDLE);
    if (t) reaper_ = std::move(*t);
}

Supervisor::~Supervisor() = default;

model::Now Supervisor::now() const { return {base::now_monotonic(), base::now_realtime()}; }

void Supervisor::retire(std::shared_ptr<void> p) {
    graveyard_.push_back(std::move(p));
    if (reaper_ && !reaper_->armed()) reaper_->arm(1); // in the past: runs on the next loop iteration
}

void Supervisor::post(Unit &u, model::Event e) {
    queue_.emplace_back(&u, std::move(e));
    drain();
}

void Supervisor::drain() {
    if (draining_) return; // an action posted an event: the outer drain picks it up
    draining_ = true;
    while (!queue_.empty()) {
        auto [u, e] = std::move(queue_.front());
        queue_.pop_front();
        auto actions = model::transition(u->spec, settings_, u->status, e, now());
        // Effects first, then the log lines of this step: a restart is not delayed by writing "exited".
        for (const auto &a : actions)
            if (!std::holds_alternative<model::act::Announce>(a)) execute(*u, a);
        for (const auto &a : actions)
            if (std::holds_alternative<model::act::Announce>(a)) execute(*u, a);
    }
    draining_ = false;
    after_drain();
}

void Supervisor::after_drain() {
    // Units that reload changed or removed are swapped or dropped once down.
    for (auto it = units_.begin(); it != units_.end();) {
        Unit &u = *it->second;
        const bool down = u.status.state == model::UnitState::Inactive && u.status.pid == 0 &&
                          u.status.launcher_pid == 0;
        if (down && u.removing) {
            sys::log::unit(LOG_INFO, {"app", u.spec.id, "removed", {}, {}, 0}, "removed from the configuration");
            retire(std::shared_ptr<Unit>(std::move(it->second)));
            it = units_.erase(it);
            continue;
        }
        if (down && u.pending_spec && !shutting_down_) {
            auto history = std::move(u.status.history);
            auto restarts = u.status.restarts;
            u.spec = std::move(*u.pending_spec);
            u.pending_spec.reset();
            u.status = model::initial_status(u.spec);
            u.status.history = std::move(history);
            u.status.restarts = restarts;
            queue_.emplace_back(&u, model::ev::Activate{});
            drain();
            return;
        }
        ++it;
    }
    if (shutting_down_ && shutdown_done_) {
        bool all_down = std::all_of(units_.begin(), units_.end(), [](const auto &kv) {
            const auto &s = kv.second->status;
            return s.state == model::UnitState::Inactive || s.state == model::UnitState::Failed;
        });
        if (all_down) std::exchange(shutdown_done_, nullptr)();
    }
    if (on_change_) on_change_();
}

void Supervisor::apply(const model::Config &config) {
    settings_.history = config.history;
    settings_.ping_timeout = config.ping_timeout;
    listen_http_ = config.listen_http;
    listen_udp_ = config.listen_udp;
    std::vector<Unit *> to_activate;
    for (const auto &spec : config.apps) {
        auto it = units_.find(spec.id);
        if (it == units_.end()) {
            auto u = std::make_unique<Unit>();
            u->spec = spec;
            u->status = model::initial_status(spec);
            to_activate.push_back(u.get());
            units_.emplace(spec.id, std::move(u));
            continue;
        }
        Unit &u = *it->second;
        u.removing = false;
        if (u.spec == spec && !u.pending_spec) continue; // unchanged: untouched
        if (u.pending_spec && *u.pending_spec == spec) continue;
        sys::log::unit(LOG_INFO, {"app", spec.id, "reconfigured", {}, {}, 0}, "configuration changed, restarting");
        u.pending_spec = spec;
        queue_.emplace_back(&u, model::ev::Shutdown{});
    }
    for (auto &[id, u] : units_) {
        if (!config.find_app(id) && !u->removing) {
            u->removing = true;
            u->pending_spec.reset();
            queue_.emplace_back(u.get(), model::ev::Shutdown{});
        }
    }
    for (Unit *u : to_activate) queue_.emplace_back(u, model::ev::Activate{});
    drain();
}

void Supervisor::shutdown(std::function<void()> done) {
    shutting_down_ = true;
    shutdown_done_ = std::move(done);
    for (auto &[id, u] : units_) queue_.emplace_back(u.get(), model::ev::Shutdown{});
    drain();
}

base::Result<void> Supervisor::toggle(const std::string &id, model::Toggle t) {
    auto it = units_.find(id);
    if (it == units_.end() || it->second->removing)
        return base::unexpected(base::Error{{}, "id", "no app \"" + id + "\""});
    if (shutting_down_) return base::unexpected(base::Error{{}, "toggle", "watchd is shutting down"});
    post(*it->second, model::ev::ToggleCmd{t});
    return {};
}

base::Result<void> Supervisor::heartbeat(const std::string &id, pid_t pid) {
    auto it = units_.find(id);
    if (it == units_.end() || it->second->removing)
        return base::unexpected(base::Error{{}, "id", "no app \"" + id + "\""});
    auto k = it->second->spec.keepalive;
    if (k != model::KeepAlive::Http && k != model::KeepAlive::Udp)
        return base::unexpected(base::Error{{}, "ping", "app \"" + id + "\" does not use an http or udp keepalive"});
    post(*it->second, model::ev::HeartbeatSeen{pid, base::uuid_v4()});
    return {};
}

std::vector<AppView> Supervisor::apps() const {
    std::vector<AppView> v;
    for (const auto &[id, u] : units_) v.push_back({u->spec, u->status});
    return v;
}

std::optional<AppView> Supervisor::app(const std::string &id) const {
    auto it = units_.find(id);
    if (it == units_.end()) return std::nullopt;
    return AppView{it->second->spec, it->second->status};
}

std::string Supervisor::summary() const {
    size_t counts[model::kUnitStateCount] = {};
    for (const auto &[id, u] : units_) ++counts[static_cast<size_t>(u->status.state)];
    auto n = [&](model::UnitState s) { return counts[static_cast<size_t>(s)]; };
    std::string out = std::to_string(n(model::UnitState::Running)) + " apps running";
    auto add = [&](size_t c, const char *what) {
        if (c) out += ", " + std::to_string(c) + " " + what;
    };
    add(n(model::UnitState::Starting), "starting");
    add(n(model::UnitState::Backoff), "restarting");
    add(n(model::UnitState::Stopping), "stopping");
    add(n(model::UnitState::Failed), "failed");
    add(n(model::UnitState::Inactive), "inactive");
    return out;
}

} // namespace watchd::supervisor
