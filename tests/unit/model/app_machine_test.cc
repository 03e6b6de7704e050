// Table-driven tests of the app state machine, model::transition(): (state, event) → (state, actions), on a fake clock.
#include <gtest/gtest.h>

#include <csignal>
#include <string>
#include <vector>

#include "model/app_machine.h"

namespace watchd::model {
namespace {

using base::kUsecPerMsec;
using base::kUsecPerSec;

// Renders an action compactly; deadlines relative to the step's clock ("arm:state+100ms").
std::string render(const Action &a, base::Usec now) {
    return std::visit(
        [&](const auto &x) -> std::string {
            using T = std::decay_t<decltype(x)>;
            if constexpr (std::is_same_v<T, act::Spawn>) return "spawn";
            if constexpr (std::is_same_v<T, act::Kill>) return std::string("kill:") + sigabbrev_np(x.signal);
            if constexpr (std::is_same_v<T, act::KillSession>)
                return "kill-session:" + std::to_string(x.session) + ":" + sigabbrev_np(x.signal);
            if constexpr (std::is_same_v<T, act::ReadPidFile>) return "read-pid-file";
            if constexpr (std::is_same_v<T, act::WatchPid>) return "watch:" + std::to_string(x.pid);
            if constexpr (std::is_same_v<T, act::ArmTimer>)
                return std::string(x.kind == TimerKind::State ? "arm:state+" : "arm:exec+") +
                       base::format_duration(x.at - now);
            if constexpr (std::is_same_v<T, act::CancelTimer>)
                return x.kind == TimerKind::State ? "cancel:state" : "cancel:exec";
            if constexpr (std::is_same_v<T, act::Announce>) return "announce:" + std::string(to_string(x.what));
            return "?";
        },
        a);
}

struct Step {
    base::Usec advance;              // fake clock moves this much before the event
    Event event;
    UnitState state;                 // expected state after
    std::vector<std::string> actions; // expected actions, in order
};

class Machine : public ::testing::Test {
protected:
    AppSpec spec;
    Settings settings;
    AppStatus st;
    base::Usec mono = 1000 * kUsecPerSec;

    void SetUp() override {
        spec.id = "web";
        spec.name = "Web";
        spec.working_directory = "/srv";
        spec.binary = "web";
        spec.restart.backoff_initial = 100 * kUsecPerMsec;
        spec.restart.backoff_max = 400 * kUsecPerMsec;
        spec.restart.backoff_reset = 10 * kUsecPerSec;
        spec.restart.start_limit_burst = 0;
        settings.history = 5;
        settings.ping_timeout = 30 * kUsecPerSec;
    }
    void begin() { st = initial_status(spec); }
    // pidfile mode from the start: nothing to adopt, so the launcher (pid 50) is spawned.
    void begin_pidfile_launched() {
        spec.keepalive = KeepAlive::PidFile;
        spec.pid_path = "web.pid";
        begin();
        run({
            {0, ev::Activate{}, UnitState::Starting, {"read-pid-file"}},
            {0, ev::PidFileRead{0, {}, "no such file"}, UnitState::Starting, {"spawn"}},
            {0, ev::Spawned{50, "i-1"}, UnitState::Starting, {"arm:state+100ms", "announce:started"}},
        });
    }
    // patrol mode, started: pid 100 runs.
    void begin_running();

    void run(const std::vector<Step> &steps) {
        int i = 0;
        for (const auto &s : steps) {
            mono += s.advance;
            auto acts = transition(spec, settings, st, s.event, Now{mono, mono + 1700000000ULL * kUsecPerSec});
            std::vector<std::string> got;
            for (const auto &a : acts) got.push_back(render(a, mono));
            EXPECT_EQ(to_string(st.state), to_string(s.state)) << "step " << i;
            EXPECT_EQ(got, s.actions) << "step " << i;
            ++i;
        }
    }
};

const ev::Spawned spawned{100, "i-1"};

void Machine::begin_running() {
    begin();
    run({
        {0, ev::Activate{}, UnitState::Starting, {"spawn"}},
        {0, spawned, UnitState::Running, {"announce:started"}},
    });
}

TEST_F(Machine, PatrolCrashRestartsAtOnceThenBacksOff) {
    begin();
    run({
        {0, ev::Activate{}, UnitState::Starting, {"spawn"}},
        {0, spawned, UnitState::Running, {"announce:started"}},
        // first quick failure: restart at once
        {kUsecPerSec, ev::ProcessExited{100, 1, 0}, UnitState::Starting, {"announce:exited", "spawn"}},
        {0, ev::Spawned{101, "i-2"}, UnitState::Running, {"announce:started"}},
        // second quick failure: backoff-initial
        {kUsecPerSec, ev::ProcessExited{101, 0, SIGSEGV}, UnitState::Backoff,
         {"announce:exited", "arm:state+100ms", "announce:restarting"}},
        {100 * kUsecPerMsec, ev::TimerFired{TimerKind::State}, UnitState::Starting, {"spawn"}},
        {0, ev::Spawned{102, "i-3"}, UnitState::Running, {"announce:started"}},
        {0, ev::ProcessExited{102, 2, 0}, UnitState::Backoff,
         {"announce:exited", "arm:state+200ms", "announce:restarting"}},
        {200 * kUsecPerMsec, ev::TimerFired{TimerKind::State}, UnitState::Starting, {"spawn"}},
        {0, ev::Spawned{103, "i-4"}, UnitState::Running, {"announce:started"}},
        {0, ev::ProcessExited{103, 2, 0}, UnitState::Backoff,
         {"announce:exited", "arm:state+400ms", "announce:restarting"}},
        {400 * kUsecPerMsec, ev::TimerFired{TimerKind::State}, UnitState::Starting, {"spawn"}},
        {0, ev::Spawned{104, "i-5"}, UnitState::Running, {"announce:started"}},
        // capped at backoff-max
        {0, ev::ProcessExited{104, 2, 0}, UnitState::Backoff,
         {"announce:exited", "arm:state+400ms", "announce:restarting"}},
    });
    EXPECT_EQ(st.restarts, 5u);
    ASSERT_EQ(st.history.size(), 5u);
    EXPECT_EQ(st.history[0].exit_code, 1);
    EXPECT_EQ(st.history[0].pid, 100);
    EXPECT_EQ(st.history[0].instance_id, "i-1");
    EXPECT_EQ(st.history[1].exit_code, -1);
    EXPECT_EQ(st.history[1].signal, SIGSEGV);
}

TEST_F(Machine, LongRunForgetsEarlierFailures) {
    begin();
    run({
        {0, ev::Activate{}, UnitState::Starting, {"spawn"}},
        {0, spawned, UnitState::Running, {"announce:started"}},
        {0, ev::ProcessExited{100, 1, 0}, UnitState::Starting, {"announce:exited", "spawn"}},
        {0, ev::Spawned{101, "i-2"}, UnitState::Running, {"announce:started"}},
        {11 * kUsecPerSec, ev::ProcessExited{101, 1, 0}, UnitState::Starting, {"announce:exited", "spawn"}},
    });
}

TEST_F(Machine, ZeroBackoffAlwaysRestartsAtOnce) {
    spec.restart.backoff_initial = 0;
    begin();
    run({{0, ev::Activate{}, UnitState::Starting, {"spawn"}}});
    for (pid_t p = 100; p < 110; ++p)
        run({{0, ev::Spawned{p, "i"}, UnitState::Running, {"announce:started"}},
             {0, ev::ProcessExited{p, 1, 0}, UnitState::Starting, {"announce:exited", "spawn"}}});
}

TEST_F(Machine, StartLimitFails) {
    spec.restart.backoff_initial = 0;
    spec.restart.start_limit_burst = 3;
    spec.restart.start_limit_interval = 10 * kUsecPerSec;
    begin();
    run({
        {0, ev::Activate{}, UnitState::Starting, {"spawn"}},
        {0, ev::Spawned{100, "a"}, UnitState::Running, {"announce:started"}},
        {0, ev::ProcessExited{100, 1, 0}, UnitState::Starting, {"announce:exited", "spawn"}},
        {0, ev::Spawned{101, "b"}, UnitState::Running, {"announce:started"}},
        {0, ev::ProcessExited{101, 1, 0}, UnitState::Starting, {"announce:exited", "spawn"}},
        {0, ev::Spawned{102, "c"}, UnitState::Running, {"announce:started"}},
        {0, ev::ProcessExited{102, 1, 0}, UnitState::Failed, {"announce:exited", "announce:failed"}},
        // stays failed: timers and stray exits do nothing
        {60 * kUsecPerSec, ev::TimerFired{TimerKind::State}, UnitState::Failed, {}},
        // an operator's enable starts it again with a fresh limit
        {0, ev::ToggleCmd{Toggle::Enable}, UnitState::Starting, {"spawn"}},
    });
}

TEST_F(Machine, StartLimitWindowSlides) {
    spec.restart.backoff_initial = 0;
    spec.restart.start_limit_burst = 2;
    spec.restart.start_limit_interval = 10 * kUsecPerSec;
    spec.restart.backoff_reset = 100 * kUsecPerSec;
    begin();
    run({
        {0, ev::Activate{}, UnitState::Starting, {"spawn"}},
        {0, ev::Spawned{100, "a"}, UnitState::Running, {"announce:started"}},
        {6 * kUsecPerSec, ev::ProcessExited{100, 1, 0}, UnitState::Starting, {"announce:exited", "spawn"}},
        {0, ev::Spawned{101, "b"}, UnitState::Running, {"announce:started"}},
        // the first start is now older than the interval: allowed again
        {6 * kUsecPerSec, ev::ProcessExited{101, 1, 0}, UnitState::Starting, {"announce:exited", "spawn"}},
    });
}

TEST_F(Machine, DisableStopsWithSignalThenKill) {
    spec.stop_timeout = 2 * kUsecPerSec;
    begin();
    run({
        {0, ev::Activate{}, UnitState::Starting, {"spawn"}},
        {0, spawned, UnitState::Running, {"announce:started"}},
        {0, ev::ToggleCmd{Toggle::Disable}, UnitState::Stopping,
         {"announce:stopping", "kill:TERM", "arm:state+2s"}},
        {2 * kUsecPerSec, ev::TimerFired{TimerKind::State}, UnitState::Stopping, {"announce:timeout", "kill:KILL"}},
        {0, ev::ProcessExited{100, 0, SIGKILL}, UnitState::Inactive, {"announce:stopped"}},
        // disabled: stays down
        {0, ev::TimerFired{TimerKind::State}, UnitState::Inactive, {}},
        {0, ev::ToggleCmd{Toggle::Enable}, UnitState::Starting, {"spawn"}},
    });
    EXPECT_TRUE(st.history.back().disabled);
    EXPECT_EQ(st.history.back().signal, SIGKILL);
}

TEST_F(Machine, StopSignalIsConfigurable) {
    spec.stop_signal = SIGINT;
    begin();
    run({
        {0, ev::Activate{}, UnitState::Starting, {"spawn"}},
        {0, spawned, UnitState::Running, {"announce:started"}},
        {0, ev::Deactivate{DeactivateWhy::Shutdown}, UnitState::Stopping, {"announce:stopping", "kill:INT", "arm:state+10s"}},
        {0, ev::ProcessExited{100, 0, SIGINT}, UnitState::Inactive, {"announce:stopped", "cancel:state"}},
    });
    EXPECT_TRUE(st.history.back().shutdown);
}

TEST_F(Machine, RestartToggleStopsThenStartsAtOnce) {
    begin();
    run({
        {0, ev::Activate{}, UnitState::Starting, {"spawn"}},
        {0, spawned, UnitState::Running, {"announce:started"}},
        {0, ev::ToggleCmd{Toggle::Restart}, UnitState::Stopping, {"announce:stopping", "kill:TERM", "arm:state+10s"}},
        {0, ev::ProcessExited{100, 0, SIGTERM}, UnitState::Starting, {"announce:stopped", "cancel:state", "spawn"}},
    });
    // patrol consumes the restart when it signals the stop: the stopped instance's history does not carry it
    EXPECT_FALSE(st.history.back().restart);
    EXPECT_FALSE(st.restart);
    EXPECT_EQ(st.restarts, 0u); // an operator's restart is not a crash
}

TEST_F(Machine, RunOnceWhileRunningMeansNoRestart) {
    begin();
    run({
        {0, ev::Activate{}, UnitState::Starting, {"spawn"}},
        {0, spawned, UnitState::Running, {"announce:started"}},
        {0, ev::ToggleCmd{Toggle::RunOnceEnable}, UnitState::Running, {}},
        {0, ev::ProcessExited{100, 0, 0}, UnitState::Inactive, {"announce:exited", "announce:stopped"}},
        // as patrol's close(): the end of the one run disables the app, so run-once off alone leaves it down
        {0, ev::ToggleCmd{Toggle::RunOnceDisable}, UnitState::Inactive, {}},
        {0, ev::ToggleCmd{Toggle::Enable}, UnitState::Starting, {"spawn"}},
    });
}

TEST_F(Machine, EnableRunOnceStartsExactlyOnce) {
    spec.disabled = true;
    begin();
    run({
        {0, ev::Activate{}, UnitState::Inactive, {}},
        {0, ev::ToggleCmd{Toggle::EnableRunOnceEnable}, UnitState::Starting, {"spawn"}},
        {0, spawned, UnitState::Running, {"announce:started"}},
        {0, ev::ProcessExited{100, 0, 0}, UnitState::Inactive, {"announce:exited", "announce:stopped"}},
    });
    // patrol's close(): the run is over, the app disabled, run-once cleared (the history keeps that it was one)
    EXPECT_TRUE(st.disabled);
    EXPECT_FALSE(st.run_once || st.run_once_consumed || st.restart);
    EXPECT_TRUE(st.history.back().run_once);
    // and "enable + run-once" runs it once more
    run({
        {0, ev::ToggleCmd{Toggle::EnableRunOnceEnable}, UnitState::Starting, {"spawn"}},
        {0, ev::Spawned{101, "i-2"}, UnitState::Running, {"announce:started"}},
        {0, ev::ProcessExited{101, 0, 0}, UnitState::Inactive, {"announce:exited", "announce:stopped"}},
    });
    EXPECT_EQ(st.history.size(), 2u);
    EXPECT_TRUE(st.disabled);
}

TEST_F(Machine, ExecuteTimeoutStopsAndRestarts) {
    spec.execute_timeout = 5 * kUsecPerSec;
    begin();
    run({
        {0, ev::Activate{}, UnitState::Starting, {"spawn"}},
        {0, spawned, UnitState::Running, {"arm:exec+5s", "announce:started"}},
        {5 * kUsecPerSec, ev::TimerFired{TimerKind::ExecuteTimeout}, UnitState::Stopping,
         {"announce:timeout", "announce:stopping", "kill:TERM", "arm:state+10s"}},
        {0, ev::ProcessExited{100, 0, SIGTERM}, UnitState::Starting, {"announce:stopped", "cancel:state", "spawn"}},
    });
}

TEST_F(Machine, PidFileLauncherThenDaemon) {
    begin_pidfile_launched();
    run({
        // the launcher forked and exited 0: read the pid file now
        {0, ev::ProcessExited{50, 0, 0}, UnitState::Starting, {"read-pid-file"}},
        {0, ev::PidFileRead{77, {}, {}}, UnitState::Running, {"watch:77", "cancel:state", "announce:started"}},
        // the daemon (not our child) dies: one look at the pid file, then restart at once
        {kUsecPerSec, ev::ProcessExited{77, 0, 0, false}, UnitState::Running, {"read-pid-file"}},
        {0, ev::PidFileRead{0, {}, "PID 77 is not running"}, UnitState::Starting, {"announce:exited", "spawn"}},
    });
    EXPECT_EQ(st.history.back().pid, 77);
    EXPECT_EQ(st.history.back().exit_code, -1);
}

TEST_F(Machine, PidFileFollowsARewrittenPid) {
    spec.keepalive = KeepAlive::PidFile;
    spec.pid_path = "web.pid";
    begin();
    run({
        {0, ev::Activate{}, UnitState::Starting, {"read-pid-file"}},
        {0, ev::PidFileRead{77, "i-1", {}}, UnitState::Running, {"watch:77", "announce:started"}},
        // the old master exits after its successor rewrote the pid file: follow it, same instance, no restart
        {kUsecPerSec, ev::ProcessExited{77, 0, 0, false}, UnitState::Running, {"read-pid-file"}},
        {0, ev::PidFileRead{78, {}, {}}, UnitState::Running, {"watch:78", "announce:started"}},
        // a pid file still naming the dead PID is no successor
        {kUsecPerSec, ev::ProcessExited{78, 0, 0, false}, UnitState::Running, {"read-pid-file"}},
        {0, ev::PidFileRead{78, {}, {}}, UnitState::Starting, {"announce:exited", "spawn"}},
    });
    EXPECT_EQ(st.restarts, 1u);
    ASSERT_EQ(st.history.size(), 1u);
    EXPECT_EQ(st.history[0].instance_id, "i-1");
    EXPECT_EQ(st.history[0].pid, 78);
}

TEST_F(Machine, PidFileAdoptionWithoutSpawn) {
    spec.keepalive = KeepAlive::PidFile;
    spec.pid_path = "web.pid";
    begin();
    run({
        {0, ev::Activate{}, UnitState::Starting, {"read-pid-file"}},
        {0, ev::PidFileRead{77, "adopted", {}}, UnitState::Running, {"watch:77", "announce:started"}},
    });
    EXPECT_EQ(st.instance_id, "adopted");
}

TEST_F(Machine, PidFileNeverWrittenFailsTheStart) {
    begin_pidfile_launched();
    run({
        {0, ev::ProcessExited{50, 0, 0}, UnitState::Starting, {"read-pid-file"}},
        {0, ev::PidFileRead{0, {}, "garbage"}, UnitState::Starting, {}},
        {100 * kUsecPerMsec, ev::TimerFired{TimerKind::State}, UnitState::Starting,
         {"arm:state+100ms", "read-pid-file"}},
        {spec.pid_wait, ev::TimerFired{TimerKind::State}, UnitState::Starting,
         {"announce:timeout", "kill-session:50:KILL", "spawn"}},
    });
    EXPECT_EQ(st.last_error, "garbage");
}

TEST_F(Machine, PidFileLauncherFailureIsACrash) {
    begin_pidfile_launched();
    run({
        {0, ev::ProcessExited{50, 3, 0}, UnitState::Starting, {"announce:exited", "cancel:state", "spawn"}},
    });
    EXPECT_EQ(st.history.back().exit_code, 3);
}

TEST_F(Machine, HttpPingsKeepAliveAndMissedDeadlineRestarts) {
    spec.keepalive = KeepAlive::Http;
    begin();
    run({
        {0, ev::Activate{}, UnitState::Starting, {"arm:state+30s", "spawn"}},
        {0, ev::Spawned{50, "i-1"}, UnitState::Starting, {"announce:started"}},
        {0, ev::ProcessExited{50, 0, 0}, UnitState::Starting, {}}, // daemonized
        {kUsecPerSec, ev::HeartbeatSeen{88, "x"}, UnitState::Running,
         {"watch:88", "cancel:state", "announce:started", "arm:state+30s"}},
        {20 * kUsecPerSec, ev::HeartbeatSeen{88, "x"}, UnitState::Running, {"arm:state+30s"}},
        {30 * kUsecPerSec, ev::TimerFired{TimerKind::State}, UnitState::Stopping,
         {"announce:timeout", "announce:stopping", "kill:TERM", "arm:state+10s"}},
        // the stop is logged as such before the restart (not "stopping" then straight "started")
        {0, ev::ProcessExited{88, 0, 0, false}, UnitState::Starting,
         {"announce:stopped", "cancel:state", "arm:state+30s", "spawn"}},
    });
}

TEST_F(Machine, UdpNoFirstPingRestarts) {
    spec.keepalive = KeepAlive::Udp;
    begin();
    run({
        {0, ev::Activate{}, UnitState::Starting, {"arm:state+30s", "spawn"}},
        {0, ev::Spawned{50, "i-1"}, UnitState::Starting, {"announce:started"}},
        {0, ev::ProcessExited{50, 0, 0}, UnitState::Starting, {}},
        {30 * kUsecPerSec, ev::TimerFired{TimerKind::State}, UnitState::Starting,
         {"announce:timeout", "arm:state+30s", "spawn"}},
    });
}

TEST_F(Machine, PingsIgnoredForPatrolMode) {
    begin();
    run({
        {0, ev::Activate{}, UnitState::Starting, {"spawn"}},
        {0, ev::HeartbeatSeen{5, "x"}, UnitState::Starting, {}},
    });
}

TEST_F(Machine, HistoryIsBoundedAndKeyValueCleared) {
    spec.restart.backoff_initial = 0;
    spec.keyvalue_clear = true;
    spec.keyvalue = {{"a", "1"}};
    begin();
    EXPECT_EQ(st.keyvalue.size(), 1u);
    run({{0, ev::Activate{}, UnitState::Starting, {"spawn"}}});
    for (pid_t p = 100; p < 108; ++p) {
        mono += kUsecPerSec;
        transition(spec, settings, st, ev::Spawned{p, "i" + std::to_string(p)}, Now{mono, mono});
        st.keyvalue["n"] = std::to_string(p);
        transition(spec, settings, st, ev::ProcessExited{p, 0, 0}, Now{mono, mono});
    }
    ASSERT_EQ(st.history.size(), settings.history);
    EXPECT_EQ(st.history.front().instance_id, "i103");
    EXPECT_EQ(st.history.back().keyvalue.at("n"), "107");
    EXPECT_EQ(st.history.back().keyvalue.count("a"), 0u); // cleared at the start of each new instance
}

TEST_F(Machine, CasChangesOnEveryChange) {
    begin();
    auto c0 = st.cas;
    run({{0, ev::Activate{}, UnitState::Starting, {"spawn"}}});
    EXPECT_GT(st.cas, c0);
    auto c1 = st.cas;
    run({{0, ev::ToggleCmd{Toggle::RunOnceEnable}, UnitState::Starting, {}}});
    EXPECT_GT(st.cas, c1);
}

// Desired state: what a reload, a removal and the toggles ask for, and what pings may not do.
TEST_F(Machine, ReloadRetriesAFailedApp) {
    spec.restart.backoff_initial = 0;
    spec.restart.start_limit_burst = 1;
    begin_running();
    run({
        {0, ev::ProcessExited{100, 1, 0}, UnitState::Failed, {"announce:exited", "announce:failed"}},
        // the same config again (the operator fixed the cause): retried with a fresh start limit
        {0, ev::Activate{}, UnitState::Starting, {"spawn"}},
    });
    EXPECT_EQ(st.desired, DesiredState::Up);
}

TEST_F(Machine, ReloadLeavesADisabledAppDown) {
    begin_running();
    run({
        {0, ev::ToggleCmd{Toggle::Disable}, UnitState::Stopping, {"announce:stopping", "kill:TERM", "arm:state+10s"}},
        {0, ev::ProcessExited{100, 0, SIGTERM}, UnitState::Inactive, {"announce:stopped", "cancel:state"}},
        {0, ev::Activate{}, UnitState::Inactive, {}}, // an unchanged config keeps the operator's toggle
        // a changed config brings the configured toggles back
        {0, ev::Reconfigured{}, UnitState::Starting, {"spawn"}},
    });
    EXPECT_FALSE(st.disabled);
}

TEST_F(Machine, RemovedThenReAddedWhileStoppingStartsAgain) {
    begin_running();
    run({
        {0, ev::Deactivate{DeactivateWhy::Removed}, UnitState::Stopping,
         {"announce:removed", "announce:stopping", "kill:TERM", "arm:state+10s"}},
        {0, ev::Activate{}, UnitState::Stopping, {}},
        {0, ev::ProcessExited{100, 0, SIGTERM}, UnitState::Starting, {"announce:stopped", "cancel:state", "spawn"}},
    });
    EXPECT_FALSE(st.history.back().shutdown);
    EXPECT_EQ(st.restarts, 0u); // not a crash
}

TEST_F(Machine, ReconfigureStopsForGoodUntilTheNewSpecComes) {
    begin_running();
    run({
        {0, ev::Deactivate{DeactivateWhy::Reconfigure}, UnitState::Stopping,
         {"announce:reconfigured", "announce:stopping", "kill:TERM", "arm:state+10s"}},
        {0, ev::ProcessExited{100, 0, SIGTERM}, UnitState::Inactive, {"announce:stopped", "cancel:state"}},
        {0, ev::Reconfigured{}, UnitState::Starting, {"spawn"}},
    });
}

TEST_F(Machine, PingDoesNotReviveAFailedApp) {
    spec.keepalive = KeepAlive::Http;
    spec.restart.start_limit_burst = 1;
    begin();
    run({
        {0, ev::Activate{}, UnitState::Starting, {"arm:state+30s", "spawn"}},
        {0, ev::Spawned{50, "i-1"}, UnitState::Starting, {"announce:started"}},
        {0, ev::ProcessExited{50, 2, 0}, UnitState::Failed,
         {"announce:exited", "cancel:state", "announce:failed"}},
        {kUsecPerSec, ev::HeartbeatSeen{88, "x"}, UnitState::Failed, {}},
    });
    EXPECT_EQ(st.pid, 0);
    EXPECT_EQ(st.last_seen_mono, mono); // seen, but not revived
    run({{0, ev::ToggleCmd{Toggle::Enable}, UnitState::Starting, {"arm:state+30s", "spawn"}}});
}

TEST_F(Machine, RunOnceInstanceFinishesThenTheDesiredStateIsDown) {
    begin();
    run({
        {0, ev::ToggleCmd{Toggle::EnableRunOnceEnable}, UnitState::Starting, {"spawn"}},
        {0, spawned, UnitState::Running, {"announce:started"}},
    });
    EXPECT_EQ(st.desired, DesiredState::Up); // its one run is under way
    run({{0, ev::ProcessExited{100, 1, 0}, UnitState::Inactive, {"announce:exited", "announce:stopped"}}});
    EXPECT_EQ(st.desired, DesiredState::Down);
    EXPECT_TRUE(st.disabled); // as patrol: the one run is over
    run({{0, ev::Activate{}, UnitState::Inactive, {}}}); // a reload does not run it again
}

TEST_F(Machine, PingFromAnotherPidIsAnotherInstance) {
    spec.keepalive = KeepAlive::Http;
    begin();
    run({
        {0, ev::Activate{}, UnitState::Starting, {"arm:state+30s", "spawn"}},
        {0, ev::Spawned{50, "i-1"}, UnitState::Starting, {"announce:started"}},
        {kUsecPerSec, ev::HeartbeatSeen{88, "x"}, UnitState::Running,
         {"watch:88", "cancel:state", "announce:started", "arm:state+30s"}},
    });
    const std::string first = st.instance_id;
    const base::Usec first_started = st.started;
    // patrol: a ping naming another PID closes the instance (history, no exit code) and opens a new one, not yet
    // seen; the new process is watched instead
    run({{kUsecPerSec, ev::HeartbeatSeen{99, "y"}, UnitState::Running,
          {"watch:99", "announce:started", "arm:state+30s"}}});
    ASSERT_EQ(st.history.size(), 1u);
    EXPECT_EQ(st.history.back().instance_id, first);
    EXPECT_EQ(st.history.back().pid, 88);
    EXPECT_EQ(st.history.back().exit_code, -1);
    EXPECT_EQ(st.instance_id, "y");
    EXPECT_EQ(st.pid, 99);
    EXPECT_GT(st.started, first_started);
    EXPECT_EQ(st.last_seen, st.started); // not seen yet: no "lastseen" in patrol's answers
    // the same PID again is an ordinary ping
    run({{kUsecPerSec, ev::HeartbeatSeen{99, "z"}, UnitState::Running, {"arm:state+30s"}}});
    EXPECT_EQ(st.instance_id, "y");
    EXPECT_GT(st.last_seen, st.started);
    EXPECT_EQ(st.history.size(), 1u);
}

TEST(RestartPolicy, DelaySequence) {
    RestartPolicy p;
    p.backoff_initial = 100 * kUsecPerMsec;
    p.backoff_max = 1 * kUsecPerSec;
    p.backoff_reset = 10 * kUsecPerSec;
    RestartTracker t;
    std::vector<base::Usec> got;
    for (int i = 0; i < 7; ++i) got.push_back(restart_delay(p, t, 0));
    EXPECT_EQ(got, (std::vector<base::Usec>{0, 100000, 200000, 400000, 800000, 1000000, 1000000}));
    EXPECT_EQ(restart_delay(p, t, 10 * kUsecPerSec), 0u);
}

TEST(UnitState, Names) {
    EXPECT_EQ(to_string(UnitState::Backoff), "auto-restart");
    EXPECT_EQ(to_active_state(UnitState::Running), "active");
    EXPECT_EQ(to_active_state(UnitState::Failed), "failed");
    EXPECT_EQ(to_active_state(UnitState::Stopping), "deactivating");
}

} // namespace
} // namespace watchd::model
