// Engine: the supervisor's implementation (private to this layer). One event queue: every event of every unit goes
// through step(), the one place where units change, which runs the unit's state machine, carries out its actions
// (executor.cc) and tells the observers.
#pragma once

#include <array>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <variant>
#include <vector>

#include "event/loop.h"
#include "event/source.h"
#include "model/app_machine.h"
#include "model/check_machine.h"
#include "notify/dispatcher.h"
#include "model/service_machine.h"
#include "supervisor/app_launcher.h"
#include "supervisor/command_sink.h"
#include "supervisor/observer.h"
#include "supervisor/supervisor.h"
#include "supervisor/unit_runtime.h"
#include "supervisor/view.h"
#include "sys/cgroup.h"
#include "systemd/manager_api.h"

namespace watchd::supervisor {

// A unit's spec and model status, and the spec a reload wants once the unit is down.
template <class Spec, class Status> struct KindUnit {
    Spec spec;
    Status status;
    std::optional<Spec> pending_spec;
};
using AppUnit = KindUnit<model::AppSpec, model::AppStatus>;
using ServiceUnit = KindUnit<model::ServiceSpec, model::ServiceStatus>;
using CheckUnit = KindUnit<model::CheckSpec, model::CheckStatus>;

struct Unit {
    UnitRef ref;
    std::variant<AppUnit, ServiceUnit, CheckUnit> k;
    bool removing = false; // a reload dropped it: erased once down
    UnitRuntime rt;        // declared after k: its callbacks touch it

    model::UnitCore &core();
    const model::UnitCore &core() const;
    AppUnit *app() { return std::get_if<AppUnit>(&k); }
    const AppUnit *app() const { return std::get_if<AppUnit>(&k); }
    ServiceUnit *service() { return std::get_if<ServiceUnit>(&k); }
    const ServiceUnit *service() const { return std::get_if<ServiceUnit>(&k); }
    bool has_pending_spec() const;
    // Down: inactive and nothing of it left running (in cgroup mode: its cgroup is empty too).
    bool down() const { return core().state == UnitState::Inactive && rt.processes.empty() && !rt.cgroup.busy; }
};

// Empty when `pid` may be taken as one of the app's processes (the app runs as root, or the process runs as the
// app's user); otherwise why not, ending in ": refused, ...". The same rule for pid files and pings.
std::string foreign_pid(const model::AppSpec &spec, pid_t pid);

class Engine final : private systemd::ManagerListener {
public:
    Engine(event::Loop &loop, const SupervisorOptions &options);
    ~Engine();

    void apply(const model::Config &config);
    void shutdown(std::function<void()> done);
    CommandResult submit(const UnitRef &ref, const Command &cmd);
    std::optional<UnitView> unit_view(const UnitRef &ref, bool with_history) const;
    SupervisorView view(bool with_history) const;
    void add_observer(UnitObserver &o) { observers_.push_back(&o); }
    void remove_observer(UnitObserver &o) { std::erase(observers_, &o); }
    std::string summary() const;
    std::optional<ResourceUsage> usage(const UnitRef &ref) const; // containment.cc
    std::optional<RecentOutput> recent_output(const UnitRef &ref, std::size_t max_lines) const; // executor.cc
    DaemonStats stats() const;

private:
    // services.cc: systemd's answers (ManagerListener) to the services, and the calls they ask for
    void on_unit(const std::string &unit, const model::SystemdUnit &state) override;
    void on_job_done(const std::string &unit, model::SystemdVerb verb, const std::string &result,
                     const std::string &error) override;
    void on_availability(bool available, const std::string &why) override;
    void do_watch_unit(Unit &u);
    void do_call_systemd(Unit &u, model::SystemdVerb verb);
    // Stops following `unit` unless another service (not `except`) still names it.
    void release_unit(const std::string &unit, const Unit *except);
    template <class F> void for_services_of(const std::string &unit, F f);
    // checks.cc: probes, at most maxConnections at once
    void do_start_probe(Unit &u);
    void do_stop_probe(Unit &u);
    void launch_probe(Unit &u);
    void probes_next();
    // Checks' probe timers: one heap and one loop timer for all of them (see checks.cc).
    void schedule_check(Unit &u, base::Usec at);
    void unschedule_check(Unit &u, bool forever = false);
    void run_due_checks();

    // supervisor.cc: the queue, reloads, views
    void post(Unit &u, model::Event e);
    void queue(Unit &u, model::Event e) { queue_.emplace_back(&u, std::move(e)); }
    void drain();
    void step(Unit &u, const model::Event &e);
    void after_drain();
    template <class Spec> void apply_kind(UnitKind kind, const std::vector<Spec> &specs, std::set<UnitRef> &configured);
    Unit *find(const UnitRef &ref) const;
    UnitView make_view(const Unit &u, bool with_history) const;
    void count(const Unit &u, int delta);
    void retire(std::shared_ptr<void> p);
    model::Now now() const;

    // executor.cc: actions → effects
    void execute(Unit &u, const model::Action &a);
    void announce(const Unit &u, model::Announcement what, int priority, std::string_view message);
    // The alert an announcement (or a recovery) means, if any, to the notifiers.
    void alert(const Unit &u, model::AlertKind kind, std::string_view message);
    void note_refused_ping(Unit &u, const std::string &why);
    void do_spawn(Unit &u);
    void do_kill(Unit &u, int sig);
    void do_kill_session(Unit &u, pid_t session, int sig);
    void do_read_pid_file(Unit &u);
    void do_watch_pid(Unit &u, pid_t pid);
    // leftover: a failed launch's process that was killed; its end is not the model's event.
    void watch_process(Unit &u, pid_t pid, base::Pidfd fd, bool child, bool leftover);
    // A spawn deferred until the previous instance's leftovers are gone goes now, if none is left.
    void spawn_if_deferred(Unit &u);
    void start_output(Unit &u, int priority, base::UniqueFd fd, pid_t pid, const std::string &instance);
    // Reads what is buffered; retires the reader at EOF (safe from inside its own callback).
    void drain_output(Unit &u, OutputReader &r);
    void arm_timer(Unit &u, model::TimerKind k, base::Usec at);
    // containment.cc: apps in cgroups
    int app_cgroup(Unit &u);
    bool cgroup_populated(Unit &u);
    void watch_cgroup(Unit &u);
    void cgroup_changed(Unit &u);
    void kill_cgroup(Unit &u, std::string_view why);
    void announce_killed(Unit &u, const std::vector<pid_t> &pids, std::string_view why);
    bool hold_exit(Unit &u, const model::ev::ProcessExited &e);
    void after_step_cgroup(Unit &u);
    void remove_cgroup(const Unit &u);
    void note_session(Unit &u, pid_t pid, pid_t session);
    void reap_orphans();
    std::optional<std::uint64_t> instance_cpu(Unit &u, pid_t exited);
    void arm_rules(Unit &u);
    void check_rules(Unit &u);
    void apply_limits(Unit &u);
    void end_sessions(Unit &u);
    void sweep_leftovers();
    void kill_leftovers(Unit &u, std::string_view why);
    void kill_adopted();
    void cancel_timer(Unit &u, model::TimerKind k);

    event::Loop &loop_;
    model::Settings settings_;
    AppLauncher launcher_;
    std::string instance_id_;
    base::Usec started_ = 0;
    std::string json_timestamp_;
    base::Usec ping_timeout_ = 0;
    std::vector<model::NotifierSpec> notifiers_;
    model::MonitorSettings monitor_;
    std::map<UnitRef, std::unique_ptr<Unit>> units_;
    std::array<std::array<std::size_t, model::kUnitStateCount>, model::kUnitKindCount> counts_{};
    std::deque<std::pair<Unit *, model::Event>> queue_;
    bool draining_ = false;
    bool reconfiguring_ = false; // a reload left units to swap or drop once they are down
    bool shutting_down_ = false;
    std::function<void()> shutdown_done_;
    std::vector<UnitObserver *> observers_;
    // Resources replaced while one of their callbacks may still be on the stack: freed on the next iteration.
    std::vector<std::shared_ptr<void>> graveyard_;
    std::unique_ptr<event::Timer> reaper_;
    std::shared_ptr<const sys::cgroup::Tree> cgroups_;
    bool subreaper_ = false;
    std::unique_ptr<event::SignalSource> orphans_; // SIGCHLD of adopted orphans (subreaper mode)
    std::unique_ptr<event::Timer> orphan_timer_;   // sweep_leftovers() on the next iteration, after sd-event reaped
    systemd::ManagerApi *manager_ = nullptr;       // services' systemd (not owned); null: services unavailable
    int systemd_said_ = 0;                         // systemd's availability as last logged: 1 up, -1 down, 0 not yet
    std::deque<Unit *> probe_queue_;               // checks waiting for a probe slot, oldest first
    unsigned probes_running_ = 0;
    std::unique_ptr<probe::Prober> prober_;        // made with the first check's first probe
    struct Due {
        base::Usec at;
        std::uint64_t seq; // the unit's schedule_seq when it was set; another one: cancelled or moved
        Unit *unit;
        bool operator>(const Due &o) const { return at > o.at; }
    };
    std::vector<Due> due_;                         // a min-heap on `at` (std::push_heap with std::greater)
    std::uint64_t due_seq_ = 0;
    std::unique_ptr<event::Timer> due_timer_;      // at the earliest entry of due_
    std::unique_ptr<event::Timer> tick_;           // every second: how late the loop runs it (DaemonStats)
    base::Usec tick_due_ = 0, loop_lag_ = 0;
    std::uint64_t pings_refused_ = 0;
    std::unique_ptr<notify::Dispatcher> dispatcher_; // alerts to the configured notifiers
};

} // namespace watchd::supervisor
