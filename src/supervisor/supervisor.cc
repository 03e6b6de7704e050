// The engine's event queue, the one step every event goes through, reloads and shutdown; Supervisor forwards to it.
#include "supervisor/supervisor.h"

#include <algorithm>
#include <random>
#include <csignal>
#include <set>
#include <syslog.h>
#include <unistd.h>

#include "base/uuid.h"
#include "supervisor/engine.h"
#include "sys/proc_info.h"
#include "sys/log.h"

namespace watchd::supervisor {

model::UnitCore &Unit::core() {
    return std::visit([](auto &ku) -> model::UnitCore & { return ku.status; }, k);
}
const model::UnitCore &Unit::core() const {
    return std::visit([](const auto &ku) -> const model::UnitCore & { return ku.status; }, k);
}
bool Unit::has_pending_spec() const {
    return std::visit([](const auto &ku) { return ku.pending_spec.has_value(); }, k);
}

namespace {
constexpr base::Usec kGraveyardDelay = 50 * base::kUsecPerMsec;
}

Engine::Engine(event::Loop &loop, const SupervisorOptions &options)
    : loop_(loop), launcher_(options.app_fd_soft_limit), instance_id_(base::uuid_v4()), started_(base::now_realtime()),
      cgroups_(options.cgroups), subreaper_(options.subreaper), manager_(options.manager) {
    if (manager_) manager_->set_listener(this);
    // Freeing retired resources can wait: until nothing else is pending, some 50 ms later (a timer that sd-event may
    // fire with others, so retiring a probe's resources costs the loop no wake-up and no timerfd re-arm of its own).
    auto t = event::Timer::create(loop_, [this] { graveyard_.clear(); }, event::Priority::Idle, kGraveyardDelay);
    if (t) reaper_ = std::move(*t);
    // The loop's lag: a tick every second, and how late it runs.
    auto tick = event::Timer::create(loop_, [this] {
        const base::Usec now = base::now_monotonic();
        loop_lag_ = now > tick_due_ ? now - tick_due_ : 0;
        tick_due_ = now + base::kUsecPerSec;
        tick_->arm(tick_due_);
    }, event::Priority::Normal, 1); // accurate to 1 µs: the lag is the loop's, not the timer's slack
    if (tick) {
        tick_ = std::move(*tick);
        tick_due_ = base::now_monotonic() + base::kUsecPerSec;
        tick_->arm(tick_due_);
    }
    dispatcher_ = std::make_unique<notify::Dispatcher>(loop_, [](int priority, const std::string &m) {
        sys::log::daemon(priority, m);
    });
    if (subreaper_) {
        auto sig = event::SignalSource::create(loop_, SIGCHLD, [this](const signalfd_siginfo &) { reap_orphans(); });
        if (sig) orphans_ = std::move(*sig);
        else sys::log::daemon(LOG_ERR, "cannot watch for orphans: " + sig.error().message() + "; they are reaped as apps exit");
        auto later = event::Timer::create(loop_, [this] { sweep_leftovers(); });
        if (later) orphan_timer_ = std::move(*later);
    }
}

Engine::~Engine() {
    if (manager_) manager_->set_listener(nullptr);
    // Probes in flight (and retired ones) hold transfers of the prober's curl handle: they go first.
    for (auto &[ref, u] : units_) u->rt.probe.reset();
    graveyard_.clear();
    prober_.reset();
}

model::Now Engine::now() const { return {base::now_monotonic(), base::now_realtime()}; }

void Engine::retire(std::shared_ptr<void> p) {
    graveyard_.push_back(std::move(p));
    if (reaper_ && !reaper_->armed()) reaper_->arm(base::now_monotonic() + kGraveyardDelay);
}

void Engine::post(Unit &u, model::Event e) {
    queue(u, std::move(e));
    drain();
}

void Engine::drain() {
    if (draining_) return; // an action or an observer posted an event: the outer drain picks it up
    draining_ = true;
    while (!queue_.empty()) {
        auto [u, e] = std::move(queue_.front());
        queue_.pop_front();
        step(*u, e);
    }
    draining_ = false;
    after_drain();
}

// The one place where a unit changes: its machine, its effects, then the observers.
void Engine::step(Unit &u, const model::Event &e) {
    const model::UnitCore &c = u.core();
    const UnitState old_state = c.state;
    const std::uint64_t old_cas = c.cas, old_history = c.history_total;
    count(u, -1);
    auto actions = std::visit(
        [&](auto &ku) { return model::transition(ku.spec, settings_, ku.status, e, now()); }, u.k);
    count(u, +1);
    // Effects first, then the log lines of this step: a restart is not delayed by writing "exited".
    for (const auto &a : actions)
        if (!std::holds_alternative<model::act::Announce>(a)) execute(u, a);
    for (const auto &a : actions)
        if (std::holds_alternative<model::act::Announce>(a)) execute(u, a);
    if ((cgroups_ || subreaper_) && c.state != old_state) after_step_cgroup(u);
    if (c.state == UnitState::Running && !(u.rt.rules.timer && u.rt.rules.timer->armed()))
        if (const AppUnit *a = u.app(); a && a->spec.restart_if.any()) arm_rules(u);
    // A failure ends when the unit runs again, however it got there (a restart goes failed, starting, running).
    if (u.ref.kind != UnitKind::Check) {
        if (c.state == UnitState::Failed) u.rt.failed_unrecovered = true;
        else if (c.state == UnitState::Running && u.rt.failed_unrecovered) {
            u.rt.failed_unrecovered = false;
            alert(u, model::AlertKind::Recovered, "runs again after it had failed");
        }
    }
    // A unit an operator disabled is down on purpose: what fired for it ends (Alertmanager resolves it), as for a
    // unit a reload removed. Not at shutdown: watchd going away lets its alerts expire instead.
    if (c.state == UnitState::Inactive && old_state != UnitState::Inactive &&
        c.desired == model::DesiredState::Down && !shutting_down_ && dispatcher_) {
        u.rt.failed_unrecovered = false;
        dispatcher_->forget(u.ref);
    }
    if (observers_.empty() || (c.cas == old_cas && c.state == old_state)) return;
    const UnitView v = make_view(u, false);
    for (UnitObserver *o : std::vector<UnitObserver *>(observers_)) o->on_unit_changed(v, old_state, c.state);
    const std::uint64_t added = std::min<std::uint64_t>(c.history_total - old_history, c.history.size());
    for (std::uint64_t i = c.history.size() - added; i < c.history.size(); ++i)
        for (UnitObserver *o : std::vector<UnitObserver *>(observers_)) o->on_history_added(u.ref, c.history[i]);
}

void Engine::count(const Unit &u, int delta) {
    counts_[static_cast<std::size_t>(u.ref.kind)][static_cast<std::size_t>(u.core().state)] += delta;
}

void Engine::after_drain() {
    // Nothing waits for a unit to be down (no reload in progress, no shutdown): nothing to look at. Without this,
    // every drain (several per probe, per ping) would walk every unit.
    if (!reconfiguring_ && !(shutting_down_ && shutdown_done_)) return;
    // Units that a reload changed or removed are swapped or dropped once down.
    bool waiting = false;
    for (auto it = units_.begin(); it != units_.end();) {
        Unit &u = *it->second;
        if ((u.removing || u.has_pending_spec()) && !u.down()) waiting = true;
        if (u.down() && u.removing) {
            count(u, -1);
            const UnitRef ref = u.ref;
            remove_cgroup(u);
            if (const ServiceUnit *s = u.service()) release_unit(s->spec.unit, &u);
            do_stop_probe(u);
            unschedule_check(u, true);
            retire(std::shared_ptr<Unit>(std::move(it->second)));
            it = units_.erase(it);
            if (dispatcher_) dispatcher_->forget(ref); // what fired for it ends (alertmanager resolves it)
            for (UnitObserver *o : std::vector<UnitObserver *>(observers_)) o->on_unit_removed(ref);
            continue;
        }
        if (u.down() && u.has_pending_spec() && !shutting_down_) {
            const std::string old_unit = u.service() ? u.service()->spec.unit : std::string();
            std::visit([](auto &ku) { ku.spec = std::move(*ku.pending_spec); ku.pending_spec.reset(); }, u.k);
            if (const ServiceUnit *s = u.service(); s && s->spec.unit != old_unit) release_unit(old_unit, &u);
            post(u, model::ev::Reconfigured{});
            return; // post() drained, and ran after_drain() again
        }
        ++it;
    }
    reconfiguring_ = waiting;
    if (shutting_down_ && shutdown_done_ &&
        std::all_of(units_.begin(), units_.end(), [](const auto &kv) { return kv.second->down(); })) {
        kill_adopted();
        std::exchange(shutdown_done_, nullptr)();
    }
}

Unit *Engine::find(const UnitRef &ref) const {
    auto it = units_.find(ref);
    return it == units_.end() || it->second->removing ? nullptr : it->second.get();
}

template <class Spec>
void Engine::apply_kind(UnitKind kind, const std::vector<Spec> &specs, std::set<UnitRef> &configured) {
    static std::mt19937_64 rng{std::random_device{}()};
    for (const Spec &spec : specs) {
        const UnitRef ref{kind, spec.id};
        configured.insert(ref);
        auto it = units_.find(ref);
        if (it == units_.end()) {
            auto u = std::make_unique<Unit>();
            u->ref = ref;
            // patrol's CAS starts at a random value in 1..100000.
            u->k = KindUnit<Spec, decltype(model::initial_status(spec))>{
                spec, model::initial_status(spec, 1 + rng() % 100000), std::nullopt};
            count(*u, +1);
            queue(*u, model::ev::Activate{});
            units_.emplace(ref, std::move(u));
            continue;
        }
        Unit &u = *it->second;
        auto &ku = std::get<KindUnit<Spec, decltype(model::initial_status(spec))>>(u.k);
        const Spec &wanted = ku.pending_spec ? *ku.pending_spec : ku.spec;
        u.removing = false;
        if (wanted == spec) {
            // Unchanged: a running unit is left alone; a failed or removed one is wanted again.
            if (!ku.pending_spec) queue(u, model::ev::Activate{});
            continue;
        }
        ku.pending_spec = spec;
        queue(u, model::ev::Deactivate{model::DeactivateWhy::Reconfigure});
    }
}

void Engine::apply(const model::Config &config) {
    settings_.history = config.history;
    settings_.ping_timeout = config.ping_timeout;
    settings_.notify_backoff_base = config.monitor.exponential_backoff_seconds;
    json_timestamp_ = config.json_timestamp;
    ping_timeout_ = config.ping_timeout;
    notifiers_ = config.notifiers;
    monitor_ = config.monitor;
    launcher_.set_listen(config.listen_http, config.listen_udp);
    std::set<UnitRef> configured;
    apply_kind(UnitKind::App, config.apps, configured);
    apply_kind(UnitKind::Service, config.services, configured);
    apply_kind(UnitKind::Check, config.checks, configured);
    for (auto &[ref, u] : units_) {
        if (configured.count(ref) || u->removing) continue;
        u->removing = true;
        std::visit([](auto &ku) { ku.pending_spec.reset(); }, u->k);
        queue(*u, model::ev::Deactivate{model::DeactivateWhy::Removed});
    }
    reconfiguring_ = true; // after_drain() looks for units to swap or drop until none is left
    char host[256] = {};
    if (::gethostname(host, sizeof host - 1) != 0) host[0] = '\0';
    dispatcher_->configure(config.notifiers, host);
    drain();
}

void Engine::shutdown(std::function<void()> done) {
    shutting_down_ = true;
    shutdown_done_ = std::move(done);
    for (auto &[ref, u] : units_) queue(*u, model::ev::Deactivate{model::DeactivateWhy::Shutdown});
    drain();
}

Supervisor::Supervisor(event::Loop &loop, SupervisorOptions options)
    : engine_(std::make_unique<Engine>(loop, options)) {}
Supervisor::~Supervisor() = default;
void Supervisor::apply(const model::Config &config) { engine_->apply(config); }
void Supervisor::shutdown(std::function<void()> done) { engine_->shutdown(std::move(done)); }
CommandResult Supervisor::submit(const UnitRef &ref, const Command &cmd) { return engine_->submit(ref, cmd); }
std::optional<UnitView> Supervisor::unit(const UnitRef &ref, bool with_history) const {
    return engine_->unit_view(ref, with_history);
}
SupervisorView Supervisor::view(bool with_history) const { return engine_->view(with_history); }
void Supervisor::add_observer(UnitObserver &o) { engine_->add_observer(o); }
void Supervisor::remove_observer(UnitObserver &o) { engine_->remove_observer(o); }
std::string Supervisor::summary() const { return engine_->summary(); }
std::optional<ResourceUsage> Supervisor::usage(const UnitRef &ref) const { return engine_->usage(ref); }
std::optional<RecentOutput> Supervisor::recent_output(const UnitRef &ref, std::size_t max_lines) const {
    return engine_->recent_output(ref, max_lines);
}
DaemonStats Supervisor::stats() const { return engine_->stats(); }

DaemonStats Engine::stats() const {
    DaemonStats d;
    const sys::SelfStats s = sys::self_stats();
    d.cpu_usec = s.cpu_usec;
    d.rss_bytes = s.rss_bytes;
    d.open_fds = s.open_fds;
    d.max_fds = s.max_fds;
    d.loop_lag = loop_lag_;
    d.pings_refused = pings_refused_;
    for (const auto &[name, c] : dispatcher_->per_notifier())
        d.notifiers.push_back({name, c.delivered, c.failed, c.retried, c.dropped});
    return d;
}

} // namespace watchd::supervisor
