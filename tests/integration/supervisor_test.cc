// The supervisor against real processes on the real event loop: restarts, pid files, pings, stop, reload.
#include <gtest/gtest.h>

#include <csignal>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <functional>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "event/loop.h"
#include "supervisor/supervisor.h"
#include "sys/log.h"

namespace watchd::supervisor {
namespace {

namespace fs = std::filesystem;
using base::kUsecPerMsec;
using base::kUsecPerSec;
using model::UnitState;

std::string slurp(const fs::path &p) {
    std::ifstream f(p);
    return std::string(std::istreambuf_iterator<char>(f), {});
}

// Running (not a zombie waiting for a reaper).
bool alive(pid_t pid) {
    if (pid <= 0 || ::kill(pid, 0) != 0) return false;
    std::string st = slurp("/proc/" + std::to_string(pid) + "/stat");
    auto close = st.rfind(')');
    return close != std::string::npos && close + 2 < st.size() && st[close + 2] != 'Z';
}

// Live (non-zombie) members of a process group.
int live_group_members(pid_t pgid) {
    int n = 0;
    for (auto &e : fs::directory_iterator("/proc")) {
        const std::string name = e.path().filename();
        if (name.find_first_not_of("0123456789") != std::string::npos) continue;
        if (getpgid(std::stoi(name)) == pgid && alive(std::stoi(name))) ++n;
    }
    return n;
}

std::vector<std::string> cmdline(pid_t pid) {
    std::string raw = slurp("/proc/" + std::to_string(pid) + "/cmdline");
    std::vector<std::string> out;
    for (size_t i = 0; i < raw.size();) {
        size_t z = raw.find('\0', i);
        if (z == std::string::npos) z = raw.size();
        out.push_back(raw.substr(i, z - i));
        i = z + 1;
    }
    return out;
}

class SupervisorTest : public ::testing::Test {
protected:
    std::unique_ptr<event::Loop> loop;
    std::unique_ptr<Supervisor> sup;
    fs::path dir;

    void SetUp() override {
        sys::log::init(sys::log::Target::Stderr, 7, "");
        auto l = event::Loop::create();
        ASSERT_TRUE(l);
        loop = std::move(*l);
        sup = std::make_unique<Supervisor>(*loop);
        char tmpl[] = "/tmp/watchd-sup-XXXXXX";
        ASSERT_NE(mkdtemp(tmpl), nullptr);
        dir = tmpl;
    }

    void TearDown() override {
        if (sup) {
            bool done = false;
            sup->shutdown([&] { done = true; });
            run_until([&] { return done; }, 15 * kUsecPerSec);
            EXPECT_TRUE(done) << "shutdown did not finish";
        }
        sup.reset();
        fs::remove_all(dir);
    }

    // Runs the loop until pred() holds or the timeout passes; returns pred().
    bool run_until(const std::function<bool()> &pred, base::Usec timeout) {
        const base::Usec end = base::now_monotonic() + timeout;
        while (!pred()) {
            if (base::now_monotonic() >= end) return false;
            loop->run_once(20 * kUsecPerMsec);
        }
        return true;
    }

    model::AppSpec shell_app(const std::string &id, const std::string &script) {
        model::AppSpec a;
        a.id = id;
        a.name = id;
        a.working_directory = dir.string();
        a.binary = "/bin/sh";
        a.args = {"-c", script};
        a.stop_timeout = 2 * kUsecPerSec;
        a.restart.backoff_initial = 0;
        a.restart.start_limit_burst = 0;
        return a;
    }

    model::Config config(std::vector<model::AppSpec> apps) {
        model::Config c;
        c.apps = std::move(apps);
        std::sort(c.apps.begin(), c.apps.end(), [](auto &a, auto &b) { return a.id < b.id; });
        c.listen_http = {"127.0.0.1:8421"};
        c.listen_udp = {"127.0.0.1:8421"};
        return c;
    }

    UnitView status(const std::string &id) {
        auto v = sup->unit({UnitKind::App, id});
        EXPECT_TRUE(v) << "no app " << id;
        return v ? *v : UnitView{};
    }
    bool exists(const std::string &id) { return sup->unit({UnitKind::App, id}).has_value(); }
    bool toggle(const std::string &id, model::Toggle t) {
        Command c;
        c.toggle = t;
        return sup->submit({UnitKind::App, id}, c).ok();
    }
    CommandResult ping(const std::string &id, pid_t pid) {
        Command c;
        c.ping = true;
        c.pid = pid;
        return sup->submit({UnitKind::App, id}, c);
    }
};

TEST_F(SupervisorTest, KilledAppIsRestartedWithHistory) {
    sup->apply(config({shell_app("web", "exec sleep 100")}));
    ASSERT_TRUE(run_until([&] { return status("web").state == UnitState::Running; }, 5 * kUsecPerSec));
    const pid_t first = status("web").pid;
    const std::string inst = status("web").instance_id;
    ASSERT_TRUE(alive(first));
    ::kill(first, SIGKILL);
    ASSERT_TRUE(run_until([&] { return status("web").state == UnitState::Running && status("web").pid != first; },
                          5 * kUsecPerSec));
    EXPECT_TRUE(alive(status("web").pid));
    EXPECT_NE(status("web").instance_id, inst);
    ASSERT_EQ(status("web").history.size(), 1u);
    EXPECT_EQ(status("web").history[0].signal, SIGKILL);
    EXPECT_EQ(status("web").history[0].pid, first);
    EXPECT_EQ(status("web").restarts, 1u);
}

TEST_F(SupervisorTest, ExitCodeRecordedAndCrashLoopHitsStartLimit) {
    auto a = shell_app("crash", "exit 7");
    a.restart.start_limit_burst = 4;
    a.restart.start_limit_interval = 60 * kUsecPerSec;
    auto b = shell_app("steady", "exec sleep 100");
    sup->apply(config({a, b}));
    ASSERT_TRUE(run_until([&] { return status("crash").state == UnitState::Failed; }, 5 * kUsecPerSec));
    EXPECT_EQ(status("crash").history.size(), 4u);
    EXPECT_EQ(status("crash").history.back().exit_code, 7);
    EXPECT_EQ(status("steady").state, UnitState::Running); // others keep running
    // an operator's enable starts it again
    ASSERT_TRUE(toggle("crash", model::Toggle::Enable));
    EXPECT_TRUE(run_until([&] { return status("crash").history.size() > 4; }, 5 * kUsecPerSec));
}

TEST_F(SupervisorTest, BackoffDelaysAreKept) {
    auto a = shell_app("bo", "exit 1");
    a.restart.backoff_initial = 100 * kUsecPerMsec;
    a.restart.backoff_max = 100 * kUsecPerMsec;
    a.restart.start_limit_burst = 0;
    sup->apply(config({a}));
    // first restart at once, then 100 ms apart: 6 instances take about 0.4 s (not less: the delay is kept; not
    // much more: timers are not left to drift)
    const base::Usec t0 = base::now_monotonic();
    ASSERT_TRUE(run_until([&] { return status("bo").history.size() >= 6; }, 5 * kUsecPerSec));
    const base::Usec took = base::now_monotonic() - t0;
    EXPECT_GE(took, 400 * kUsecPerMsec);
    EXPECT_LT(took, 1000 * kUsecPerMsec) << "backoff timers fire late: " << base::format_duration(took);
}

TEST_F(SupervisorTest, EnvironmentArgsAndWorkingDirectory) {
    auto a = shell_app("envy", "echo \"$0|$1|$(pwd)|$WATCHD_ID|$PATROL_ID|$WATCHD_KEEPALIVE|$WATCHD_HTTP|"
                               "$PATROL_UDP|$WATCHD_SECRET|$FOO|$HOME\" > out.txt; exec sleep 100");
    a.args.push_back("first-arg");
    a.env = {"FOO=1", "FOO=2"};
    a.secret = "s3cret";
    sup->apply(config({a}));
    ASSERT_TRUE(run_until([&] { return fs::exists(dir / "out.txt") && !slurp(dir / "out.txt").empty(); },
                          5 * kUsecPerSec));
    // $0 of sh -c is the first arg after the script; patrol puts the full binary path in argv[0].
    EXPECT_EQ(slurp(dir / "out.txt"), "first-arg||" + dir.string() +
                                          "|envy|envy|1|[\"127.0.0.1:8421\"]|[\"127.0.0.1:8421\"]|s3cret|2|\n");
}

TEST_F(SupervisorTest, Argv0IsTheFullBinaryPath) {
    auto a = shell_app("argv", "exec sleep 100");
    sup->apply(config({a}));
    ASSERT_TRUE(run_until([&] { return status("argv").state == UnitState::Running; }, 5 * kUsecPerSec));
    // Before the exec, /bin/sh ran with argv[0] = "/bin/sh"; check a non-exec'ing app instead.
    auto b = shell_app("argv2", "sleep 100");
    sup->apply(config({a, b}));
    ASSERT_TRUE(run_until([&] { return status("argv2").state == UnitState::Running; }, 5 * kUsecPerSec));
    // wait for the exec (right after the clone, /proc shows the parent's command line)
    const pid_t pid = status("argv2").pid;
    ASSERT_TRUE(run_until([&] { auto c = cmdline(pid); return !c.empty() && c[0] == "/bin/sh"; }, 5 * kUsecPerSec));
    EXPECT_EQ(cmdline(pid), (std::vector<std::string>{"/bin/sh", "-c", "sleep 100"}));
}

TEST_F(SupervisorTest, EnvParentPassesWatchdsEnvironment) {
    ::setenv("WATCHD_TEST_PARENT", "yes", 1);
    ::setenv("NOTIFY_SOCKET", "/nonexistent", 1); // must not leak into apps
    sup = std::make_unique<Supervisor>(*loop);   // captures the environment at construction
    auto a = shell_app("par", "echo \"$WATCHD_TEST_PARENT|${NOTIFY_SOCKET:-none}\" > par.txt; exec sleep 100");
    a.env_parent = true;
    sup->apply(config({a}));
    ASSERT_TRUE(run_until([&] { return !slurp(dir / "par.txt").empty(); }, 5 * kUsecPerSec));
    EXPECT_EQ(slurp(dir / "par.txt"), "yes|none\n");
    ::unsetenv("NOTIFY_SOCKET");
}

TEST_F(SupervisorTest, PidFileModeFollowsTheDaemonChild) {
    auto a = shell_app("forker", "sleep 100 >/dev/null 2>&1 & echo $! > app.pid");
    a.keepalive = model::KeepAlive::PidFile;
    a.pid_path = "app.pid";
    sup->apply(config({a}));
    ASSERT_TRUE(run_until([&] { return status("forker").state == UnitState::Running; }, 5 * kUsecPerSec));
    const pid_t daemon = status("forker").pid;
    EXPECT_EQ(std::stoi(slurp(dir / "app.pid")), daemon);
    ::kill(daemon, SIGKILL);
    ASSERT_TRUE(run_until([&] { return status("forker").state == UnitState::Running && status("forker").pid != daemon; },
                          5 * kUsecPerSec));
    EXPECT_EQ(std::stoi(slurp(dir / "app.pid")), status("forker").pid);
    EXPECT_TRUE(alive(status("forker").pid));
}

TEST_F(SupervisorTest, PidFileModeFollowsAReforkedDaemon) {
    // A daemon that hands over to a successor (nginx binary upgrade style): the successor writes the pid file,
    // then the old one exits. patrol follows the new PID; a restart here would start a second copy.
    auto a = shell_app("reforker",
                       "(sleep 0.3; setsid sleep 100 >/dev/null 2>&1 < /dev/null & echo $! > app.pid; sleep 0.2) "
                       ">/dev/null 2>&1 < /dev/null & echo $! > app.pid; echo launched >> launches.txt");
    a.keepalive = model::KeepAlive::PidFile;
    a.pid_path = "app.pid";
    sup->apply(config({a}));
    ASSERT_TRUE(run_until([&] { return status("reforker").state == UnitState::Running; }, 5 * kUsecPerSec));
    const pid_t first = status("reforker").pid;
    ASSERT_TRUE(run_until([&] { return status("reforker").pid != first && status("reforker").pid != 0; },
                          5 * kUsecPerSec));
    const pid_t second = status("reforker").pid;
    EXPECT_TRUE(alive(second));
    EXPECT_EQ(std::stoi(slurp(dir / "app.pid")), second);
    run_until([] { return false; }, 300 * kUsecPerMsec);
    EXPECT_EQ(slurp(dir / "launches.txt"), "launched\n"); // launched once, never restarted
    EXPECT_EQ(status("reforker").restarts, 0u);
    EXPECT_EQ(status("reforker").state, UnitState::Running);
}

TEST_F(SupervisorTest, PidFileModeAdoptsARunningDaemon) {
    pid_t child = fork();
    if (child == 0) {
        execl("/bin/sleep", "sleep", "100", nullptr);
        _exit(127);
    }
    std::ofstream(dir / "app.pid") << child << "\n";
    auto a = shell_app("adopt", "echo must-not-run > ran.txt");
    a.keepalive = model::KeepAlive::PidFile;
    a.pid_path = "app.pid";
    sup->apply(config({a}));
    ASSERT_TRUE(run_until([&] { return status("adopt").state == UnitState::Running; }, 5 * kUsecPerSec));
    EXPECT_EQ(status("adopt").pid, child);
    EXPECT_FALSE(fs::exists(dir / "ran.txt"));
    ::kill(child, SIGKILL);
    ::waitpid(child, nullptr, 0);
}

TEST_F(SupervisorTest, PidFileGarbageAndForeignPidAreRejected) {
    auto a = shell_app("garbage", "echo 'not a pid' > app.pid; exec sleep 100");
    a.keepalive = model::KeepAlive::PidFile;
    a.pid_path = "app.pid";
    auto b = shell_app("foreign", "echo 1 > other.pid; exec sleep 100");
    b.keepalive = model::KeepAlive::PidFile;
    b.pid_path = "other.pid";
    auto c = shell_app("verify", "echo $$ > v.pid; exec sleep 100");
    c.keepalive = model::KeepAlive::PidFile;
    c.pid_path = "v.pid";
    c.pid_verify = true; // /bin/sh exec'ed sleep: /proc/<pid>/exe is sleep, not /bin/sh
    auto ok = shell_app("fine", "exec sleep 100");
    sup->apply(config({a, b, c, ok}));
    ASSERT_TRUE(run_until([&] {
        return status("garbage").last_error.find("does not hold a PID") != std::string::npos &&
               status("foreign").last_error.find("impossible PID 1") != std::string::npos &&
               status("verify").last_error.find("not /bin/sh") != std::string::npos;
    }, 5 * kUsecPerSec)) << status("garbage").last_error << " / " << status("foreign").last_error << " / "
                         << status("verify").last_error;
    EXPECT_EQ(status("fine").state, UnitState::Running);
    EXPECT_NE(status("garbage").state, UnitState::Running);
}

TEST_F(SupervisorTest, HttpKeepaliveNeedsPings) {
    model::Config c = config({shell_app("pinger", "exec sleep 100")});
    c.apps[0].keepalive = model::KeepAlive::Http;
    c.ping_timeout = 400 * kUsecPerMsec;
    sup->apply(c);
    ASSERT_TRUE(run_until([&] { return status("pinger").launcher_pid != 0; }, 2 * kUsecPerSec));
    const pid_t pid = status("pinger").launcher_pid;
    EXPECT_EQ(status("pinger").state, UnitState::Starting);
    // pings keep it running past several timeouts
    for (int i = 0; i < 6; ++i) {
        ASSERT_TRUE(ping("pinger", pid).ok());
        EXPECT_EQ(status("pinger").state, UnitState::Running);
        run_until([] { return false; }, 200 * kUsecPerMsec);
    }
    EXPECT_EQ(status("pinger").launcher_pid, pid);
    // pings stop: the deadline passes, it is stopped and started anew
    ASSERT_TRUE(run_until([&] { return status("pinger").launcher_pid != 0 && status("pinger").launcher_pid != pid; },
                          3 * kUsecPerSec));
    EXPECT_FALSE(alive(pid));
    EXPECT_EQ(ping("nope", 0).error, CommandError::UnknownUnit);
}

TEST_F(SupervisorTest, PingForPatrolModeIsRefused) {
    sup->apply(config({shell_app("p", "exec sleep 100")}));
    EXPECT_EQ(ping("p", 0).error, CommandError::PingNotSupported);
}

TEST_F(SupervisorTest, ExecuteTimeoutKillsAndRestarts) {
    auto a = shell_app("slow", "exec sleep 100");
    a.execute_timeout = 300 * kUsecPerMsec;
    sup->apply(config({a}));
    ASSERT_TRUE(run_until([&] { return status("slow").history.size() >= 2; }, 5 * kUsecPerSec));
    EXPECT_EQ(status("slow").history[0].signal, SIGTERM);
}

TEST_F(SupervisorTest, StopEscalatesToSigkillAndLeavesNothing) {
    auto stubborn = shell_app("stubborn", "trap '' TERM; : > " + (dir / "stubborn.ready").string() +
                                              "; sleep 100 & wait; sleep 100");
    stubborn.stop_timeout = 300 * kUsecPerMsec;
    auto helper = shell_app("group", "sleep 100 & sleep 100 & wait");
    sup->apply(config({stubborn, helper}));
    ASSERT_TRUE(run_until([&] {
        return status("stubborn").state == UnitState::Running && status("group").state == UnitState::Running;
    }, 5 * kUsecPerSec));
    ASSERT_TRUE(run_until([&] { return fs::exists(dir / "stubborn.ready"); }, 5 * kUsecPerSec)); // its trap is set
    run_until([] { return false; }, 200 * kUsecPerMsec); // let the shells fork their sleeps
    const pid_t p1 = status("stubborn").pid, p2 = status("group").pid;
    bool done = false;
    sup->shutdown([&] { done = true; });
    ASSERT_TRUE(run_until([&] { return done; }, 5 * kUsecPerSec));
    EXPECT_EQ(status("stubborn").history.back().signal, SIGKILL);
    EXPECT_FALSE(alive(p1));
    EXPECT_FALSE(alive(p2));
    // the whole process groups are gone, grandchildren included
    run_until([] { return false; }, 100 * kUsecPerMsec);
    EXPECT_EQ(live_group_members(p1), 0);
    EXPECT_EQ(live_group_members(p2), 0);
    sup.reset();
}

TEST_F(SupervisorTest, ReloadKeepsUnchangedAppsUntouched) {
    auto keep = shell_app("keep", "exec sleep 100");
    auto change = shell_app("change", "exec sleep 100");
    auto drop = shell_app("drop", "exec sleep 100");
    sup->apply(config({keep, change, drop}));
    ASSERT_TRUE(run_until([&] {
        for (auto id : {"keep", "change", "drop"})
            if (status(id).state != UnitState::Running) return false;
        return true;
    }, 5 * kUsecPerSec));
    const pid_t keep_pid = status("keep").pid, change_pid = status("change").pid, drop_pid = status("drop").pid;
    change.args = {"-c", "exec sleep 101"};
    auto added = shell_app("added", "exec sleep 100");
    sup->apply(config({keep, change, added}));
    ASSERT_TRUE(run_until([&] {
        return exists("added") && status("added").state == UnitState::Running && !exists("drop") &&
               status("change").state == UnitState::Running && status("change").pid != change_pid;
    }, 5 * kUsecPerSec));
    EXPECT_EQ(status("keep").pid, keep_pid);
    // the removed app left the views at once; its process goes once its stop completes
    EXPECT_TRUE(run_until([&] { return !alive(drop_pid); }, 5 * kUsecPerSec));
    EXPECT_FALSE(alive(change_pid));
    EXPECT_EQ(status("change").history.size(), 1u); // history survives a reconfiguration
}

TEST_F(SupervisorTest, MissingBinaryIsAClearErrorAndOthersRun) {
    auto bad = shell_app("bad", "");
    bad.binary = "no/such/binary";
    bad.args.clear();
    bad.restart.start_limit_burst = 3;
    auto good = shell_app("good", "exec sleep 100");
    sup->apply(config({bad, good}));
    ASSERT_TRUE(run_until([&] { return status("bad").state == UnitState::Failed; }, 5 * kUsecPerSec));
    EXPECT_NE(status("bad").last_error.find("/apps/bad/binary"), std::string::npos) << status("bad").last_error;
    EXPECT_NE(status("bad").last_error.find("no/such/binary"), std::string::npos);
    EXPECT_EQ(status("good").state, UnitState::Running);
}

TEST_F(SupervisorTest, MissingWorkingDirectoryIsReportedByStep) {
    auto bad = shell_app("nowd", "exec sleep 100");
    bad.working_directory = (dir / "does-not-exist").string();
    bad.restart.start_limit_burst = 2;
    sup->apply(config({bad}));
    ASSERT_TRUE(run_until([&] { return status("nowd").state == UnitState::Failed; }, 5 * kUsecPerSec));
    // the child's chdir failed; watchd learns which step failed before the child is gone
    EXPECT_NE(status("nowd").last_error.find("chdir"), std::string::npos) << status("nowd").last_error;
    EXPECT_NE(status("nowd").last_error.find("No such file or directory"), std::string::npos) << status("nowd").last_error;
}

TEST_F(SupervisorTest, MissingUserAndWorkingDirectoryAreNamed) {
    auto ghost = shell_app("ghost", "exec sleep 100");
    ghost.user = "no-such-user-at-all";
    ghost.restart.start_limit_burst = 1;
    auto lost = shell_app("lost", "exec sleep 100");
    lost.working_directory = (dir / "gone").string();
    lost.restart.start_limit_burst = 1;
    sup->apply(config({ghost, lost}));
    ASSERT_TRUE(run_until([&] {
        return status("ghost").state == UnitState::Failed && status("lost").state == UnitState::Failed;
    }, 5 * kUsecPerSec));
    EXPECT_EQ(status("ghost").last_error, "/apps/ghost/user: no such user \"no-such-user-at-all\"");
    EXPECT_NE(status("lost").last_error.find("chdir: " + (dir / "gone").string()), std::string::npos)
        << status("lost").last_error;
}

TEST_F(SupervisorTest, LogDirectoryGetsPatrolsDatedFiles) {
    auto a = shell_app("logger", "echo to-stdout; echo to-stderr >&2; exec sleep 100");
    a.log_directory = "logs";
    auto m = shell_app("merged", "echo out; echo err >&2; exec sleep 100");
    m.log_directory = "mlogs";
    m.std_merge = true;
    sup->apply(config({a, m}));
    auto find = [&](const fs::path &root, const std::string &suffix) -> std::string {
        if (!fs::exists(root)) return {};
        for (auto &e : fs::recursive_directory_iterator(root))
            if (e.path().string().ends_with(suffix)) return slurp(e.path());
        return {};
    };
    ASSERT_TRUE(run_until([&] {
        return find(dir / "logs", ".stdout.log") == "to-stdout\n" && find(dir / "logs", ".stderr.log") == "to-stderr\n" &&
               find(dir / "mlogs", ".stdmerge.log") == "out\nerr\n";
    }, 5 * kUsecPerSec));
    // <year>/<month name>/<day>/
    time_t t = time(nullptr);
    struct tm tm {};
    localtime_r(&t, &tm);
    char month[16];
    strftime(month, sizeof month, "%B", &tm);
    std::string lower = month;
    for (auto &ch : lower) ch = char(std::tolower(ch));
    EXPECT_TRUE(fs::is_directory(dir / "logs" / std::to_string(tm.tm_year + 1900) / lower / std::to_string(tm.tm_mday)));
}

TEST_F(SupervisorTest, UnwritableLogDirectoryStillRunsTheApp) {
    std::ofstream(dir / "blocker") << "a file where a directory should be";
    auto a = shell_app("nolog", "exec sleep 100");
    a.log_directory = "blocker/logs";
    sup->apply(config({a}));
    EXPECT_TRUE(run_until([&] { return status("nolog").state == UnitState::Running; }, 5 * kUsecPerSec));
}

TEST_F(SupervisorTest, DisableStopsAndEnableStarts) {
    sup->apply(config({shell_app("t", "exec sleep 100")}));
    ASSERT_TRUE(run_until([&] { return status("t").state == UnitState::Running; }, 5 * kUsecPerSec));
    const pid_t pid = status("t").pid;
    ASSERT_TRUE(toggle("t", model::Toggle::Disable));
    ASSERT_TRUE(run_until([&] { return status("t").state == UnitState::Inactive; }, 5 * kUsecPerSec));
    EXPECT_FALSE(alive(pid));
    run_until([] { return false; }, 200 * kUsecPerMsec);
    EXPECT_EQ(status("t").state, UnitState::Inactive);
    ASSERT_TRUE(toggle("t", model::Toggle::Enable));
    EXPECT_TRUE(run_until([&] { return status("t").state == UnitState::Running; }, 5 * kUsecPerSec));
    EXPECT_FALSE(toggle("missing", model::Toggle::Enable));
}

TEST_F(SupervisorTest, RunsAsConfiguredUser) {
    if (getuid() != 0) GTEST_SKIP() << "needs root to change user";
    auto a = shell_app("nob", "echo \"$HOME|$USER|$LOGNAME\" > " + (dir / "who.txt").string() + "; exec sleep 100");
    a.user = "nobody";
    a.env_parent = true; // watchd's HOME (root's) must not leak to another user
    a.working_directory = "/";
    fs::permissions(dir, fs::perms::all);
    sup->apply(config({a}));
    ASSERT_TRUE(run_until([&] { return status("nob").state == UnitState::Running; }, 5 * kUsecPerSec));
    const pid_t pid = status("nob").pid;
    ASSERT_TRUE(run_until([&] { auto c = cmdline(pid); return !c.empty() && c[0] == "sleep"; }, 5 * kUsecPerSec));
    struct stat st {};
    ASSERT_EQ(::stat(("/proc/" + std::to_string(pid)).c_str(), &st), 0);
    EXPECT_EQ(st.st_uid, 65534u);
    EXPECT_EQ(st.st_gid, 65534u);
    ASSERT_TRUE(run_until([&] { return !slurp(dir / "who.txt").empty(); }, 5 * kUsecPerSec));
    EXPECT_EQ(slurp(dir / "who.txt"), "/nonexistent|nobody|nobody\n");
}

TEST_F(SupervisorTest, RemovedAndReAddedWhileStoppingComesBack) {
    // A reload drops an app that is slow to stop; the next reload brings it back unchanged before it is down.
    // (it says when its trap is set: a TERM before that, as under ASan on a loaded machine, would end it at once)
    auto slow = shell_app("slow", "trap '' TERM; echo $$ >> " + (dir / "slow.ready").string() +
                                      "; while :; do sleep 0.05; done");
    slow.stop_timeout = 500 * kUsecPerMsec;
    auto other = shell_app("other", "exec sleep 100");
    sup->apply(config({slow, other}));
    ASSERT_TRUE(run_until([&] { return status("slow").state == UnitState::Running; }, 5 * kUsecPerSec));
    const pid_t first = status("slow").pid;
    ASSERT_TRUE(run_until([&] { return slurp(dir / "slow.ready") == std::to_string(first) + "\n"; }, 5 * kUsecPerSec));
    sup->apply(config({other}));
    ASSERT_FALSE(exists("slow")); // removed: gone from the views, while it still stops
    ASSERT_TRUE(alive(first));
    sup->apply(config({slow, other}));
    EXPECT_TRUE(run_until([&] {
        return exists("slow") && status("slow").state == UnitState::Running && status("slow").pid != first;
    }, 5 * kUsecPerSec)) << "the re-added app stayed " << model::to_string(status("slow").state);
    EXPECT_FALSE(alive(first));
}

TEST_F(SupervisorTest, APingNamesOnlyAProcessOfTheAppsUser) {
    // An app is untrusted input: one running as nobody must not make watchd watch (and later signal) a root process
    // by naming its PID in a ping, nor churn by naming one that does not exist.
    if (getuid() != 0) GTEST_SKIP() << "needs root to run an app as another user";
    fs::permissions(dir, fs::perms::all);
    auto a = shell_app("hb", "echo $$ > " + (dir / "hb.pid").string() + "; exec sleep 100");
    a.keepalive = model::KeepAlive::Http;
    a.user = "nobody";
    sup->apply(config({a}));
    ASSERT_TRUE(run_until([&] { return !slurp(dir / "hb.pid").empty(); }, 5 * kUsecPerSec));
    const pid_t app_pid = std::stoi(slurp(dir / "hb.pid"));
    pid_t gone = ::fork();
    if (gone == 0) ::_exit(0);
    ::waitpid(gone, nullptr, 0);

    for (const pid_t bad : {::getpid(), pid_t{1}, gone}) {
        const auto r = ping("hb", bad);
        ASSERT_TRUE(r.ok()) << bad; // patrol's answer: the state before it
        run_until([] { return false; }, 50 * kUsecPerMsec);
        EXPECT_EQ(status("hb").state, UnitState::Starting) << "a ping naming PID " << bad << " was taken";
        EXPECT_NE(status("hb").pid, bad);
        EXPECT_TRUE(status("hb").history.empty()) << bad;
    }
    ASSERT_TRUE(ping("hb", app_pid).ok());
    EXPECT_TRUE(run_until([&] { return status("hb").state == UnitState::Running; }, 2 * kUsecPerSec));
    EXPECT_EQ(status("hb").pid, app_pid);
    EXPECT_TRUE(alive(1));
}

TEST_F(SupervisorTest, ReloadRetriesAFailedApp) {
    // The start limit put the app in failed; the operator fixes the cause and reloads the same config.
    auto a = shell_app("flaky", "test -e fixed || exit 3; exec sleep 100");
    a.restart.start_limit_burst = 3;
    sup->apply(config({a}));
    ASSERT_TRUE(run_until([&] { return status("flaky").state == UnitState::Failed; }, 5 * kUsecPerSec));
    std::ofstream(dir / "fixed") << "";
    sup->apply(config({a}));
    EXPECT_TRUE(run_until([&] { return status("flaky").state == UnitState::Running; }, 5 * kUsecPerSec))
        << "still " << model::to_string(status("flaky").state);
}

TEST_F(SupervisorTest, PingDoesNotReviveAFailedApp) {
    model::Config c = config({shell_app("hb", "exit 3")});
    c.apps[0].keepalive = model::KeepAlive::Http;
    c.apps[0].restart.start_limit_burst = 2;
    sup->apply(c);
    ASSERT_TRUE(run_until([&] { return status("hb").state == UnitState::Failed; }, 5 * kUsecPerSec));
    (void)ping("hb", 0);
    run_until([] { return false; }, 200 * kUsecPerMsec);
    EXPECT_EQ(status("hb").state, UnitState::Failed);
}

// The environment an app really gets, read from /proc/<pid>/environ of a process that is no shell (a shell would
// drop duplicates by itself): a duplicated key appears once, with its last value.
TEST_F(SupervisorTest, DuplicateEnvironmentKeysReachTheAppOnceWithTheLastValue) {
    auto a = shell_app("dup", "");
    a.binary = "/bin/sleep";
    a.args = {"100"};
    a.env = {"FOO=first", "BAR=kept", "FOO=second", "WATCHD_ID=spoofed"};
    sup->apply(config({a}));
    ASSERT_TRUE(run_until([&] { return status("dup").state == UnitState::Running; }, 5 * kUsecPerSec));
    const pid_t pid = status("dup").pid;
    ASSERT_TRUE(run_until([&] { auto c = cmdline(pid); return !c.empty() && c[0] == "/bin/sleep"; }, 5 * kUsecPerSec));
    const auto env = cmdline(pid).empty() ? std::vector<std::string>{} : [&] {
        std::string raw = slurp("/proc/" + std::to_string(pid) + "/environ");
        std::vector<std::string> out;
        for (size_t i = 0, z; i < raw.size(); i = z + 1) {
            z = raw.find('\0', i);
            if (z == std::string::npos) z = raw.size();
            out.push_back(raw.substr(i, z - i));
        }
        return out;
    }();
    auto values = [&](const std::string &key) {
        std::vector<std::string> v;
        for (const auto &e : env)
            if (e.starts_with(key + "=")) v.push_back(e.substr(key.size() + 1));
        return v;
    };
    EXPECT_EQ(values("FOO"), std::vector<std::string>{"second"});
    EXPECT_EQ(values("BAR"), std::vector<std::string>{"kept"});
    EXPECT_EQ(values("WATCHD_ID"), std::vector<std::string>{"dup"}) << "watchd's own variables come last and win";
    EXPECT_EQ(values("WATCHD_INSTANCE_ID"), std::vector<std::string>{status("dup").instance_id});
}

// A relative binary is found under the working directory, not under watchd's own.
TEST_F(SupervisorTest, RelativeBinaryIsJoinedToTheWorkingDirectory) {
    fs::create_directories(dir / "bin");
    std::ofstream(dir / "bin" / "app") << "#!/bin/sh\necho \"$0\" > ran.txt\nexec sleep 100\n";
    fs::permissions(dir / "bin" / "app", fs::perms::owner_all);
    auto a = shell_app("rel", "");
    a.binary = "bin/app";
    a.args.clear();
    ASSERT_NE(fs::current_path(), dir);
    sup->apply(config({a}));
    ASSERT_TRUE(run_until([&] { return !slurp(dir / "ran.txt").empty(); }, 5 * kUsecPerSec)) << status("rel").last_error;
    EXPECT_EQ(slurp(dir / "ran.txt"), (dir / "bin" / "app").string() + "\n");
    EXPECT_EQ(status("rel").state, UnitState::Running);
}

// patrol's API rules through the command sink: the answer is the unit before the command; a CAS mismatch or a
// missing secret changes nothing but the ping; a wrong secret is an error; pings only for http/udp apps.
TEST_F(SupervisorTest, CommandsFollowPatrolsCasSecretAndSnapshotRules) {
    model::Config c = config({shell_app("kv", "exec sleep 100")});
    c.apps[0].keepalive = model::KeepAlive::Udp;
    c.apps[0].secret = "s3cret";
    c.apps[0].keyvalue = {{"a", "1"}};
    sup->apply(c);
    const UnitRef kv{UnitKind::App, "kv"};
    ASSERT_TRUE(run_until([&] { return status("kv").launcher_pid != 0; }, 5 * kUsecPerSec));
    const pid_t pid = status("kv").launcher_pid;
    auto submit = [&](auto fill) {
        Command cmd;
        cmd.secret = "s3cret";
        fill(cmd);
        return sup->submit(kv, cmd);
    };

    // no secret: not an error, the full state, cas-invalid, nothing changed (not even the ping)
    Command bare;
    bare.ping = true;
    bare.keyvalue = KeyValue{{"b", "2"}};
    auto r = sup->submit(kv, bare);
    ASSERT_TRUE(r.ok());
    EXPECT_TRUE(r.cas_invalid);
    EXPECT_TRUE(r.before->has_secret);
    EXPECT_EQ(status("kv").keyvalue, (KeyValue{{"a", "1"}}));
    EXPECT_EQ(status("kv").state, UnitState::Starting);
    // a wrong secret is an error
    EXPECT_EQ(submit([](Command &x) { x.secret = "s3creT"; }).error, CommandError::SecretInvalid);
    EXPECT_EQ(submit([](Command &x) { x.secret = "s3cret-and-more"; }).error, CommandError::SecretInvalid);

    // a ping with the PID: the answer is the state before it (no pid yet), the unit runs afterwards
    r = submit([&](Command &x) { x.ping = true; x.pid = pid; x.via = Command::Via::Udp; });
    ASSERT_TRUE(r.ok());
    EXPECT_FALSE(r.cas_invalid);
    EXPECT_EQ(r.before->pid, 0);
    EXPECT_EQ(r.before->state, UnitState::Starting);
    EXPECT_EQ(status("kv").state, UnitState::Running);
    EXPECT_EQ(status("kv").pid, pid);

    // key/value merge: the answer holds the old map, a null value is kept as null
    const auto cas = status("kv").cas;
    r = submit([&](Command &x) { x.keyvalue = KeyValue{{"b", "null"}, {"c", "3"}}; x.cas = cas; });
    ASSERT_TRUE(r.ok());
    EXPECT_FALSE(r.cas_invalid);
    EXPECT_EQ(r.before->keyvalue, (KeyValue{{"a", "1"}}));
    EXPECT_EQ(r.before->cas, cas);
    EXPECT_EQ(status("kv").keyvalue, (KeyValue{{"a", "1"}, {"b", "null"}, {"c", "3"}}));
    EXPECT_NE(status("kv").cas, cas);

    // a stale CAS: cas-invalid, the key/value and the toggle are not applied, the ping still is
    const auto seen = status("kv").last_seen;
    run_until([] { return false; }, 5 * kUsecPerMsec);
    r = submit([&](Command &x) {
        x.cas = cas;
        x.keyvalue = KeyValue{{"z", "1"}};
        x.keyvalue_replace = true;
        x.toggle = Toggle::Disable;
        x.ping = true;
    });
    ASSERT_TRUE(r.ok());
    EXPECT_TRUE(r.cas_invalid);
    EXPECT_EQ(status("kv").keyvalue.count("z"), 0u);
    EXPECT_FALSE(status("kv").disabled);
    EXPECT_EQ(status("kv").state, UnitState::Running);
    EXPECT_GT(status("kv").last_seen, seen);

    // replace with the right CAS
    r = submit([&](Command &x) { x.cas = status("kv").cas; x.keyvalue = KeyValue{{"z", "1"}}; x.keyvalue_replace = true; });
    EXPECT_FALSE(r.cas_invalid);
    EXPECT_EQ(status("kv").keyvalue, (KeyValue{{"z", "1"}}));

    // patrol's refusals
    EXPECT_EQ(submit([](Command &x) { x.pid = 5; }).error, CommandError::PidRequiresPing);
    EXPECT_EQ(submit([](Command &x) { x.ping = true; x.via = Command::Via::Http; }).error,
              CommandError::InvalidPingEndpoint);
    EXPECT_EQ(sup->submit({UnitKind::Service, "kv"}, Command{}).error, CommandError::UnknownUnit);
    EXPECT_EQ(describe(CommandError::UnknownUnit, UnitKind::Service), "Unknown Service");

    // a toggle's answer carries the old flags; history only when asked for
    r = submit([](Command &x) { x.toggle = Toggle::Disable; x.history = true; });
    ASSERT_TRUE(r.ok());
    EXPECT_FALSE(r.before->disabled);
    EXPECT_TRUE(r.before->history.empty());
    ASSERT_TRUE(run_until([&] { return status("kv").state == UnitState::Inactive; }, 5 * kUsecPerSec));
    EXPECT_TRUE(status("kv").disabled);
    r = submit([](Command &x) { x.history = true; });
    ASSERT_EQ(r.before->history.size(), 1u);
    EXPECT_TRUE(r.before->history[0].disabled);
    EXPECT_TRUE(submit([](Command &) {}).before->history.empty());
}

// Command::authenticate (signed UDP pings): called with the unit's secret instead of comparing `secret`; true
// authenticates the command (the ping applies), false is SecretInvalid; a unit without a secret never calls it.
TEST_F(SupervisorTest, AuthenticateHookStandsInForTheSecret) {
    model::Config c = config({shell_app("locked", "exec sleep 100"), shell_app("open", "exec sleep 100")});
    for (auto &a : c.apps) a.keepalive = model::KeepAlive::Udp;
    c.apps[0].secret = "s3cret"; // "locked" (sorted first)
    sup->apply(c);
    ASSERT_TRUE(run_until([&] { return status("locked").launcher_pid && status("open").launcher_pid; },
                          5 * kUsecPerSec));
    std::vector<std::string> seen; // the secrets the hook was called with
    auto signed_ping = [&](const std::string &id, bool verdict) {
        Command cmd;
        cmd.ping = true;
        cmd.pid = status(id).launcher_pid;
        cmd.authenticate = [&seen, verdict](std::string_view s) {
            seen.emplace_back(s);
            return verdict;
        };
        return sup->submit({UnitKind::App, id}, cmd);
    };
    // refused: an error, nothing applied
    EXPECT_EQ(signed_ping("locked", false).error, CommandError::SecretInvalid);
    EXPECT_EQ(seen, std::vector<std::string>{"s3cret"});
    EXPECT_EQ(status("locked").state, UnitState::Starting);
    // accepted: as with the right secret (no cas-invalid), the ping applies
    auto r = signed_ping("locked", true);
    ASSERT_TRUE(r.ok());
    EXPECT_FALSE(r.cas_invalid);
    EXPECT_EQ(status("locked").state, UnitState::Running);
    EXPECT_EQ(status("locked").pid, status("locked").launcher_pid);
    // no secret on the unit: the hook is not consulted, even one that would refuse
    seen.clear();
    r = signed_ping("open", false);
    ASSERT_TRUE(r.ok());
    EXPECT_TRUE(seen.empty());
    EXPECT_EQ(status("open").state, UnitState::Running);
}

TEST_F(SupervisorTest, PidAndPingRefusedForPatrolApps) {
    sup->apply(config({shell_app("plain", "exec sleep 100")}));
    Command c;
    c.pid = 5;
    EXPECT_EQ(sup->submit({UnitKind::App, "plain"}, c).error, CommandError::PidNotSupported);
    c.ping = true;
    EXPECT_EQ(sup->submit({UnitKind::App, "plain"}, c).error, CommandError::PingNotSupported);
}

// Records what observers are told.
struct Recorder final : UnitObserver {
    std::vector<std::string> changes; // "web inactive->starting"
    std::vector<std::pair<std::string, HistoryEntry>> history;
    void on_unit_changed(const UnitView &v, UnitState from, UnitState to) noexcept override {
        if (from != to)
            changes.push_back(v.ref.id + " " + std::string(model::to_string(from)) + "->" +
                              std::string(model::to_string(to)));
        EXPECT_EQ(v.state, to);
    }
    void on_history_added(const UnitRef &u, const HistoryEntry &e) noexcept override { history.emplace_back(u.id, e); }
    void on_unit_removed(const UnitRef &u) noexcept override { changes.push_back(u.id + " removed"); }
};

TEST_F(SupervisorTest, ObserversSeeEveryStateChangeAndEveryHistoryEntry) {
    Recorder rec;
    sup->add_observer(rec);
    sup->apply(config({shell_app("obs", "exec sleep 100")}));
    ASSERT_TRUE(run_until([&] { return status("obs").state == UnitState::Running; }, 5 * kUsecPerSec));
    const pid_t first = status("obs").pid;
    ::kill(first, SIGKILL);
    ASSERT_TRUE(run_until([&] { return status("obs").state == UnitState::Running && status("obs").pid != first; },
                          5 * kUsecPerSec));
    EXPECT_EQ(rec.changes, (std::vector<std::string>{"obs inactive->starting", "obs starting->running",
                                                     "obs running->starting", "obs starting->running"}));
    ASSERT_EQ(rec.history.size(), 1u);
    EXPECT_EQ(rec.history[0].first, "obs");
    EXPECT_EQ(rec.history[0].second.pid, first);
    EXPECT_EQ(rec.history[0].second.signal, SIGKILL);
    // a reload that drops a unit: it stops, then observers hear that it is gone
    sup->apply(config({shell_app("obs", "exec sleep 100"), shell_app("brief", "exec sleep 100")}));
    ASSERT_TRUE(run_until([&] { return status("brief").state == UnitState::Running; }, 5 * kUsecPerSec));
    rec.changes.clear();
    sup->apply(config({shell_app("obs", "exec sleep 100")}));
    ASSERT_TRUE(run_until([&] { return !rec.changes.empty() && rec.changes.back() == "brief removed"; }, 5 * kUsecPerSec));
    EXPECT_EQ(rec.changes, (std::vector<std::string>{"brief running->stopping", "brief stopping->inactive",
                                                     "brief removed"}));
    sup->remove_observer(rec);
    const auto heard = rec.history.size();
    ::kill(status("obs").pid, SIGKILL);
    run_until([&] { return status("obs").history.size() == 2; }, 5 * kUsecPerSec);
    EXPECT_EQ(rec.history.size(), heard) << "a removed observer hears nothing";
}

// Services and checks are carried, listed and named as not run; they never count as running apps.
TEST_F(SupervisorTest, ServicesWithoutSystemdAreUnavailableAndChecksWaitForTheirFirstProbe) {
    model::Config c = config({shell_app("web", "exec sleep 100")});
    model::ServiceSpec svc;
    svc.id = "web"; // the same id as the app: a different unit
    svc.name = "Web service";
    svc.unit = "web.service";
    c.services.push_back(svc);
    model::CheckSpec chk;
    chk.id = "db";
    chk.name = "db";
    chk.address = "127.0.0.1";
    chk.port = 5432;
    chk.protocol = "tcp";
    c.checks.push_back(chk);
    sup->apply(c);
    ASSERT_TRUE(run_until([&] { return status("web").state == UnitState::Running; }, 5 * kUsecPerSec));
    auto v = sup->view(false);
    ASSERT_EQ(v.units.size(), 3u);
    EXPECT_EQ(to_string(v.units[0].ref), "app web");
    EXPECT_EQ(to_string(v.units[1].ref), "service web");
    EXPECT_EQ(to_string(v.units[2].ref), "check db");
    EXPECT_TRUE(v.units[0].supervised);
    EXPECT_TRUE(v.units[1].supervised);
    EXPECT_EQ(v.units[1].state, UnitState::Unavailable); // this supervisor has no client of systemd
    EXPECT_NE(v.units[1].last_error.find("systemd unavailable"), std::string::npos);
    EXPECT_TRUE(v.units[2].supervised);
    EXPECT_EQ(v.units[2].state, UnitState::Starting); // its first probe is due within its interval (15 s)
    EXPECT_FALSE(v.instance_id.empty());
    EXPECT_EQ(sup->summary(), "1 app running; 0 services running, 1 unavailable; 0 checks ok, 1 not checked yet");
    // a reload that drops them drops them
    sup->apply(config({shell_app("web", "exec sleep 100")}));
    EXPECT_EQ(sup->view(false).units.size(), 1u);
    EXPECT_EQ(sup->summary(), "1 app running");
}

// pid files and log files are written in directories the app may control: never through a symlink it planted.
TEST_F(SupervisorTest, PatrolPidFileIsNotWrittenThroughASymlink) {
    std::ofstream(dir / "victim") << "root's secret\n";
    fs::permissions(dir / "victim", fs::perms::owner_read | fs::perms::owner_write);
    fs::create_symlink(dir / "victim", dir / "app.pid");
    auto a = shell_app("sym", "exec sleep 100");
    a.pid_path = "app.pid";
    sup->apply(config({a}));
    ASSERT_TRUE(run_until([&] { return status("sym").state == UnitState::Running; }, 5 * kUsecPerSec));
    ASSERT_TRUE(run_until([&] { return !fs::is_symlink(dir / "app.pid"); }, 5 * kUsecPerSec));
    EXPECT_EQ(slurp(dir / "victim"), "root's secret\n");
    EXPECT_EQ(std::stoi(slurp(dir / "app.pid")), status("sym").pid) << "the PID went to a new file in its place";
    for (auto &e : fs::directory_iterator(dir))
        EXPECT_FALSE(e.path().filename().string().ends_with(".tmp")) << "temporary file left: " << e.path();
}

TEST_F(SupervisorTest, LogDirectoryDoesNotFollowSymlinks) {
    fs::create_directories(dir / "elsewhere");
    fs::create_directories(dir / "logs");
    const auto year = std::to_string(1900 + [] { time_t t = time(nullptr); struct tm tm {}; localtime_r(&t, &tm); return tm.tm_year; }());
    fs::create_directory_symlink(dir / "elsewhere", dir / "logs" / year);
    auto a = shell_app("logsym", "echo hello; exec sleep 100");
    a.log_directory = "logs";
    sup->apply(config({a}));
    ASSERT_TRUE(run_until([&] { return status("logsym").state == UnitState::Running; }, 5 * kUsecPerSec));
    run_until([] { return false; }, 200 * kUsecPerMsec);
    EXPECT_TRUE(fs::is_empty(dir / "elsewhere")) << "nothing is created through the symlink";
    EXPECT_EQ(status("logsym").state, UnitState::Running) << "the app runs, its output goes to the journal instead";
}

TEST_F(SupervisorTest, PidFileOfAnotherUsersProcessIsRefused) {
    if (getuid() != 0) GTEST_SKIP() << "needs root to run an app as another user";
    // A root process the app (running as nobody) names in its pid file: watchd must neither adopt nor signal it.
    pid_t root_proc = fork();
    if (root_proc == 0) {
        execl("/bin/sleep", "sleep", "100", nullptr);
        _exit(127);
    }
    fs::permissions(dir, fs::perms::all);
    auto a = shell_app("liar", "echo " + std::to_string(root_proc) + " > liar.pid; exec sleep 100");
    a.keepalive = model::KeepAlive::PidFile;
    a.pid_path = "liar.pid";
    a.user = "nobody";
    a.pid_wait = 600 * kUsecPerMsec;
    sup->apply(config({a}));
    ASSERT_TRUE(run_until([&] { return status("liar").last_error.find("runs as uid 0") != std::string::npos; },
                          5 * kUsecPerSec)) << status("liar").last_error;
    EXPECT_NE(status("liar").last_error.find("not as the app's user nobody"), std::string::npos);
    EXPECT_NE(status("liar").pid, root_proc);
    bool done = false;
    sup->shutdown([&] { done = true; });
    ASSERT_TRUE(run_until([&] { return done; }, 10 * kUsecPerSec));
    EXPECT_TRUE(alive(root_proc)) << "watchd signalled a root process an app named";
    ::kill(root_proc, SIGKILL);
    ::waitpid(root_proc, nullptr, 0);
    sup.reset();
}

TEST_F(SupervisorTest, PidFileInTheAppsDirectoryBelongsToTheApp) {
    if (getuid() != 0) GTEST_SKIP() << "needs root to run an app as another user";
    fs::permissions(dir, fs::perms::all);
    fs::create_directories(dir / "run");
    ASSERT_EQ(::chown((dir / "run").c_str(), 65534, 65534), 0);
    auto a = shell_app("owned", "exec sleep 100");
    a.user = "nobody";
    a.pid_path = "run/owned.pid";
    auto b = shell_app("rootdir", "exec sleep 100");
    b.user = "nobody";
    b.pid_path = "rootdir.pid"; // in the test's own (root's) directory: stays root's
    sup->apply(config({a, b}));
    ASSERT_TRUE(run_until([&] { return fs::exists(dir / "run" / "owned.pid") && fs::exists(dir / "rootdir.pid"); },
                          5 * kUsecPerSec));
    struct stat st {};
    ASSERT_EQ(::stat((dir / "run" / "owned.pid").c_str(), &st), 0);
    EXPECT_EQ(st.st_uid, 65534u);
    ASSERT_EQ(::stat((dir / "rootdir.pid").c_str(), &st), 0);
    EXPECT_EQ(st.st_uid, 0u);
}

// A daemon slower than pid-wait: its launch is given up, and what it left running is killed before the next
// launch, so two copies never run side by side.
TEST_F(SupervisorTest, SlowPidFileDaemonIsNotStartedTwice) {
    const std::string naptime = "1000." + std::to_string(getpid()); // this test's own daemons, by their argv
    auto a = shell_app("slow", "sleep " + naptime + " >/dev/null 2>&1 & echo launched >> launches.txt; exit 0");
    a.keepalive = model::KeepAlive::PidFile;
    a.pid_path = "never.pid";
    a.pid_wait = 400 * kUsecPerMsec;
    a.restart.backoff_initial = 0;
    sup->apply(config({a}));
    auto sleepers = [&] {
        int n = 0;
        for (auto &e : fs::directory_iterator("/proc")) {
            const std::string name = e.path().filename();
            if (name.find_first_not_of("0123456789") != std::string::npos) continue;
            auto c = cmdline(std::stoi(name));
            if (c.size() == 2 && c[0] == "sleep" && c[1] == naptime && alive(std::stoi(name))) ++n;
        }
        return n;
    };
    int most = 0;
    ASSERT_TRUE(run_until([&] {
        most = std::max(most, sleepers());
        const std::string launches = slurp(dir / "launches.txt");
        return std::count(launches.begin(), launches.end(), '\n') >= 3;
    }, 10 * kUsecPerSec));
    run_until([&] { most = std::max(most, sleepers()); return false; }, 100 * kUsecPerMsec);
    EXPECT_LE(most, 1) << "a second copy ran beside the first";
    // stopping watchd while the daemon has no pid file yet leaves nothing of its launch behind
    bool done = false;
    sup->shutdown([&] { done = true; });
    ASSERT_TRUE(run_until([&] { return done; }, 5 * kUsecPerSec));
    EXPECT_TRUE(run_until([&] { return sleepers() == 0; }, 2 * kUsecPerSec)) << sleepers() << " left behind";
    sup.reset();
}

// One chatty app cannot flood the journal: its lines beyond the burst are dropped and counted, and the count is
// told once the window ends.
TEST_F(SupervisorTest, OutputBeyondTheRateLimitIsDroppedAndCounted) {
    // watchd's log (and the apps' forwarded output) goes to a file for this test.
    const fs::path captured = dir / "stderr.txt";
    const int saved = ::dup(2);
    const int file = ::open(captured.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    ASSERT_GE(file, 0);
    ::dup2(file, 2);
    ::close(file);
    sys::log::init(sys::log::Target::Stderr, 7, "");
    auto a = shell_app("chatty", "seq 1 1000; sleep 1.2; echo after-the-window; exec sleep 100");
    a.log_rate_burst = 100;
    a.log_rate_interval = 1 * kUsecPerSec;
    sup->apply(config({a}));
    const bool told = run_until([&] { return slurp(captured).find("after-the-window") != std::string::npos; },
                                10 * kUsecPerSec);
    ::dup2(saved, 2);
    ::close(saved);
    sys::log::init(sys::log::Target::Stderr, 7, "");
    ASSERT_TRUE(told) << slurp(captured).substr(0, 2000);
    const std::string out = slurp(captured);
    auto has_line = [&](const std::string &l) { return out.find("]: " + l + "\n") != std::string::npos; };
    EXPECT_TRUE(has_line("1"));
    EXPECT_TRUE(has_line("100"));
    EXPECT_FALSE(has_line("101")) << "line 101 is beyond the burst of 100";
    EXPECT_FALSE(has_line("1000"));
    EXPECT_NE(out.find("watchd: dropped 900 lines of output"), std::string::npos) << out.substr(out.size() > 3000 ? out.size() - 3000 : 0);
    EXPECT_NE(out.find("rate limit: 100 lines per 1s"), std::string::npos);
}

} // namespace
} // namespace watchd::supervisor
