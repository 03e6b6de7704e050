// exec probes on a real loop with real commands: exit codes, the first line of output, the timeout killing the whole
// process group, a cancelled probe's command killed and reaped (no zombie left), a missing binary, a flood of output.
#include <gtest/gtest.h>

#include <csignal>
#include <dirent.h>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <unistd.h>

#include "event/loop.h"
#include "probe/probe.h"

namespace watchd::probe {
namespace {

using base::kUsecPerMsec;
using base::kUsecPerSec;

// The state letter of a process ('Z' for a zombie), nullopt when it is gone (or reaped).
std::optional<char> proc_state(pid_t pid) {
    std::ifstream f("/proc/" + std::to_string(pid) + "/stat");
    std::string line;
    if (!std::getline(f, line)) return std::nullopt;
    const auto close = line.rfind(')');
    if (close == std::string::npos || close + 2 >= line.size()) return std::nullopt;
    return line[close + 2];
}

// PIDs whose command line holds `marker` (the test's own sleepers).
std::vector<pid_t> with_marker(const std::string &marker) {
    std::vector<pid_t> out;
    DIR *d = ::opendir("/proc");
    if (!d) return out;
    while (dirent *e = ::readdir(d)) {
        const pid_t pid = static_cast<pid_t>(std::atoi(e->d_name));
        if (pid <= 0) continue;
        std::ifstream f(std::string("/proc/") + e->d_name + "/cmdline");
        std::stringstream ss;
        ss << f.rdbuf();
        std::string cmd = ss.str();
        for (char &c : cmd)
            if (c == '\0') c = ' ';
        if (cmd.find(marker) != std::string::npos && proc_state(pid) != 'Z') out.push_back(pid);
    }
    ::closedir(d);
    return out;
}

class ExecProbeTest : public ::testing::Test {
protected:
    std::unique_ptr<event::Loop> loop;
    std::unique_ptr<Prober> prober;
    void SetUp() override {
        auto l = event::Loop::create();
        ASSERT_TRUE(l) << l.error().message();
        loop = std::move(*l);
        prober = std::make_unique<Prober>(*loop);
    }
    static model::CheckSpec spec(std::vector<std::string> command, base::Usec timeout = 5 * kUsecPerSec) {
        model::CheckSpec s;
        s.id = "t";
        s.name = "t";
        s.protocol = "exec";
        s.command = std::move(command);
        s.timeout = timeout;
        return s;
    }
    // Runs the probe to its result (at most 10 s).
    std::optional<Result> run(const model::CheckSpec &s) {
        std::optional<Result> got;
        auto p = prober->start(s, [&](Result r) { got = std::move(r); });
        EXPECT_TRUE(p) << (p ? "" : p.error().message());
        if (!p) return std::nullopt;
        const base::Usec end = base::now_monotonic() + 10 * kUsecPerSec;
        while (!got && base::now_monotonic() < end) loop->run_once(10 * kUsecPerMsec);
        return got;
    }
    void spin(int ms) {
        const base::Usec end = base::now_monotonic() + base::Usec(ms) * kUsecPerMsec;
        while (base::now_monotonic() < end) loop->run_once(5 * kUsecPerMsec);
    }
};

TEST_F(ExecProbeTest, ExitZeroIsUp) {
    auto r = run(spec({"/bin/sh", "-c", "echo fine; exit 0"}));
    ASSERT_TRUE(r);
    EXPECT_TRUE(r->ok) << r->error;
    EXPECT_EQ(r->error, "");
    EXPECT_GT(r->latency, 0u);
}

TEST_F(ExecProbeTest, OtherExitIsDownWithTheFirstLineOfOutput) {
    auto r = run(spec({"/bin/sh", "-c", "echo; printf 'DISK CRITICAL - /var\\tfull\\n'; echo second >&2; exit 2"}));
    ASSERT_TRUE(r);
    EXPECT_FALSE(r->ok);
    EXPECT_EQ(r->error, "exited with status 2: DISK CRITICAL - /var full");
}

TEST_F(ExecProbeTest, ExpectedExitCodesAreUp) {
    auto s = spec({"/bin/sh", "-c", "exit 1"});
    s.expect_exit = {0, 1};
    auto r = run(s);
    ASSERT_TRUE(r);
    EXPECT_TRUE(r->ok) << r->error;
    s.expect_exit = {0};
    r = run(s);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->error, "exited with status 1");
}

TEST_F(ExecProbeTest, SignalledIsDown) {
    auto r = run(spec({"/bin/sh", "-c", "kill -TERM $$"}));
    ASSERT_TRUE(r);
    EXPECT_FALSE(r->ok);
    EXPECT_EQ(r->error, "killed by signal SIGTERM");
}

TEST_F(ExecProbeTest, TimeoutKillsTheWholeProcessGroup) {
    const std::string marker = "1234.5" + std::to_string(::getpid() % 1000);
    auto r = run(spec({"/bin/sh", "-c", "sleep " + marker + " & sleep " + marker + "; echo never"}, 300 * kUsecPerMsec));
    ASSERT_TRUE(r);
    EXPECT_FALSE(r->ok);
    EXPECT_EQ(r->error, "timed out after 300ms, killed");
    spin(200);
    EXPECT_TRUE(with_marker(marker).empty()) << "the command and what it started in the background are gone";
}

TEST_F(ExecProbeTest, ACancelledProbesCommandIsKilledAndReaped) {
    const std::string marker = "2345.6" + std::to_string(::getpid() % 1000);
    bool called = false;
    auto p = prober->start(spec({"/bin/sleep", marker}), [&](Result) { called = true; });
    ASSERT_TRUE(p);
    spin(50);
    auto running = with_marker(marker);
    ASSERT_EQ(running.size(), 1u);
    const pid_t pid = running.front();
    EXPECT_TRUE(prober->owns_child(pid)) << "nobody else may reap it while it is watched";
    p->reset(); // the check was stopped, or the daemon is reloading
    spin(200);
    EXPECT_FALSE(called);
    EXPECT_EQ(proc_state(pid), std::nullopt) << "killed and reaped, no zombie";
    EXPECT_FALSE(prober->owns_child(pid));
}

TEST_F(ExecProbeTest, AMissingCommandIsDownSayingWhy) {
    auto r = run(spec({"/nonexistent/check_thing", "-w"}));
    ASSERT_TRUE(r);
    EXPECT_FALSE(r->ok);
    EXPECT_NE(r->error.find("cannot run /nonexistent/check_thing"), std::string::npos) << r->error;
    EXPECT_NE(r->error.find("No such file or directory"), std::string::npos) << r->error;
}

TEST_F(ExecProbeTest, AFloodOfOutputNeitherBlocksTheCommandNorGrowsWithoutBound) {
    auto r = run(spec({"/bin/sh", "-c", "head -c 20000000 /dev/zero | tr '\\0' x; exit 3"}));
    ASSERT_TRUE(r);
    EXPECT_FALSE(r->ok);
    EXPECT_EQ(r->error.rfind("exited with status 3: xxxx", 0), 0u) << r->error.substr(0, 80);
    EXPECT_LE(r->error.size(), 240u) << "at most 200 bytes of its output";
}

TEST_F(ExecProbeTest, ControlCharactersInOutputAreNotPassedOn) {
    auto r = run(spec({"/bin/sh", "-c", "printf '\\033[31mred\\033[0m\\r\\n'; exit 2"}));
    ASSERT_TRUE(r);
    EXPECT_EQ(r->error, "exited with status 2: [31mred [0m");
}

} // namespace
} // namespace watchd::probe
