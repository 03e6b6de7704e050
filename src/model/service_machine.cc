// The service state machine (see the spec comment in service_machine.h).
#include "model/service_machine.h"

#include "model/machine_base.h"

#include <algorithm>
#include <csignal>
#include <cstring>
#include <utility>

namespace watchd::model {

namespace {

constexpr int kCldExited = 1, kCldKilled = 2, kCldDumped = 3; // ExecMainCode, as waitid()'s si_code
// After a job of ours ended "done", systemd's state signals may lag behind its JobRemoved: the machine waits this
// long for them before it takes the unit's state as final.
constexpr base::Usec kSettle = base::kUsecPerSec;

CoreSpec core_spec(const ServiceSpec &s) { return {s.disabled, &s.keyvalue, s.keyvalue_clear}; }

// Which of patrol's service actions an end or a job belongs to (its ignore-exit-codes-* list).
enum class Verb { Status, Start, Stop, Restart };

Verb verb_of(std::optional<SystemdVerb> v) {
    if (!v) return Verb::Status;
    switch (*v) {
    case SystemdVerb::Start: return Verb::Start;
    case SystemdVerb::Stop: return Verb::Stop;
    default: return Verb::Restart;
    }
}

const std::vector<std::uint8_t> &codes_for(const ServiceSpec &s, Verb v) {
    switch (v) {
    case Verb::Start: return s.ignore_exit_codes_start;
    case Verb::Stop: return s.ignore_exit_codes_stop;
    case Verb::Restart: return s.ignore_exit_codes_restart;
    case Verb::Status: break;
    }
    return s.ignore_exit_codes_status;
}

// The main process exited with a status the service's lists say is no failure.
bool ignored_exit(const ServiceSpec &s, const SystemdUnit &u, Verb v) {
    if (u.exec_main_code != kCldExited || u.exec_main_status <= 0) return false;
    auto in = [&](const std::vector<std::uint8_t> &l) {
        return std::find(l.begin(), l.end(), u.exec_main_status) != l.end();
    };
    return in(s.ignore_exit_codes) || in(codes_for(s, v));
}

bool active_like(const std::string &a) { return a == "active" || a == "reloading"; }
bool ended(const std::string &a) { return a == "inactive" || a == "failed"; }

// "failed (result exit-code, main process exited with status 3)".
std::string describe_end(const SystemdUnit &u) {
    std::string main;
    if (u.exec_main_code == kCldExited) {
        main = "main process exited with status " + std::to_string(u.exec_main_status);
    } else if (u.exec_main_code == kCldKilled || u.exec_main_code == kCldDumped) {
        const char *abbrev = u.exec_main_status > 0 && u.exec_main_status < NSIG ? sigabbrev_np(u.exec_main_status) : nullptr;
        main = "main process killed by signal " + (abbrev ? std::string(abbrev) : std::to_string(u.exec_main_status)) +
               (u.exec_main_code == kCldDumped ? " (core dumped)" : "");
    }
    return (u.active_state.empty() ? std::string("ended") : u.active_state) + " (result " +
           (u.result.empty() ? "unknown" : u.result) + (main.empty() ? "" : ", " + main) + ")";
}

// One event's worth of work on one service: holds the inputs and collects the actions.
class ServiceMachine : public MachineBase<ServiceSpec, ServiceStatus> {
public:
    using MachineBase::MachineBase;

    void on(const ev::Activate &) { activate(); }

    void on(const ev::Reconfigured &) {
        reset_to_spec(st_, core_spec(spec_));
        if (st_.sd_unit != spec_.unit) { // another unit now: what was read belongs to the old one
            close(-1, 0);
            st_.sd = {};
            st_.sd_unit.clear();
            st_.job.reset();
            st_.load_failed = false;
        }
        activate();
    }

    void on(const ev::Deactivate &d) {
        // The unit is systemd's: watchd stops keeping it, and leaves it as it is.
        st_.desired = DesiredState::Down;
        st_.job.reset();
        st_.released = true;
        switch (d.why) {
        case DeactivateWhy::Shutdown: st_.shutdown = true; break;
        case DeactivateWhy::Removed:
            announce(Announcement::Removed, "removed from the configuration; " + spec_.unit + " is left as it is");
            break;
        case DeactivateWhy::Reconfigure:
            announce(Announcement::Reconfigured, "configuration changed; following " + spec_.unit + " with the new one");
            break;
        }
        enter(UnitState::Inactive);
    }

    void on(const ev::ToggleCmd &t) {
        apply_toggle(st_, t.toggle, live());
        if (st_.released) return;
        if (st_.desired == DesiredState::Up) {
            // An operator's decision: forget earlier failures; a failed (or waiting) service is tried again now.
            st_.tracker = {};
            if (t.toggle == Toggle::Restart && live() && st_.bus == ServiceStatus::Bus::Up) {
                st_.restart = false;
                announce(Announcement::Stopping, "restart requested: " + std::string(method_name(spec_.restart_call)) +
                                                     " " + spec_.unit, 5);
                call(spec_.restart_call);
                return;
            }
            if (st_.state == UnitState::Backoff || (st_.state == UnitState::Failed && !st_.load_failed))
                enter(UnitState::Inactive);
            if (st_.load_failed) out_.push_back(act::WatchUnit{}); // read again: it may load now
        }
        reconcile();
    }

    void on(const ev::KeyValueSet &kv) { apply_keyvalue(st_, kv); }

    void on(const ev::SystemdChanged &e) {
        if (st_.released) { // shown, never acted on
            st_.sd = e.unit;
            return;
        }
        const SystemdUnit old = std::exchange(st_.sd, e.unit);
        const bool first_read = old.load_state.empty() || st_.sd_unit != spec_.unit;
        st_.sd_unit = spec_.unit;
        st_.bus = ServiceStatus::Bus::Up;
        if (old != st_.sd) ++st_.cas;
        const SystemdUnit &u = st_.sd;
        if (u.load_state != "loaded") {
            load_failed();
            return;
        }
        if (st_.load_failed) { // loaded now (a daemon-reload, a toggle or a reload of watchd read it again)
            st_.load_failed = false;
            st_.last_error.clear();
            if (st_.state == UnitState::Failed) enter(UnitState::Inactive);
        }
        bool ended_now = false, failure = false;
        if (!st_.instance_id.empty() &&
            (ended(u.active_state) || (!u.invocation_id.empty() && u.invocation_id != st_.instance_id))) {
            failure = end_instance();
            ended_now = true;
        } else if (!first_read && st_.instance_id.empty() && ended(u.active_state) && !ended(old.active_state) &&
                   !u.invocation_id.empty() && u.invocation_id != st_.last_invocation) {
            // An activation seen on its way up that ended before it was active (a start that failed, a oneshot):
            // one instance, judged by the call that started it. (A new InvocationID alone is no activation:
            // systemd gives it when a start job begins, while the state still says inactive or failed.)
            const auto asked = st_.asked;
            begin(false);
            st_.asked = asked;
            failure = end_instance();
            ended_now = true;
        }
        if (active_like(u.active_state) && !u.invocation_id.empty() && st_.instance_id != u.invocation_id) {
            begin(true);
        } else if (!st_.instance_id.empty() && u.main_pid != st_.pid) {
            st_.pid = u.main_pid;
            if (u.main_pid) st_.instance_pid = u.main_pid;
        }
        if (ended_now && st_.desired == DesiredState::Up && ended(u.active_state) && !st_.job) {
            restart_after(failure);
            return;
        }
        reconcile();
    }

    void on(const ev::SystemdJobDone &e) {
        if (st_.released || !st_.job || *st_.job != e.verb) return; // not (or no longer) ours
        st_.job.reset();
        const std::string what = std::string(method_name(e.verb)) + " " + spec_.unit;
        if (e.result == "done" || e.result == "skipped" ||
            e.result == "canceled") { // canceled: another job replaced ours (someone's systemctl): the state decides
            settle(e.verb);
            return;
        }
        const Verb v = verb_of(e.verb);
        const bool ignored = ignored_exit(spec_, st_.sd, v);
        st_.last_error = what + ": " + (e.error.empty() ? "job " + e.result : e.error);
        if (ignored) {
            announce(Announcement::Error, st_.last_error + " (exit status " + std::to_string(st_.sd.exec_main_status) +
                                              " is ignored: not a failure)", 5);
        } else {
            announce(Announcement::Error, st_.last_error, 3);
        }
        if (e.verb == SystemdVerb::Stop) {
            if (ignored) return settle(e.verb);
            enter(UnitState::Failed); // not retried in a loop: a toggle or a reload tries again
            return;
        }
        if (st_.desired == DesiredState::Up && !live()) restart_after(!ignored);
        else settle(e.verb);
    }

    void on(const ev::SystemdAvailability &e) {
        if (st_.released) return;
        st_.job.reset();
        st_.settling.reset();
        if (e.available) {
            st_.bus = ServiceStatus::Bus::Up; // the client reads the unit again: ev::SystemdChanged follows
            return;
        }
        st_.bus = ServiceStatus::Bus::Down;
        st_.last_error = "systemd unavailable: " + e.why;
        reconcile();
    }

    void on(const ev::TimerFired &t) {
        if (t.kind != TimerKind::State || st_.released) return;
        st_.state_deadline = 0;
        if (st_.state == UnitState::Backoff) {
            start();
            return;
        }
        if (!std::exchange(st_.settling, std::nullopt)) return;
        if (st_.desired == DesiredState::Up && st_.state == UnitState::Starting && !st_.job &&
            ended(st_.sd.active_state)) {
            st_.last_error = spec_.unit + " is still " + st_.sd.active_state + " after " +
                             std::string(method_name(spec_.start_call)) + " finished";
            announce(Announcement::Error, st_.last_error, 4);
            restart_after(true);
            return;
        }
        reconcile();
    }

    // Apps' and checks' events: not a service's.
    void on(const ev::ProbeFinished &) {}
    void on(const ev::Spawned &) {}
    void on(const ev::SpawnFailed &) {}
    void on(const ev::ProcessExited &) {}
    void on(const ev::PidFileRead &) {}
    void on(const ev::HeartbeatSeen &) {}

private:
    // The unit runs (or is on its way up or down).
    bool live() const { return !st_.sd.active_state.empty() && !ended(st_.sd.active_state); }

    void call(SystemdVerb v) {
        st_.job = st_.asked = v;
        st_.settling.reset();
        out_.push_back(act::CallSystemd{v});
    }

    // The one place that changes state; leaving a state drops its timer (restart delay, settling).
    void enter(UnitState s) {
        if (s == st_.state) return;
        if (st_.state_deadline) {
            st_.state_deadline = 0;
            st_.settling.reset();
            out_.push_back(act::CancelTimer{TimerKind::State});
        }
        ++st_.cas;
        st_.state = s;
    }

    // A job of ours ended well: wait for the state signals that follow (reconcile() does not act on the stale
    // state meanwhile), and look once more after kSettle.
    void settle(SystemdVerb v) {
        st_.settling = v;
        arm(now_.mono + kSettle);
        reconcile();
    }

    void activate() {
        st_.shutdown = false;
        st_.released = false;
        out_.push_back(act::WatchUnit{}); // (re)read the unit: it may have changed while nobody followed it
        st_.desired = desired_from_toggles(st_, live());
        if (st_.state == UnitState::Failed && !st_.load_failed) {
            st_.tracker = {};
            enter(UnitState::Inactive);
        }
        reconcile();
    }

    // The unit is active with a new InvocationID: a new instance. announce: it is seen running (not only ended).
    void begin(bool announce_it) {
        const SystemdUnit &u = st_.sd;
        begin_instance(st_, u.invocation_id, now_, spec_.keyvalue_clear);
        st_.last_invocation = u.invocation_id;
        st_.asked.reset(); // what started it is done: its end is judged by what comes next
        st_.pid = active_like(u.active_state) ? u.main_pid : 0;
        st_.instance_pid = st_.pid ? st_.pid : u.exec_main_pid;
        st_.last_error.clear();
        if (st_.run_once) st_.run_once_consumed = true; // this run is the one
        if (announce_it)
            announce(Announcement::Started, spec_.unit + " " + u.active_state + " (" + u.sub_state + ")" +
                                                (u.main_pid ? ", main pid " + std::to_string(u.main_pid) : ""));
    }

    // The current instance ended (the unit's state says how): announce, record, forget. Returns: a failure?
    bool end_instance() {
        const SystemdUnit &u = st_.sd;
        const Verb v = verb_of(st_.asked);
        const bool ignored = ignored_exit(spec_, u, v);
        const bool failure = !u.result.empty() && u.result != "success" && !ignored;
        const int code = u.exec_main_code == kCldExited ? u.exec_main_status : -1;
        const int sig = u.exec_main_code == kCldKilled || u.exec_main_code == kCldDumped ? u.exec_main_status : 0;
        st_.last_exit_code = code;
        st_.last_signal = sig;
        ran_ = st_.started_mono ? now_.mono - st_.started_mono : 0;
        std::string msg = (v == Verb::Stop ? "stopped: " : v == Verb::Restart ? "restarting: " : "") + describe_end(u);
        if (ignored) msg += "; exit status " + std::to_string(u.exec_main_status) + " is ignored: not a failure";
        announce(Announcement::Exited, std::move(msg), failure ? 4 : 5);
        close(code, sig);
        st_.asked.reset();
        instance_ended();
        return failure;
    }

    void close(int code, int sig) {
        if (st_.instance_id.empty()) return;
        close_instance(st_, code, sig, now_, settings_.history);
        if (!st_.history.empty()) st_.history.back().result = st_.sd.result;
        st_.pid = 0;
    }

    // As patrol's close(): the end of a run-once run disables the service.
    void instance_ended() {
        if (st_.run_once_consumed && !st_.shutdown) {
            apply_toggle(st_, Toggle::Disable, false);
            run_once_over_ = true;
        }
        if (st_.desired == DesiredState::Up) st_.desired = desired_from_toggles(st_, false);
    }

    void load_failed() {
        const SystemdUnit &u = st_.sd;
        const std::string msg =
            spec_.unit + ": " +
            (u.load_state == "not-found" ? "unit not found"
             : u.load_state == "masked"  ? "unit is masked"
                                         : "unit cannot be loaded (" + u.load_state + ")") +
            (u.load_error.empty() ? "" : " (" + u.load_error + ")");
        close(-1, 0);
        st_.job.reset();
        if (st_.desired == DesiredState::Down) {
            st_.last_error = msg;
            enter(UnitState::Inactive);
            return;
        }
        if (st_.last_error != msg || st_.state != UnitState::Failed) announce(Announcement::Error, msg, 3);
        st_.last_error = msg;
        st_.load_failed = true;
        enter(UnitState::Failed);
    }

    // Where the unit is against where it should be: the one place that decides to start or stop it.
    void reconcile() {
        if (st_.bus == ServiceStatus::Bus::Down) return enter(UnitState::Unavailable);
        const SystemdUnit &u = st_.sd;
        if (u.load_state.empty() || st_.sd_unit != spec_.unit) // not read yet
            return enter(st_.desired == DesiredState::Up ? UnitState::Starting : UnitState::Inactive);
        if (u.load_state != "loaded") return load_failed();
        const std::string &a = u.active_state;
        if (st_.desired == DesiredState::Down) {
            if (ended(a)) {
                if (st_.state == UnitState::Stopping)
                    announce(Announcement::Stopped, spec_.unit + " stopped (" + why_down() + ")");
                return enter(UnitState::Inactive);
            }
            if (a != "deactivating" && st_.job != SystemdVerb::Stop && st_.settling != SystemdVerb::Stop) {
                // patrol: "if we are Disabled and we discover a Service that is running, we will signal it to stop"
                announce(Announcement::Stopping, why_down() + ": stopping " + spec_.unit + " (found " + a + ")");
                call(SystemdVerb::Stop);
            }
            return enter(UnitState::Stopping);
        }
        if (active_like(a)) return enter(UnitState::Running);
        if (a == "activating") return enter(UnitState::Starting);
        if (a == "deactivating") return enter(UnitState::Stopping);
        // Inactive or failed, and wanted up. A start of ours in flight (or just done, its signals not yet here)
        // decides; a stop of ours is replaced (StartUnit's mode "replace").
        if ((st_.job && *st_.job != SystemdVerb::Stop) || (st_.settling && *st_.settling != SystemdVerb::Stop))
            return enter(UnitState::Starting);
        if (st_.state == UnitState::Backoff || st_.state == UnitState::Failed) return;
        start();
    }

    std::string why_down() const {
        return st_.shutdown ? "shutting down" : run_once_over_ ? "its run-once run is over (now disabled)"
                             : st_.disabled ? "disabled" : "run-once consumed";
    }

    void start() {
        st_.restart = false;
        if (st_.run_once) st_.run_once_consumed = true;
        if (!record_start(spec_.restart, st_.tracker, now_.mono)) {
            enter(UnitState::Failed);
            st_.last_error = "start limit hit: " + std::to_string(spec_.restart.start_limit_burst) + " starts within " +
                             base::format_duration(spec_.restart.start_limit_interval);
            announce(Announcement::Failed, st_.last_error + "; not starting " + spec_.unit +
                                               " until enabled, restarted or reloaded", 3);
            return;
        }
        enter(UnitState::Starting);
        call(spec_.start_call);
    }

    // The unit ended while wanted up: start it again, at once or after the backoff (failures only).
    void restart_after(bool failure) {
        if (st_.desired == DesiredState::Down) return reconcile();
        ++st_.restarts;
        base::Usec delay = 0;
        if (failure) delay = restart_delay(spec_.restart, st_.tracker, ran_);
        else st_.tracker.attempt = 0;
        if (delay == 0) {
            if (st_.state == UnitState::Backoff) enter(UnitState::Inactive);
            return start();
        }
        enter(UnitState::Backoff);
        arm(now_.mono + delay);
        announce(Announcement::Restarting, "starting " + spec_.unit + " again in " + base::format_duration(delay), 5);
    }

    base::Usec ran_ = 0;         // how long the instance that just ended ran
    bool run_once_over_ = false; // this event ended a run-once run
};

} // namespace

ServiceStatus initial_status(const ServiceSpec &spec, std::uint64_t cas_seed) {
    ServiceStatus st;
    init_core(st, core_spec(spec), cas_seed);
    return st;
}

std::vector<Action> transition(const ServiceSpec &spec, const Settings &settings, ServiceStatus &status,
                               const Event &event, Now now) {
    ServiceMachine m(spec, settings, status, now);
    std::visit([&](const auto &e) { m.on(e); }, event);
    return m.take();
}

} // namespace watchd::model
