// The service state machine against systemd's reports, one scenario per behaviour patrol's users rely on.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "model/service_machine.h"

namespace watchd::model {
namespace {

using base::kUsecPerMsec;
using base::kUsecPerSec;

SystemdUnit unit(std::string active, std::string invocation = {}, pid_t pid = 0, std::string result = "success",
                 int code = 0, int status = 0) {
    SystemdUnit u;
    u.load_state = "loaded";
    u.active_state = std::move(active);
    u.sub_state = u.active_state == "active" ? "running" : "dead";
    u.invocation_id = std::move(invocation);
    u.main_pid = pid;
    u.result = std::move(result);
    u.exec_main_code = code;
    u.exec_main_status = status;
    return u;
}

// One service and its clock; `run` feeds an event and keeps what came out.
struct Harness {
    ServiceSpec spec;
    Settings settings;
    ServiceStatus st;
    Now now{10 * kUsecPerSec, 1000 * kUsecPerSec};
    std::vector<Action> out;

    Harness() {
        spec.id = "web";
        spec.unit = "web.service";
        st = initial_status(spec, 7);
    }
    std::vector<Action> &run(const Event &e) {
        out = transition(spec, settings, st, e, now);
        return out;
    }
    void later(base::Usec us) {
        now.mono += us;
        now.real += us;
    }
    std::vector<SystemdVerb> calls() const {
        std::vector<SystemdVerb> v;
        for (const auto &a : out)
            if (const auto *c = std::get_if<act::CallSystemd>(&a)) v.push_back(c->verb);
        return v;
    }
    const act::Announce *said(Announcement what) const {
        for (const auto &a : out)
            if (const auto *an = std::get_if<act::Announce>(&a); an && an->what == what) return an;
        return nullptr;
    }
    bool watches() const {
        for (const auto &a : out)
            if (std::holds_alternative<act::WatchUnit>(a)) return true;
        return false;
    }
    const act::ArmTimer *timer() const {
        for (const auto &a : out)
            if (const auto *t = std::get_if<act::ArmTimer>(&a)) return t;
        return nullptr;
    }
    // Configured, systemd reachable, the unit read as `u`.
    void start_with(const SystemdUnit &u) {
        run(ev::Activate{});
        run(ev::SystemdAvailability{true, {}});
        run(ev::SystemdChanged{u});
    }
    // Started by watchd and seen active as `invocation` with `pid`.
    void running(const std::string &invocation, pid_t pid) {
        start_with(unit("inactive"));
        EXPECT_EQ(calls(), std::vector<SystemdVerb>{SystemdVerb::Start});
        run(ev::SystemdJobDone{SystemdVerb::Start, "done", {}});
        run(ev::SystemdChanged{unit("active", invocation, pid)});
        EXPECT_EQ(st.state, UnitState::Running);
    }
};

using V = std::vector<SystemdVerb>;

TEST(ServiceMachine, AnInactiveEnabledServiceIsStartedAndFollowedToRunning) {
    Harness h;
    h.run(ev::Activate{});
    EXPECT_TRUE(h.watches());
    EXPECT_EQ(h.st.state, UnitState::Starting); // not read yet
    EXPECT_TRUE(h.calls().empty());
    h.run(ev::SystemdAvailability{true, {}});
    h.run(ev::SystemdChanged{unit("inactive", "0f", 0)});
    EXPECT_EQ(h.calls(), V{SystemdVerb::Start});
    EXPECT_EQ(h.st.state, UnitState::Starting);
    // JobRemoved may come before the state signals: the stale "inactive" starts nothing more
    h.run(ev::SystemdJobDone{SystemdVerb::Start, "done", {}});
    EXPECT_TRUE(h.calls().empty());
    h.run(ev::SystemdChanged{unit("inactive", "0f", 0)});
    EXPECT_TRUE(h.calls().empty());
    h.run(ev::SystemdChanged{unit("active", "aa11", 42)});
    EXPECT_EQ(h.st.state, UnitState::Running);
    EXPECT_EQ(h.st.instance_id, "aa11");
    EXPECT_EQ(h.st.pid, 42);
    ASSERT_NE(h.said(Announcement::Started), nullptr);
    EXPECT_NE(h.said(Announcement::Started)->message.find("main pid 42"), std::string::npos);
    EXPECT_EQ(h.st.restarts, 0u);
}

TEST(ServiceMachine, AnActiveUnitIsAdoptedWithoutACall) {
    Harness h;
    h.start_with(unit("active", "bb22", 9));
    EXPECT_TRUE(h.calls().empty());
    EXPECT_EQ(h.st.state, UnitState::Running);
    EXPECT_EQ(h.st.instance_id, "bb22");
}

TEST(ServiceMachine, ACrashIsStartedAgainAtOnceThenWithBackoff) {
    Harness h;
    h.running("a1", 10);
    h.later(50 * kUsecPerMsec);
    h.run(ev::SystemdChanged{unit("failed", "a1", 0, "exit-code", 1, 2)});
    EXPECT_EQ(h.calls(), V{SystemdVerb::Start}); // the first restart has no delay
    ASSERT_NE(h.said(Announcement::Exited), nullptr);
    EXPECT_EQ(h.said(Announcement::Exited)->priority, 4);
    EXPECT_NE(h.said(Announcement::Exited)->message.find("exited with status 2"), std::string::npos);
    ASSERT_EQ(h.st.history.size(), 1u);
    EXPECT_EQ(h.st.history.back().instance_id, "a1");
    EXPECT_EQ(h.st.history.back().exit_code, 2);
    EXPECT_EQ(h.st.history.back().result, "exit-code");
    EXPECT_EQ(h.st.restarts, 1u);
    // it comes up and dies again quickly: now the backoff
    h.run(ev::SystemdJobDone{SystemdVerb::Start, "done", {}});
    h.run(ev::SystemdChanged{unit("active", "a2", 11)});
    h.later(50 * kUsecPerMsec);
    h.run(ev::SystemdChanged{unit("failed", "a2", 0, "signal", 2, 9)});
    EXPECT_TRUE(h.calls().empty());
    EXPECT_EQ(h.st.state, UnitState::Backoff);
    ASSERT_NE(h.timer(), nullptr);
    EXPECT_EQ(h.timer()->at, h.now.mono + h.spec.restart.backoff_initial);
    EXPECT_EQ(h.st.history.back().signal, 9);
    h.later(h.spec.restart.backoff_initial);
    h.run(ev::TimerFired{TimerKind::State});
    EXPECT_EQ(h.calls(), V{SystemdVerb::Start});
}

TEST(ServiceMachine, StoppedByHandIsStartedAgainAndIsNoFailure) {
    Harness h;
    h.running("c1", 5);
    h.run(ev::SystemdChanged{unit("deactivating", "c1", 5)});
    EXPECT_EQ(h.st.state, UnitState::Stopping);
    EXPECT_TRUE(h.calls().empty());
    h.run(ev::SystemdChanged{unit("inactive", "c1", 0, "success", 2, 15)});
    EXPECT_EQ(h.calls(), V{SystemdVerb::Start});
    EXPECT_EQ(h.said(Announcement::Exited)->priority, 5);
    EXPECT_EQ(h.st.tracker.attempt, 0u);
}

TEST(ServiceMachine, IgnoredExitCodesAreNoFailure) {
    Harness h;
    h.spec.ignore_exit_codes = {3};
    h.running("d1", 5);
    for (int i = 0; i < 3; ++i) { // again and again: never a backoff
        h.run(ev::SystemdChanged{unit("failed", "d" + std::to_string(i + 1), 0, "exit-code", 1, 3)});
        EXPECT_EQ(h.calls(), V{SystemdVerb::Start}) << i;
        ASSERT_NE(h.said(Announcement::Exited), nullptr);
        EXPECT_EQ(h.said(Announcement::Exited)->priority, 5);
        EXPECT_NE(h.said(Announcement::Exited)->message.find("ignored"), std::string::npos);
        h.run(ev::SystemdJobDone{SystemdVerb::Start, "done", {}});
        h.run(ev::SystemdChanged{unit("active", "d" + std::to_string(i + 2), 6)});
    }
    // a status that is not in the list is a failure
    h.run(ev::SystemdChanged{unit("failed", "d4", 0, "exit-code", 1, 4)});
    EXPECT_EQ(h.said(Announcement::Exited)->priority, 4);
    // the per-action lists: -status applies to an end watchd did not ask for, -stop only after its StopUnit
    Harness s;
    s.spec.ignore_exit_codes_stop = {7};
    s.running("e1", 5);
    s.run(ev::SystemdChanged{unit("failed", "e1", 0, "exit-code", 1, 7)});
    EXPECT_EQ(s.said(Announcement::Exited)->priority, 4);
    Harness t;
    t.spec.ignore_exit_codes_status = {7};
    t.running("f1", 5);
    t.run(ev::SystemdChanged{unit("failed", "f1", 0, "exit-code", 1, 7)});
    EXPECT_EQ(t.said(Announcement::Exited)->priority, 5);
}

TEST(ServiceMachine, ADisabledServiceFoundRunningIsStopped) {
    Harness h;
    h.spec.disabled = true;
    h.st = initial_status(h.spec, 7);
    h.start_with(unit("active", "g1", 8));
    EXPECT_EQ(h.calls(), V{SystemdVerb::Stop});
    EXPECT_EQ(h.st.state, UnitState::Stopping);
    h.run(ev::SystemdJobDone{SystemdVerb::Stop, "done", {}});
    h.run(ev::SystemdChanged{unit("active", "g1", 8)}); // stale: no second StopUnit
    EXPECT_TRUE(h.calls().empty());
    h.run(ev::SystemdChanged{unit("inactive", "g1", 0, "success", 2, 15)});
    EXPECT_EQ(h.st.state, UnitState::Inactive);
    EXPECT_TRUE(h.calls().empty());
    EXPECT_NE(h.said(Announcement::Stopped), nullptr);
    // started by hand later: stopped again
    h.run(ev::SystemdChanged{unit("active", "g2", 9)});
    EXPECT_EQ(h.calls(), V{SystemdVerb::Stop});
    // enabling it starts it
    h.run(ev::SystemdChanged{unit("inactive", "g2", 0)});
    h.run(ev::SystemdJobDone{SystemdVerb::Stop, "done", {}});
    h.later(2 * kUsecPerSec);
    h.run(ev::TimerFired{TimerKind::State});
    h.run(ev::ToggleCmd{Toggle::Enable});
    EXPECT_EQ(h.calls(), V{SystemdVerb::Start});
}

TEST(ServiceMachine, AMissingUnitIsAnErrorSaidOnce) {
    Harness h;
    SystemdUnit missing;
    missing.load_state = "not-found";
    missing.active_state = "inactive";
    missing.load_error = "Unit web.service not found.";
    h.start_with(missing);
    EXPECT_TRUE(h.calls().empty());
    EXPECT_EQ(h.st.state, UnitState::Failed);
    ASSERT_NE(h.said(Announcement::Error), nullptr);
    EXPECT_LE(h.said(Announcement::Error)->priority, 4);
    EXPECT_NE(h.st.last_error.find("not found"), std::string::npos);
    h.run(ev::SystemdChanged{missing});
    EXPECT_EQ(h.said(Announcement::Error), nullptr);
    // the unit file appears (daemon-reload): it is started
    h.run(ev::SystemdChanged{unit("inactive")});
    EXPECT_EQ(h.calls(), V{SystemdVerb::Start});
    EXPECT_TRUE(h.st.last_error.empty());
}

TEST(ServiceMachine, UnavailableWhileTheBusIsGoneThenFollowedAgain) {
    Harness h;
    h.running("h1", 5);
    h.run(ev::SystemdAvailability{false, "lost the system bus connection"});
    EXPECT_EQ(h.st.state, UnitState::Unavailable);
    EXPECT_NE(h.st.last_error.find("lost"), std::string::npos);
    h.run(ev::SystemdAvailability{true, {}});
    h.run(ev::SystemdChanged{unit("active", "h1", 5)});
    EXPECT_EQ(h.st.state, UnitState::Running);
    EXPECT_EQ(h.st.history.size(), 0u); // the same instance
    EXPECT_TRUE(h.calls().empty());
}

TEST(ServiceMachine, ShutdownAndRemovalLeaveTheUnitAlone) {
    for (DeactivateWhy why : {DeactivateWhy::Shutdown, DeactivateWhy::Removed}) {
        Harness h;
        h.running("i1", 5);
        h.run(ev::Deactivate{why});
        EXPECT_TRUE(h.calls().empty());
        EXPECT_EQ(h.st.state, UnitState::Inactive);
        h.run(ev::SystemdChanged{unit("failed", "i1", 0, "exit-code", 1, 1)});
        EXPECT_TRUE(h.calls().empty());
        EXPECT_EQ(h.st.state, UnitState::Inactive);
    }
}

TEST(ServiceMachine, AFailedStartJobStepsTheBackoffAndTheStartLimitEndsIt) {
    Harness h;
    h.spec.restart.start_limit_burst = 3;
    h.start_with(unit("inactive"));
    EXPECT_EQ(h.calls(), V{SystemdVerb::Start});
    h.run(ev::SystemdJobDone{SystemdVerb::Start, "failed", {}});
    ASSERT_NE(h.said(Announcement::Error), nullptr);
    EXPECT_EQ(h.said(Announcement::Error)->priority, 3);
    EXPECT_EQ(h.calls(), V{SystemdVerb::Start}); // first failure: at once
    h.run(ev::SystemdJobDone{SystemdVerb::Start, "error", "org.freedesktop.DBus.Error.AccessDenied: no"});
    EXPECT_EQ(h.st.state, UnitState::Backoff);
    EXPECT_NE(h.st.last_error.find("AccessDenied"), std::string::npos);
    h.later(kUsecPerSec);
    h.run(ev::TimerFired{TimerKind::State});
    EXPECT_EQ(h.calls(), V{SystemdVerb::Start});
    h.run(ev::SystemdJobDone{SystemdVerb::Start, "failed", {}});
    h.later(kUsecPerSec);
    h.run(ev::TimerFired{TimerKind::State});
    EXPECT_EQ(h.st.state, UnitState::Failed);
    EXPECT_NE(h.said(Announcement::Failed), nullptr);
    // an operator's toggle tries again
    h.run(ev::ToggleCmd{Toggle::Enable});
    EXPECT_EQ(h.calls(), V{SystemdVerb::Start});
}

TEST(ServiceMachine, RestartToggleUsesTheConfiguredCall) {
    Harness h;
    h.spec.restart_call = SystemdVerb::ReloadOrRestart;
    h.running("j1", 5);
    h.run(ev::ToggleCmd{Toggle::Restart});
    EXPECT_EQ(h.calls(), V{SystemdVerb::ReloadOrRestart});
    EXPECT_FALSE(h.st.restart);
    // RestartUnit's way: deactivating, inactive (the job still runs: no StartUnit), then a new invocation
    h.run(ev::SystemdChanged{unit("inactive", "j1", 0, "success", 2, 15)});
    EXPECT_TRUE(h.calls().empty());
    EXPECT_NE(h.said(Announcement::Exited)->message.find("restarting"), std::string::npos);
    h.run(ev::SystemdChanged{unit("active", "j2", 6)});
    EXPECT_EQ(h.st.instance_id, "j2");
    h.run(ev::SystemdJobDone{SystemdVerb::ReloadOrRestart, "done", {}});
    EXPECT_TRUE(h.calls().empty());
}

TEST(ServiceMachine, RunOnceEndsDisabled) {
    Harness h;
    h.running("k1", 5);
    h.run(ev::ToggleCmd{Toggle::RunOnceEnable});
    h.run(ev::SystemdChanged{unit("inactive", "k1", 0, "success", 1, 0)});
    EXPECT_TRUE(h.calls().empty());
    EXPECT_TRUE(h.st.disabled);
    EXPECT_EQ(h.st.state, UnitState::Inactive);
}

TEST(ServiceMachine, AnActivationNeverSeenActiveIsStillAnInstance) {
    Harness h;
    h.start_with(unit("inactive", "l0"));
    h.run(ev::SystemdChanged{unit("activating", "l1")});
    h.run(ev::SystemdChanged{unit("failed", "l1", 0, "exit-code", 1, 1)}); // died while it started
    ASSERT_EQ(h.st.history.size(), 1u);
    EXPECT_EQ(h.st.history.back().instance_id, "l1");
    EXPECT_EQ(h.st.history.back().exit_code, 1);
}

TEST(ServiceMachine, ANewInvocationIdBeforeTheStateMovesIsNoInstanceYet) {
    // systemd gives the unit its next InvocationID when the start job begins, while the state still says
    // failed/inactive: that is not an activation that ended.
    Harness h;
    h.running("m1", 5);
    h.run(ev::SystemdChanged{unit("failed", "m1", 0, "signal", 2, 9)});
    EXPECT_EQ(h.calls(), V{SystemdVerb::Start});
    h.run(ev::SystemdChanged{unit("failed", "m2", 0, "signal", 2, 9)});
    EXPECT_EQ(h.said(Announcement::Exited), nullptr);
    h.run(ev::SystemdChanged{unit("activating", "m2", 0)});
    h.run(ev::SystemdJobDone{SystemdVerb::Start, "done", {}});
    h.run(ev::SystemdChanged{unit("active", "m2", 6)});
    ASSERT_NE(h.said(Announcement::Started), nullptr);
    EXPECT_EQ(h.st.history.size(), 1u); // m1 only
    EXPECT_EQ(h.st.instance_id, "m2");
    // not ours either: someone's systemctl start of a stopped (disabled-then-enabled) unit
    Harness o;
    o.start_with(unit("inactive", "n1"));
    o.run(ev::SystemdJobDone{SystemdVerb::Start, "done", {}});
    o.run(ev::SystemdChanged{unit("inactive", "n2")});
    EXPECT_TRUE(o.calls().empty());
    EXPECT_EQ(o.said(Announcement::Exited), nullptr);
    EXPECT_TRUE(o.st.history.empty());
}

TEST(ServiceMachine, StartParameterAndStillInactiveAfterTheJob) {
    Harness h;
    h.spec.start_call = SystemdVerb::Restart;
    h.start_with(unit("inactive"));
    EXPECT_EQ(h.calls(), V{SystemdVerb::Restart});
    h.run(ev::SystemdJobDone{SystemdVerb::Restart, "done", {}});
    ASSERT_NE(h.timer(), nullptr);
    h.later(2 * kUsecPerSec);
    h.run(ev::TimerFired{TimerKind::State}); // nothing changed (a failed condition, say)
    ASSERT_NE(h.said(Announcement::Error), nullptr);
    EXPECT_NE(h.said(Announcement::Error)->message.find("still inactive"), std::string::npos);
    EXPECT_EQ(h.calls(), V{SystemdVerb::Restart});
}

TEST(ServiceMachine, MethodNames) {
    EXPECT_EQ(method_name(SystemdVerb::Start), "StartUnit");
    EXPECT_EQ(method_name(SystemdVerb::Stop), "StopUnit");
    EXPECT_EQ(method_name(SystemdVerb::Restart), "RestartUnit");
    EXPECT_EQ(method_name(SystemdVerb::TryRestart), "TryRestartUnit");
    EXPECT_EQ(method_name(SystemdVerb::ReloadOrRestart), "ReloadOrRestartUnit");
}

} // namespace
} // namespace watchd::model
