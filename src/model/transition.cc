// The app state machine (see the spec comment in transition.h).
#include "model/transition.h"

#include <csignal>
#include <cstring>
#include <string>
#include <utility>

namespace watchd::model {

AppStatus initial_status(const AppSpec &spec) {
    AppStatus st;
    st.disabled = spec.disabled;
    st.keyvalue = spec.keyvalue;
    return st;
}

namespace {

std::string describe_exit(const ev::ProcessExited &e) {
    if (!e.known) return "exited";
    if (e.signal) return std::string("killed by signal ") + sigabbrev_np(e.signal);
    return "exited with status " + std::to_string(e.code);
}

// One event's worth of work on one app: holds the inputs and collects the actions.
class Machine {
public:
    Machine(const AppSpec &spec, const Settings &settings, AppStatus &st, Now now)
        : spec_(spec), settings_(settings), st_(st), now_(now) {}

    std::vector<Action> take() { return std::move(out_); }

    void on(const ev::Activate &) {
        if (st_.state == UnitState::Inactive && wanted_up()) start(spec_.keepalive == KeepAlive::PidFile);
    }

    void on(const ev::Shutdown &) {
        st_.shutdown = true;
        stop_or_rest(AfterStop::Rest, "shutting down");
    }

    void on(const ev::ToggleCmd &t) {
        ++st_.cas;
        switch (t.toggle) {
        case Toggle::Enable:
            st_.disabled = false;
            break;
        case Toggle::Disable:
            st_.disabled = true;
            st_.restart = st_.run_once = st_.run_once_consumed = false;
            stop_or_rest(AfterStop::Rest, "disabled");
            return;
        case Toggle::Restart:
            st_.disabled = false;
            st_.restart = true;
            st_.run_once = st_.run_once_consumed = false;
            if (live()) {
                stop(AfterStop::Start, "restart requested");
                return;
            }
            if (st_.state == UnitState::Stopping) {
                st_.after_stop = AfterStop::Start;
                return;
            }
            break;
        case Toggle::RunOnceEnable:
        case Toggle::EnableRunOnceEnable:
            if (t.toggle == Toggle::EnableRunOnceEnable) st_.disabled = false;
            st_.run_once = true;
            if (live()) st_.run_once_consumed = true; // patrol: already running, so this run is the one
            break;
        case Toggle::RunOnceDisable:
        case Toggle::EnableRunOnceDisable:
            if (t.toggle == Toggle::EnableRunOnceDisable) st_.disabled = false;
            st_.run_once = st_.run_once_consumed = false;
            break;
        }
        // A toggle is an operator's decision: forget earlier failures and start if now wanted and down.
        if (wanted_up() && (st_.state == UnitState::Inactive || st_.state == UnitState::Failed ||
                            st_.state == UnitState::Backoff)) {
            st_.tracker = {};
            start(false);
        }
    }

    void on(const ev::Spawned &e) {
        if (st_.state != UnitState::Starting) return;
        begin_instance(e.instance_id);
        switch (spec_.keepalive) {
        case KeepAlive::Patrol:
            st_.pid = st_.instance_pid = e.pid;
            enter(UnitState::Running);
            arm_execute_timeout();
            announce(Announcement::Started, "started, pid " + std::to_string(e.pid));
            break;
        case KeepAlive::PidFile:
            st_.launcher_pid = st_.instance_pid = e.pid;
            arm(now_.mono + kPidFilePoll);
            st_.state_deadline_limit = now_.mono + kPidFileWait;
            announce(Announcement::Started, "launcher started, pid " + std::to_string(e.pid) + ", waiting for " +
                                                spec_.pid_path);
            break;
        case KeepAlive::Http:
        case KeepAlive::Udp:
 st_.launcher_pid = st_.instance_pid = e.pid;
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
            if (e.pid > 0 && e.pid != gone) {
                st_.pid = st_.instance_pid = e.pid;
                ++st_.cas;
                announce(Announcement::Started, "PID " + std::to_string(gone) + " exited; following PID " +
                                                    std::to_string(e.pid) + " from " + spec_.pid_path);
                return;
            }
            announce(Announcement::Exited, "exited", 4);
            down(-1, 0);
            return;
        }
        if (st_.state != UnitState::Starting) return;
        if (e.pid <= 0) {
            st_.last_error = e.error;
            return; // keep polling until the deadline (TimerFired)
        }
        if (st_.instance_id.empty()) begin_instance(e.instance_id); // adopted: no spawn this time
        st_.pid = st_.instance_pid = e.pid;
        if (st_.launcher_pid == e.pid) st_.launcher_pid = 0;
        st_.last_error.clear();
        enter(UnitState::Running);
        arm_execute_timeout();
        announce(Announcement::Started, "running, pid " + std::to_string(e.pid) + " from " + spec_.pid_path);
    }

    void on(const ev::HeartbeatSeen &e) {
        if (spec_.keepalive != KeepAlive::Http && spec_.keepalive != KeepAlive::Udp) return;
        if (st_.state == UnitState::Stopping || st_.shutdown) return;
        ++st_.cas;
        st_.last_seen_real = now_.real;
        st_.last_seen_mono = now_.mono;
        if (st_.state != UnitState::Running && st_.state != UnitState::Starting) {
            if (!wanted_up()) return;
            begin_instance(e.instance_id); // patrol: a ping discovers a running app
        }
        if (e.pid > 0 && e.pid != st_.pid) {
            st_.pid = st_.instance_pid = e.pid;
            out_.push_back(act::WatchPid{e.pid});
        }
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
            stop(AfterStop::Backoff, "execute-timeout");
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
                                                    base::format_duration(kPidFileWait) +
                                                    (st_.last_error.empty() ? "" : ": " + st_.last_error), 3);
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

private:
    bool live() const { return st_.pid != 0 || st_.launcher_pid != 0; }
    bool wanted_up() const { return !st_.disabled && !st_.shutdown && !(st_.run_once && st_.run_once_consumed); }

    void announce(Announcement a, std::string msg, int prio = 6) {
        out_.push_back(act::Announce{a, std::move(msg), prio});
    }
    void arm(base::Usec at) {
        st_.state_deadline = at;
        out_.push_back(act::ArmTimer{TimerKind::State, at});
    }
    void arm_execute_timeout() {
        if (spec_.execute_timeout == 0) return;
        st_.exec_deadline = now_.mono + spec_.execute_timeout;
        out_.push_back(act::ArmTimer{TimerKind::ExecuteTimeout, st_.exec_deadline});
    }
    void kill(int sig) { out_.push_back(act::Kill{sig}); }

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

    void begin_instance(const std::string &id) {
        st_.instance_id = id;
        st_.instance_pid = 0;
        st_.started_real = st_.last_seen_real = now_.real;
        st_.started_mono = st_.last_seen_mono = now_.mono;
        if (spec_.keyvalue_clear) st_.keyvalue.clear();
    }

    void start(bool adopt_first) {
        st_.restart = false;
        if (st_.run_once) st_.run_once_consumed = true;
        if (!record_start(spec_.restart, st_.tracker, now_.mono)) {
            enter(UnitState::Failed);
            announce(Announcement::Failed, "start limit hit: " + std::to_string(spec_.restart.start_limit_burst) +
                                               " starts within " +
                                               base::format_duration(spec_.restart.start_limit_interval) +
                                               "; not restarting until enabled or restarted", 3);
            return;
        }
        enter(UnitState::Starting);
        st_.instance_id.clear();
        if (spec_.keepalive == KeepAlive::Http || spec_.keepalive == KeepAlive::Udp)
            arm(now_.mono + settings_.ping_timeout);
        out_.push_back(act::Spawn{adopt_first});
    }

    void stop(AfterStop after, std::string reason) {
        enter(UnitState::Stopping);
        st_.after_stop = after;
        st_.stop_reason = std::move(reason);
        announce(Announcement::Stopping, "stopping: " + st_.stop_reason);
        kill(spec_.stop_signal);
        arm(now_.mono + spec_.stop_timeout);
    }

    // Stop what runs; when nothing runs, settle now.
    void stop_or_rest(AfterStop after, std::string reason) {
        if (st_.state == UnitState::Stopping) {
            st_.after_stop = after;
            return;
        }
        if (live()) {
            stop(after, std::move(reason));
            return;
        }
        close_instance(-1, 0);
        if (st_.state != UnitState::Inactive) {
            enter(UnitState::Inactive);
            announce(Announcement::Stopped, "stopped: " + reason);
        }
    }

    // A deadline passed: stop what still runs, then take the restart path.
    void stop_or_down() {
        if (live())
            stop(AfterStop::Backoff, "keepalive deadline missed");
        else
            down(-1, 0);
    }

    void finish_stop() {
        close_instance(st_.last_exit_code, st_.last_signal);
        switch (st_.after_stop) {
        case AfterStop::Rest:
            enter(UnitState::Inactive);
            announce(Announcement::Stopped, "stopped (" + st_.stop_reason + ")");
            break;
        case AfterStop::Start:
            if (wanted_up()) start(false);
            else enter(UnitState::Inactive);
            break;
        case AfterStop::Backoff:
            restart_or_rest();
            break;
        }
    }

    // The instance is gone (crash, timeout, failed start): record it, then restart or rest.
    void down(int exit_code, int signal) {
        close_instance(exit_code, signal);
        restart_or_rest();
    }

    void restart_or_rest() {
        if (!wanted_up()) {
            enter(UnitState::Inactive);
            announce(Announcement::Stopped, st_.disabled ? "disabled, not restarting"
                                            : st_.shutdown ? "shutting down, not restarting"
                                                           : "run-once consumed, not restarting");
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

    void close_instance(int exit_code, int signal) {
        if (st_.instance_id.empty()) return;
        HistoryEntry h;
        h.instance_id = std::move(st_.instance_id);
        h.pid = st_.instance_pid;
        h.started = st_.started_real;
        h.last_seen = st_.last_seen_real;
        h.stopped = now_.real;
        h.disabled = st_.disabled;
        h.restart = st_.restart;
        h.run_once = st_.run_once;
        h.shutdown = st_.shutdown;
        h.exit_code = exit_code;
        h.signal = signal;
        h.keyvalue = st_.keyvalue;
        st_.history.push_back(std::move(h));
        while (st_.history.size() > settings_.history) st_.history.pop_front();
        st_.instance_id.clear();
        ++st_.cas;
    }

    const AppSpec &spec_;
    const Settings &settings_;
    AppStatus &st_;
    Now now_;
    std::vector<Action> out_;
};

} // namespace

std::vector<Action> transition(const AppSpec &spec, const Settings &settings, AppStatus &status, const Event &event,
                               Now now) {
    Machine m(spec, settings, status, now);
    std::visit([&](const auto &e) { m.on(e); }, event);
    return m.take();
}

} // namespace watchd::model
