// The check state machine (see the spec comment in check_machine.h).
#include "model/check_machine.h"

#include <algorithm>

#include "model/machine_base.h"

namespace watchd::model {

namespace {

constexpr base::Usec kDay = 86400 * base::kUsecPerSec;

CoreSpec core_spec(const CheckSpec &s) { return {s.disabled, nullptr, false}; }

// Durations in messages: whole milliseconds (latencies), whole seconds from a second on (outages).
std::string ms(base::Usec d) { return d < base::kUsecPerMsec ? base::format_duration(d) : base::format_duration(d / base::kUsecPerMsec * base::kUsecPerMsec); }
std::string secs(base::Usec d) { return d < base::kUsecPerSec ? ms(d) : base::format_duration(d / base::kUsecPerSec * base::kUsecPerSec); }

// Where in its interval a check's first probe goes: a fixed spread from its id (FNV-1a), so that checks
// configured together do not probe together.
base::Usec spread(const CheckSpec &s) {
    std::uint64_t h = 1469598103934665603ULL;
    for (unsigned char c : s.id) h = (h ^ c) * 1099511628211ULL;
    return s.interval ? static_cast<base::Usec>(h % static_cast<std::uint64_t>(s.interval)) : 0;
}

class CheckMachine : public MachineBase<CheckSpec, CheckStatus> {
public:
    using MachineBase::MachineBase;

    void on(const ev::Activate &) { activate(); }

    void on(const ev::Reconfigured &) {
        reset_to_spec(st_, core_spec(spec_));
        reset_backoff();
        activate();
    }

    void on(const ev::Deactivate &d) {
        st_.desired = DesiredState::Down;
        if (d.why == DeactivateWhy::Shutdown) st_.shutdown = true;
        if (d.why == DeactivateWhy::Removed) announce(Announcement::Removed, "removed from the configuration");
        if (d.why == DeactivateWhy::Reconfigure)
            announce(Announcement::Reconfigured, "configuration changed, checking with the new one");
        stop();
    }

    void on(const ev::ToggleCmd &t) {
        apply_toggle(st_, t.toggle, false);
        st_.restart = false; // a check has nothing to restart: "restart" probes now
        if (st_.desired == DesiredState::Down) {
            if (st_.state != UnitState::Inactive) announce(Announcement::Stopped, "disabled: not checked any more");
            stop();
            return;
        }
        if (st_.state == UnitState::Inactive) enter(UnitState::Starting);
        if (!st_.probing) probe_now();
    }

    void on(const ev::KeyValueSet &kv) { apply_keyvalue(st_, kv); }

    void on(const ev::TimerFired &t) {
        if (t.kind != TimerKind::State || st_.state == UnitState::Inactive) return;
        const base::Usec due = st_.state_deadline;
        st_.state_deadline = 0;
        // The next one at a fixed rate; rounds missed (a stopped clock, a long suspend) are skipped, not caught up.
        base::Usec next = due + spec_.interval;
        if (next <= now_.mono) next = now_.mono + spec_.interval;
        arm(next);
        if (st_.probing) return; // the last one has not ended (its timeout ends it): no second one beside it
        start_probe();
    }

    void on(const ev::ProbeFinished &e) {
        if (!st_.probing) return;
        st_.probing = false;
        if (st_.state == UnitState::Inactive) return;
        record(e);
        if (e.warning != st_.warning) {
            st_.warning = e.warning;
            if (!e.warning.empty()) announce(Announcement::Error, describe_target(spec_) + ": " + e.warning, 4);
        }
        if (e.ok) {
            st_.failures = 0;
            ++st_.successes;
            if (st_.state == UnitState::Running || st_.successes >= std::max(1u, spec_.rise)) up(e);
        } else {
            st_.successes = 0;
            if (st_.failures++ == 0) {
                st_.failing_since = now_.real;
                st_.failing_since_mono = now_.mono;
            }
            if (st_.state == UnitState::Failed || st_.failures >= std::max(1u, spec_.fall)) down(e);
        }
    }

    // Other kinds' events.
    template <class E> void on(const E &) {}

private:
    void activate() {
        st_.shutdown = false;
        st_.desired = desired_from_toggles(st_, false);
        if (st_.desired == DesiredState::Down) return stop();
        if (st_.state != UnitState::Inactive) return; // already checking
        enter(UnitState::Starting);
        arm(now_.mono + spread(spec_));
    }

    void stop() {
        if (st_.probing) out_.push_back(act::StopProbe{});
        st_.probing = false;
        if (st_.state_deadline) {
            st_.state_deadline = 0;
            out_.push_back(act::CancelTimer{TimerKind::State});
        }
        st_.successes = st_.failures = 0; // a check enabled again starts from scratch
        st_.failing_since = st_.failing_since_mono = 0;
        enter(UnitState::Inactive);
    }

    void probe_now() {
        if (st_.state_deadline) out_.push_back(act::CancelTimer{TimerKind::State});
        arm(now_.mono + spec_.interval);
        start_probe();
    }

    void start_probe() {
        st_.probing = true;
        out_.push_back(act::StartProbe{});
    }

    void enter(UnitState s) {
        if (s != st_.state) ++st_.cas;
        st_.state = s;
    }

    void record(const ev::ProbeFinished &e) {
        st_.samples.push_back({now_.real, e.ok, e.latency, e.ok ? std::string() : e.error});
        ++st_.samples_total;
        ++(e.ok ? st_.probes_ok : st_.probes_failed);
        st_.latency.add(e.latency);
        while (st_.samples.size() > settings_.history) st_.samples.pop_front();
        st_.last_seen = now_.real;
        st_.last_seen_mono = now_.mono;
        ++st_.cas;
    }

    void up(const ev::ProbeFinished &e) {
        if (st_.state == UnitState::Failed)
            announce(Announcement::Up, describe_target(spec_) + " up again after " +
                                           secs(now_.mono - st_.down_since_mono) + " (" +
                                           std::to_string(st_.notifications) + " notification" +
                                           (st_.notifications == 1 ? "" : "s") + " sent)", 5);
        else if (st_.state == UnitState::Starting)
            announce(Announcement::Started, describe_target(spec_) + " reached in " + ms(e.latency));
        st_.last_error.clear();
        st_.down_since = st_.down_since_mono = 0;
        st_.failing_since = st_.failing_since_mono = 0;
        reset_backoff();
        enter(UnitState::Running);
    }

    void down(const ev::ProbeFinished &e) {
        st_.last_error = e.error;
        if (st_.state != UnitState::Failed) { // the outage began with the first failure in a row (fall > 1)
            st_.down_since = st_.failing_since ? st_.failing_since : now_.real;
            st_.down_since_mono = st_.failing_since_mono ? st_.failing_since_mono : now_.mono;
            st_.notifications = 0;
        }
        enter(UnitState::Failed);
        // gossm: notify when now is strictly past the next allowed time, then back off b^k.
        if (st_.next_allowed != 0 && now_.mono <= st_.next_allowed) return;
        std::string msg = describe_target(spec_) + " not reached: " + e.error;
        if (st_.notifications)
            msg += " (down for " + secs(now_.mono - st_.down_since_mono) + ")";
        ++st_.notifications;
        ++st_.backoff_k;
        st_.next_allowed = now_.mono + notify_delay(settings_.notify_backoff_base, st_.backoff_k);
        announce(Announcement::Down, std::move(msg), 4);
    }

    void reset_backoff() {
        st_.backoff_k = 0;
        st_.next_allowed = 0;
    }
};

} // namespace

base::Usec notify_delay(unsigned b, unsigned k) {
    if (b == 0) return 0;
    base::Usec seconds = 1;
    for (unsigned i = 0; i < k; ++i) {
        seconds *= b;
        if (seconds * base::kUsecPerSec >= kDay) return kDay;
    }
    return seconds * base::kUsecPerSec;
}

std::string describe_target(const CheckSpec &s) {
    return s.name + " (" + s.protocol + " " + s.endpoint() + ")";
}

CheckStatus initial_status(const CheckSpec &spec, std::uint64_t cas_seed) {
    CheckStatus st;
    init_core(st, core_spec(spec), cas_seed);
    return st;
}

std::vector<Action> transition(const CheckSpec &spec, const Settings &settings, CheckStatus &status,
                               const Event &event, Now now) {
    CheckMachine m(spec, settings, status, now);
    std::visit([&](const auto &e) { m.on(e); }, event);
    return m.take();
}

} // namespace watchd::model
