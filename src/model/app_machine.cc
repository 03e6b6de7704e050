// The app state machine (see the spec comment in app_machine.h).
#include "model/app_machine.h"

#include "model/machine_base.h"

#include <csignal>
#include <cstring>
#include <string>
#include <utility>

namespace watchd::model {

namespace {

CoreSpec core_spec(const AppSpec &spec) { return {spec.disabled, &spec.keyvalue, spec.keyvalue_clear}; }

std::string describe_exit(const ev::ProcessExited &e) {
    if (!e.known) return "exited";
    if (e.signal) return std::string("killed by signal ") + sigabbrev_np(e.signal);
    return "exited with status " + std::to_string(e.code);
}

// One event's worth of work on one app: holds the inputs and collects the actions.
class AppMachine : public MachineBase<AppSpec, AppStatus> {
public:
    using MachineBase::MachineBase;

    void on(const ev::Activate &) { activate(); }

    void on(const ev::Reconfigured &) {
        reset_to_spec(st_, core_spec(spec_));
        activate();
    }

    void on(const ev::Deactivate &d) {
        st_.desired = DesiredState::Down;
        switch (d.why) {
        case DeactivateWhy::Shutdown:
            st_.shutdown = true;
            stop_or_rest("shutting down");
            break;
        case DeactivateWhy::Removed:
            announce(Announcement::Removed, "removed from the configuration");
            stop_or_rest("removed from the configuration");
            break;
        case DeactivateWhy::Reconfigure:
            announce(Announcement::Reconfigured, "configuration changed, restarting with the new one");
            stop_or_rest("reconfiguring");
            break;
        }
    }

    void on(const ev::ToggleCmd &t) {
        apply_toggle(st_, t.toggle, live());
        if (st_.desired == DesiredState::Down) {
            stop_or_rest(why_down());
            return;
        }
        if (t.toggle == Toggle::Restart) {
            // patrol consumes the restart when it signals the stop (the instance's history does not carry it)
            if (st_.state == UnitState::Stopping) {
                st_.restart = false;
                st_.stop_is_failure = false; // start at once when the stop completes
                return;
            }
            if (live()) {
                st_.restart = false;
                stop(false, "restart requested");
                return;
            }
        }
        // A toggle is an operator's decision: forget earlier failures and start if down.
        if (st_.state == UnitState::Inactive || st_.state == UnitState::Failed || st_.state == UnitState::Backoff) {
            st_.tracker = {};
            start(false);
        }
    }

    void on(const ev::KeyValueSet &kv) { apply_keyvalue(st_, kv); }

    void on(const ev::Spawned &e) {
        if (st_.state != UnitState::Starting) return;
        begin_instance(st_, e.instance_id, now_, spec_.keyvalue_clear);
        st_.instance_pid = e.pid;
        switch (spec_.keepalive) {
        case KeepAlive::Patrol:
            st_.pid = e.pid;
            enter(UnitState::Running);
            arm_execute_timeout();
            announce(Announcement::Started, "started, pid " + std::to_string(e.pid));
            break;
        case KeepAlive::PidFile:
            st_.launcher_pid = e.pid;
            arm(now_.mono + kPidFilePoll);
            st_.state_deadline_limit = now_.mono + spec_.pid_wait;
            announce(Announcement::Started, "launcher started, pid " + std::to_string(e.pid) + ", waiting for " +
                                                spec_.pid_path);
            break;
        case KeepAlive::Http:
        case KeepAlive::Udp:
            st_.launcher_pid = e.pid;
            announce(Announcement::Started, "started, pid " + std::to_string(e.pid) + ", waiting for its first " +
                                                (spec_.keepalive == KeepAlive::Http ? "HTTP" : "UDP") + " ping");
            break;
        }
    }

    void on(const ev::SpawnFailed &e) {
        if (st_.state != UnitState::Starting) return;
        st_.last_error = e.error;
        announce(Announcement::Error, "could not start: " + e.error, 3);
        down(-1, 0);
    }

    void on(const ev::ProcessExited &e) {
        const bool main = e.pid == st_.pid && st_.pid != 0;
        const bool launcher = e.pid == st_.launcher_pid && st_.launcher_pid != 0;
        if (!main && !launcher) return;
        if (launcher) st_.launcher_pid = 0;
        if (main) st_.pid = 0;
        if (e.known) {
            st_.last_exit_code = e.signal ? -1 : e.code;
            st_.last_signal = e.signal;
        }
        ++st_.cas;
        if (st_.state == UnitState::Stopping) {
            if (!live()) finish_stop();
            return;
        }
        const bool failed_launch = e.known && (e.code != 0 || e.signal != 0);
        if (launcher && !main) {
            // pidfile/http/udp: the spawned process is not (yet) the watched one. Exit 0 = it daemonized.
            if (failed_launch) {
                announce(Announcement::Exited, "launcher " + describe_exit(e), 4);
                if (st_.pid) kill(SIGKILL); // what it left behind would race the next instance
                down(st_.last_exit_code, st_.last_signal);
            } else if (spec_.keepalive == KeepAlive::PidFile && st_.state == UnitState::Starting) {
                out_.push_back(act::ReadPidFile{});
            }
            return;
        }
        if (spec_.keepalive == KeepAlive::PidFile && st_.state == UnitState::Running) {
            // patrol follows a daemon that re-forked and rewrote its pid file: look once before calling it dead.
            st_.rechecking = e.pid;
            out_.push_back(act::ReadPidFile{});
            return;
        }
        announce(Announcement::Exited, describe_exit(e), e.known && !failed_launch ? 5 : 4);
        if (st_.launcher_pid) kill(SIGKILL);
        down(e.known ? st_.last_exit_code : -1, e.known ? e.signal : 0);
    }

    void on(const ev::PidFileRead &e) {
        if (spec_.keepalive != KeepAlive::PidFile) return;
        if (const pid_t gone = std::exchange(st_.rechecking, 0); gone && st_.state == UnitState::Running) {
            // The one place that decides whether the pid file names a successor of the PID that just exited.
            if (e.pid > 0 && e.pid != gone) {
                watch_main(e.pid);
                announce(Announcement::Started, "PID " + std::to_string(gone) + " exited; following PID " +
                                                    std::to_string(e.pid) + " from " + spec_.pid_path);
                return;
            }
            announce(Announcement::Exited, "exited", 4);
            down(-1, 0);
            return;
        }
        if (st_.state != UnitState::Starting) return;
        if (std::exchange(st_.adopting, false)) {
            if (e.pid <= 0) { // nothing to adopt: start it
                st_.last_error = e.error;
                out_.push_back(act::Spawn{});
                return;
            }
            begin_instance(st_, e.instance_id, now_, spec_.keyvalue_clear);
            running_from_pid_file(e.pid, "adopted the running PID ");
            return;
        }
        if (e.pid <= 0) {
            st_.last_error = e.error;
            return; // keep polling until the deadline (TimerFired)
        }
        running_from_pid_file(e.pid, "running, pid ");
    }

    void on(const ev::HeartbeatSeen &e) {
        if (spec_.keepalive != KeepAlive::Http && spec_.keepalive != KeepAlive::Udp) return;
        if (st_.state == UnitState::Stopping || st_.desired == DesiredState::Down) return;
        ++st_.pings;
        ++st_.cas;
        st_.last_seen = now_.real;
        st_.last_seen_mono = now_.mono;
        if (st_.state == UnitState::Failed) return; // seen, but only a toggle or a reload leaves failed
        if (st_.state != UnitState::Running && st_.state != UnitState::Starting)
            begin_instance(st_, e.instance_id, now_, spec_.keyvalue_clear); // patrol: a ping discovers a running app
        if (st_.state == UnitState::Running && e.pid > 0 && st_.pid > 0 && e.pid != st_.pid) {
            // patrol: a ping from another PID is another instance. The old one goes to history (no exit code: not
            // seen to exit), the new one starts now, not seen yet; the new process is watched instead.
            const pid_t old = st_.pid;
            close_instance(st_, -1, 0, now_, settings_.history);
            begin_instance(st_, e.instance_id, now_, spec_.keyvalue_clear);
            watch_main(e.pid);
            announce(Announcement::Started, "pinged by pid " + std::to_string(e.pid) + " instead of " +
                                                std::to_string(old) + ": a new instance");
            arm(now_.mono + settings_.ping_timeout);
            return;
        }
        if (e.pid > 0 && e.pid != st_.pid) watch_main(e.pid);
        if (st_.state != UnitState::Running) {
            enter(UnitState::Running);
            arm_execute_timeout();
            announce(Announcement::Started, "first ping received" +
                                                (st_.pid ? ", pid " + std::to_string(st_.pid) : std::string()));
        }
        arm(now_.mono + settings_.ping_timeout);
    }

    void on(const ev::TimerFired &t) {
        if (t.kind == TimerKind::ExecuteTimeout) {
            st_.exec_deadline = 0;
            if (st_.state != UnitState::Running) return;
            announce(Announcement::Timeout, "execute-timeout of " + base::format_duration(spec_.execute_timeout) +
                                                " reached", 5);
            stop(true, "execute-timeout");
            return;
        }
        st_.state_deadline = 0;
        switch (st_.state) {
        case UnitState::Backoff:
            start(false);
            break;
        case UnitState::Stopping:
            announce(Announcement::Timeout, "did not stop within " + base::format_duration(spec_.stop_timeout) +
                                                ", killing", 4);
            kill(SIGKILL);
            break;
        case UnitState::Starting:
            if (spec_.keepalive == KeepAlive::PidFile) {
                if (now_.mono < st_.state_deadline_limit) {
                    arm(now_.mono + kPidFilePoll);
                    out_.push_back(act::ReadPidFile{});
                    return;
                }
                announce(Announcement::Timeout, "no valid PID in " + spec_.pid_path + " after " +
                                                    base::format_duration(spec_.pid_wait) +
                                                    (st_.last_error.empty() ? "" : ": " + st_.last_error), 3);
                // The launch failed: what it left running must not run beside the next one.
                if (st_.instance_pid) out_.push_back(act::KillSession{st_.instance_pid, SIGKILL});
            } else {
                announce(Announcement::Timeout, "no ping within ping-timeout " +
                                                    base::format_duration(settings_.ping_timeout), 4);
            }
            stop_or_down();
            break;
        case UnitState::Running:
            announce(Announcement::Timeout, "ping expired: none within " +
                                                base::format_duration(settings_.ping_timeout), 4);
            stop_or_down();
            break;
        default:
            break;
        }
    }

    // Services' and checks' events: not an app's.
    void on(const ev::SystemdChanged &) {}
    void on(const ev::SystemdJobDone &) {}
    void on(const ev::SystemdAvailability &) {}
    void on(const ev::ProbeFinished &) {}

private:
    bool live() const { return st_.pid != 0 || st_.launcher_pid != 0; }
    std::string why_down() const {
        return st_.shutdown ? "shutting down" : run_once_over_ ? "its run-once run is over (now disabled)"
                             : st_.disabled ? "disabled" : "run-once consumed";
    }

    void arm_execute_timeout() {
        if (spec_.execute_timeout == 0) return;
        st_.exec_deadline = now_.mono + spec_.execute_timeout;
        out_.push_back(act::ArmTimer{TimerKind::ExecuteTimeout, st_.exec_deadline});
    }
    void kill(int sig) { out_.push_back(act::Kill{sig}); }
    void watch_main(pid_t pid) {
        st_.pid = st_.instance_pid = pid;
        ++st_.cas;
        out_.push_back(act::WatchPid{pid});
    }

    // The one place that changes state: drops the timers the new state does not own (callers arm new ones).
    void enter(UnitState s) {
        if (st_.state_deadline) {
            st_.state_deadline = 0;
            out_.push_back(act::CancelTimer{TimerKind::State});
        }
        if (s != UnitState::Running && s != UnitState::Stopping && st_.exec_deadline) {
            st_.exec_deadline = 0;
            out_.push_back(act::CancelTimer{TimerKind::ExecuteTimeout});
        }
        if (s != st_.state) ++st_.cas;
        st_.state = s;
    }

    // The unit is configured (again): wanted up as its toggles say; retried when it had failed.
    void activate() {
        st_.shutdown = false;
        st_.desired = desired_from_toggles(st_, live());
        if (st_.desired == DesiredState::Down) return;
        if (st_.state == UnitState::Failed) {
            st_.tracker = {};
            start(false);
        } else if (st_.state == UnitState::Inactive) {
            start(spec_.keepalive == KeepAlive::PidFile);
        }
        // Stopping: the stop completes, then the desired state (Up) starts it again.
    }

    void running_from_pid_file(pid_t pid, const std::string &what) {
        if (st_.launcher_pid == pid) st_.launcher_pid = 0; // the launcher itself stayed: it is the daemon
        watch_main(pid);
        st_.last_error.clear();
        enter(UnitState::Running);
        arm_execute_timeout();
        announce(Announcement::Started, what + std::to_string(pid) + " from " + spec_.pid_path);
    }

    void start(bool adopt_first) {
        st_.restart = false;
        if (st_.run_once) st_.run_once_consumed = true;
        if (!record_start(spec_.restart, st_.tracker, now_.mono)) {
            enter(UnitState::Failed);
            announce(Announcement::Failed, "start limit hit: " + std::to_string(spec_.restart.start_limit_burst) +
                                               " starts within " +
                                               base::format_duration(spec_.restart.start_limit_interval) +
                                               "; not restarting until enabled, restarted or reloaded", 3);
            return;
        }
        enter(UnitState::Starting);
        st_.instance_id.clear();
        if (spec_.keepalive == KeepAlive::Http || spec_.keepalive == KeepAlive::Udp)
            arm(now_.mono + settings_.ping_timeout);
        st_.adopting = adopt_first;
        if (adopt_first) out_.push_back(act::ReadPidFile{});
        else out_.push_back(act::Spawn{});
    }

    // failure: the stop follows a missed deadline, so the restart after it goes through the backoff.
    void stop(bool failure, std::string reason) {
        const bool launching = spec_.keepalive == KeepAlive::PidFile && st_.pid == 0 && st_.instance_pid;
        enter(UnitState::Stopping);
        st_.stop_is_failure = failure;
        st_.stop_reason = std::move(reason);
        announce(Announcement::Stopping, "stopping: " + st_.stop_reason);
        kill(spec_.stop_signal);
        // A pidfile launch with no daemon in its pid file yet: what it started goes with it.
        if (launching) out_.push_back(act::KillSession{st_.instance_pid, SIGKILL});
        arm(now_.mono + spec_.stop_timeout);
    }

    // Desired Down: stop what runs; when nothing runs, settle now.
    void stop_or_rest(std::string reason) {
        if (st_.state == UnitState::Stopping) return; // the stop completes, then Down settles it
        if (live()) {
            stop(false, std::move(reason));
            return;
        }
        st_.adopting = false;
        // A pidfile launch whose daemon wrote no pid file yet: what it started must not outlive the stop.
        if (spec_.keepalive == KeepAlive::PidFile && st_.state == UnitState::Starting && st_.instance_pid)
            out_.push_back(act::KillSession{st_.instance_pid, SIGKILL});
        close_instance(st_, -1, 0, now_, settings_.history);
        if (st_.state != UnitState::Inactive) {
            enter(UnitState::Inactive);
            announce(Announcement::Stopped, "stopped: " + reason);
        }
    }

    // A deadline passed: stop what still runs, then take the restart path.
    void stop_or_down() {
        if (live())
            stop(true, "keepalive deadline missed");
        else
            down(-1, 0);
    }

    void finish_stop() {
        close_instance(st_, st_.last_exit_code, st_.last_signal, now_, settings_.history);
        announce(Announcement::Stopped, "stopped (" + st_.stop_reason + ")");
        instance_ended();
        if (st_.desired == DesiredState::Down) enter(UnitState::Inactive);
        else if (st_.stop_is_failure) restart_or_rest();
        else start(false);
    }

    // The instance is gone (crash, timeout, failed start): record it, then restart or rest.
    void down(int exit_code, int signal) {
        close_instance(st_, exit_code, signal, now_, settings_.history);
        instance_ended();
        restart_or_rest();
    }

    // No instance runs any more. As patrol's close(): the end of a run-once run disables the app (run-once and
    // restart cleared; its history entry keeps that it was one), so "enable" or "enable + run-once" runs it again.
    void instance_ended() {
        if (st_.run_once_consumed && !st_.shutdown) {
            apply_toggle(st_, Toggle::Disable, false);
            run_once_over_ = true;
        }
        if (st_.desired == DesiredState::Up) st_.desired = desired_from_toggles(st_, false);
    }

    void restart_or_rest() {
        if (st_.desired == DesiredState::Down) {
            enter(UnitState::Inactive);
            announce(Announcement::Stopped, why_down() + ", not restarting");
            return;
        }
        ++st_.restarts;
        const base::Usec ran = st_.started_mono ? now_.mono - st_.started_mono : 0;
        const base::Usec delay = restart_delay(spec_.restart, st_.tracker, ran);
        if (delay == 0) {
            start(false);
            return;
        }
        enter(UnitState::Backoff);
        arm(now_.mono + delay);
        announce(Announcement::Restarting, "restarting in " + base::format_duration(delay), 5);
    }

    bool run_once_over_ = false; // this event ended a run-once run
};

} // namespace

AppStatus initial_status(const AppSpec &spec, std::uint64_t cas_seed) {
    AppStatus st;
    init_core(st, core_spec(spec), cas_seed);
    return st;
}

std::vector<Action> transition(const AppSpec &spec, const Settings &settings, AppStatus &status, const Event &event,
                               Now now) {
    AppMachine m(spec, settings, status, now);
    std::visit([&](const auto &e) { m.on(e); }, event);
    return m.take();
}

} // namespace watchd::model
