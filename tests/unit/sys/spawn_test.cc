// sys::spawn: the vfork-style clone that starts every app. Real children (reaped here by PID), real files in a
// fresh mkdtemp directory. The failure tests matter most under -Db_sanitize=address (tests/run-sanitizers): every
// child runs on the same static stack, so whatever one child leaves there must not trip the next one, and a
// failed step must come back from spawn() as an error naming the step, never as a started process.
#include <gtest/gtest.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <string>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <vector>

#include "sys/process.h"

namespace watchd::sys {
namespace {

namespace fs = std::filesystem;

bool contains(const std::string &haystack, const std::string &needle) {
    return haystack.find(needle) != std::string::npos;
}

std::string slurp(const std::string &path) {
    std::ifstream f(path);
    return std::string(std::istreambuf_iterator<char>(f), {});
}

// What waitpid says about a spawned child, as text ("exited 0", "killed by signal 9").
std::string wait_for(pid_t pid) {
    int st = 0;
    pid_t r;
    do r = ::waitpid(pid, &st, 0);
    while (r < 0 && errno == EINTR);
    if (r != pid) return std::string("waitpid: ") + std::strerror(errno);
    if (WIFEXITED(st)) return "exited " + std::to_string(WEXITSTATUS(st));
    if (WIFSIGNALED(st)) return "killed by signal " + std::to_string(WTERMSIG(st));
    return "status " + std::to_string(st);
}

// Everything a read end holds once every writer has closed it.
std::string drain(int fd) {
    std::string out;
    char buf[4096];
    for (;;) {
        ssize_t n = ::read(fd, buf, sizeof buf);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        out.append(buf, static_cast<size_t>(n));
    }
    return out;
}

class SpawnTest : public ::testing::Test {
protected:
    void SetUp() override {
        char tmpl[] = "/tmp/watchd-sys-spawn-test.XXXXXX";
        ASSERT_NE(::mkdtemp(tmpl), nullptr) << std::strerror(errno);
        dir_ = tmpl;
    }
    void TearDown() override {
        std::error_code ec;
        if (!dir_.empty()) fs::remove_all(dir_, ec);
    }

    // /bin/sh -c script, in dir_, with a small environment.
    ExecSpec shell(const std::string &script) const {
        ExecSpec s;
        s.path = "/bin/sh";
        s.argv = {"/bin/sh", "-c", script};
        s.envp = {"PATH=/usr/bin:/bin", "WATCHD_SPAWN_TEST=yes"};
        s.working_directory = dir_;
        return s;
    }

    // A spawn that must fail: no process is left behind (the child is reaped inside spawn()), and the error is
    // returned, not a started child.
    base::Error expect_failure(const ExecSpec &s, const std::string &label) {
        auto r = spawn(s);
        if (r) {
            const std::string how = wait_for(r->pid);
            ADD_FAILURE() << label << ": spawn() reported a started child (PID " << r->pid << ", then " << how
                          << ") instead of the failed step";
            return {};
        }
        return r.error();
    }

    std::string dir_;
};

// ------------------------------------------------------------------------------------------------ success

TEST_F(SpawnTest, RunsTheBinaryWithArgvEnvironmentAndWorkingDirectory) {
    const std::string out = dir_ + "/out.txt";
    auto s = shell("printf '%s|%s|%s\\n' \"$(pwd)\" \"$WATCHD_SPAWN_TEST\" \"$0\" > out.txt; exit 7");
    auto r = spawn(s);
    ASSERT_TRUE(r.has_value()) << r.error().message();
    EXPECT_GT(r->pid, 0);
    EXPECT_GE(r->pidfd.get(), 0);
    EXPECT_EQ(wait_for(r->pid), "exited 7");
    EXPECT_EQ(slurp(out), dir_ + "|yes|/bin/sh\n");
}

TEST_F(SpawnTest, ChildGetsStdoutAndStderrFdsAndNothingElse) {
    int out[2], err[2];
    ASSERT_EQ(::pipe2(out, O_CLOEXEC), 0);
    ASSERT_EQ(::pipe2(err, O_CLOEXEC), 0);
    // An fd without O_CLOEXEC must not reach the child either (close_range in the child).
    int leak = ::open("/dev/null", O_RDONLY);
    ASSERT_GE(leak, 0);
    auto s = shell("echo to-out; echo to-err >&2; ls /proc/self/fd | sort -n | tr '\\n' ' ' >&2");
    s.stdout_fd = out[1];
    s.stderr_fd = err[1];
    auto r = spawn(s);
    ::close(out[1]);
    ::close(err[1]);
    ::close(leak);
    ASSERT_TRUE(r.has_value()) << r.error().message();
    const std::string o = drain(out[0]), e = drain(err[0]);
    ::close(out[0]);
    ::close(err[0]);
    EXPECT_EQ(wait_for(r->pid), "exited 0");
    EXPECT_EQ(o, "to-out\n");
    // 0, 1, 2 and the fd ls itself opens on /proc/self/fd (3); nothing of the test's.
    EXPECT_EQ(e, "to-err\n0 1 2 3 ") << "leak fd was " << leak;
}

// ------------------------------------------------------------------------------------------------ failures

TEST_F(SpawnTest, MissingWorkingDirectoryIsAnErrorNamingChdirAndTheDirectory) {
    auto s = shell("exit 0");
    s.working_directory = dir_ + "/missing";
    int err[2];
    ASSERT_EQ(::pipe2(err, O_CLOEXEC), 0);
    s.stderr_fd = err[1];
    base::Error e = expect_failure(s, "chdir to a missing directory");
    ::close(err[1]);
    const std::string said = drain(err[0]);
    ::close(err[0]);
    EXPECT_EQ(e.code, std::errc::no_such_file_or_directory) << e.message();
    EXPECT_EQ(e.where, "chdir") << e.message();
    EXPECT_EQ(e.what, dir_ + "/missing") << e.message();
    EXPECT_FALSE(contains(e.message(), "/bin/sh")) << "names the binary, not the directory: " << e.message();
    EXPECT_TRUE(contains(e.message(), "No such file or directory")) << e.message();
    // What the child wrote to the app's stderr (the journal) names the directory too.
    EXPECT_EQ(said, "watchd: chdir " + dir_ + "/missing: No such file or directory\n");
}

TEST_F(SpawnTest, ExecveOfANonExecutableFileNamesThePath) {
    const std::string path = dir_ + "/not-executable";
    { std::ofstream(path) << "#!/bin/sh\nexit 0\n"; }
    ASSERT_EQ(::chmod(path.c_str(), 0644), 0);
    ExecSpec s;
    s.path = path;
    s.argv = {path};
    s.working_directory = dir_;
    int err[2];
    ASSERT_EQ(::pipe2(err, O_CLOEXEC), 0);
    s.stderr_fd = err[1];
    base::Error e = expect_failure(s, "execve of a 0644 file");
    ::close(err[1]);
    const std::string said = drain(err[0]);
    ::close(err[0]);
    EXPECT_EQ(e.code, std::errc::permission_denied) << e.message();
    EXPECT_EQ(e.where, "execve") << e.message();
    EXPECT_EQ(e.what, path) << e.message();
    EXPECT_EQ(said, "watchd: execve " + path + ": Permission denied\n");
}

TEST_F(SpawnTest, FailedStepIsKnownEvenWhenTheChildDiesWritingItsReport) {
    // stderr is a pipe nobody reads: the child's "watchd: chdir ..." line kills it with SIGPIPE. The step and errno
    // were stored for watchd before that write, so the failure is still reported as chdir, not as a start.
    int err[2];
    ASSERT_EQ(::pipe2(err, O_CLOEXEC), 0);
    ::close(err[0]);
    auto s = shell("exit 0");
    s.working_directory = dir_ + "/missing";
    s.stderr_fd = err[1];
    base::Error e = expect_failure(s, "chdir with a reader-less stderr");
    ::close(err[1]);
    EXPECT_EQ(e.where, "chdir") << e.message();
    EXPECT_EQ(e.code, std::errc::no_such_file_or_directory) << e.message();
}

TEST_F(SpawnTest, BadOutputFdIsAnErrorNamingDup2AndTheFd) {
    auto s = shell("exit 0");
    // A closed fd, well above any spawn() itself opens (a just-closed low number would be reused by it).
    const int fd = 1000;
    ASSERT_EQ(::fcntl(fd, F_GETFD), -1);
    s.stdout_fd = fd;
    base::Error e = expect_failure(s, "dup2 of a closed fd");
    EXPECT_EQ(e.code, std::errc::bad_file_descriptor) << e.message();
    EXPECT_EQ(e.where, "dup2") << e.message();
    EXPECT_TRUE(contains(e.what, "fd " + std::to_string(fd))) << e.message();
}

// The ASan regression: the first failed child leaves its frames' poison on the shared child stack and _exit()s
// without unwinding; the second child then tripped "stack-buffer-overflow ... g_child_stack", died with ASan's
// exit code 1 before it could say which step failed, and spawn() took it for a started app.
TEST_F(SpawnTest, TwoFailedSpawnsInARowThenAGoodOne) {
    auto bad = shell("exit 0");
    bad.working_directory = dir_ + "/missing";
    for (int i = 1; i <= 2; ++i) {
        base::Error e = expect_failure(bad, "failed spawn #" + std::to_string(i));
        EXPECT_EQ(e.where, "chdir") << "#" << i << ": " << e.message();
        EXPECT_EQ(e.code, std::errc::no_such_file_or_directory) << "#" << i << ": " << e.message();
    }
    auto good = spawn(shell("exit 3"));
    ASSERT_TRUE(good.has_value()) << good.error().message();
    EXPECT_EQ(wait_for(good->pid), "exited 3");
}

TEST_F(SpawnTest, ManySpawnsInALoopEachReportedRight) {
    const std::string noexec = dir_ + "/noexec";
    { std::ofstream(noexec) << "data\n"; }
    ASSERT_EQ(::chmod(noexec.c_str(), 0644), 0);
    auto missing = shell("exit 0");
    missing.working_directory = dir_ + "/missing";
    ExecSpec denied;
    denied.path = noexec;
    denied.argv = {noexec};
    ExecSpec ok;
    ok.path = "/bin/true";
    ok.argv = {"/bin/true"};
    ok.working_directory = dir_;
    // Failures of different steps back to back and between successes: each child starts on whatever the one
    // before left on the stack.
    for (int i = 0; i < 150; ++i) {
        SCOPED_TRACE("round " + std::to_string(i));
        switch (i % 5) {
        case 0:
        case 1: {
            base::Error e = expect_failure(missing, "chdir");
            ASSERT_EQ(e.where, "chdir") << e.message();
            break;
        }
        case 2: {
            base::Error e = expect_failure(denied, "execve");
            ASSERT_EQ(e.where, "execve") << e.message();
            ASSERT_EQ(e.code, std::errc::permission_denied) << e.message();
            break;
        }
        default: {
            auto r = spawn(ok);
            ASSERT_TRUE(r.has_value()) << r.error().message();
            ASSERT_EQ(wait_for(r->pid), "exited 0");
        }
        }
    }
}

// --------------------------------------------------------------------------------------------- RLIMIT_NOFILE

// Sets the soft RLIMIT_NOFILE for the test and puts the original back afterwards.
class NofileTest : public SpawnTest {
protected:
    void SetUp() override {
        SpawnTest::SetUp();
        ASSERT_EQ(::getrlimit(RLIMIT_NOFILE, &saved_), 0);
        saved_ok_ = true;
    }
    void TearDown() override {
        if (saved_ok_) {
            EXPECT_EQ(::setrlimit(RLIMIT_NOFILE, &saved_), 0) << std::strerror(errno);
        }
        SpawnTest::TearDown();
    }
    // The child's soft limit as `ulimit -Sn` prints it.
    std::string child_soft_limit(const ExecSpec &s) {
        auto r = spawn(s);
        if (!r) return "spawn failed: " + r.error().message();
        const std::string how = wait_for(r->pid);
        if (how != "exited 0") return "child " + how;
        std::string v = slurp(dir_ + "/nofile");
        while (!v.empty() && v.back() == '\n') v.pop_back();
        return v;
    }
    struct rlimit saved_ {};
    bool saved_ok_ = false;
};

TEST_F(NofileTest, ChildGetsTheRequestedSoftLimitNotWatchdsRaisedOne) {
    struct rlimit raised = saved_;
    raised.rlim_cur = raised.rlim_max; // what watchd does at start-up
    ASSERT_EQ(::setrlimit(RLIMIT_NOFILE, &raised), 0) << std::strerror(errno);
    const rlim_t want = raised.rlim_max > 1024 ? 1024 : raised.rlim_max / 2;
    ASSERT_GT(want, 0u);
    ASSERT_NE(want, raised.rlim_cur);

    auto s = shell("ulimit -Sn > nofile");
    s.nofile_soft = want;
    EXPECT_EQ(child_soft_limit(s), std::to_string(want));

    // The hard limit is the child's to raise the soft one to again; watchd's own limits are untouched.
    auto h = shell("ulimit -Hn > nofile");
    h.nofile_soft = want;
    EXPECT_EQ(child_soft_limit(h), raised.rlim_max == RLIM_INFINITY ? "unlimited" : std::to_string(raised.rlim_max));
    struct rlimit now {};
    ASSERT_EQ(::getrlimit(RLIMIT_NOFILE, &now), 0);
    EXPECT_EQ(now.rlim_cur, raised.rlim_cur);
    EXPECT_EQ(now.rlim_max, raised.rlim_max);

    // Left unset: the child inherits watchd's limit as it is.
    auto keep = shell("ulimit -Sn > nofile");
    EXPECT_FALSE(keep.nofile_soft.has_value());
    EXPECT_EQ(child_soft_limit(keep),
              raised.rlim_cur == RLIM_INFINITY ? "unlimited" : std::to_string(raised.rlim_cur));
}

TEST_F(NofileTest, SoftLimitAboveTheHardLimitIsAnErrorNamingTheLimit) {
    if (saved_.rlim_max == RLIM_INFINITY) GTEST_SKIP() << "no finite hard limit";
    auto s = shell("exit 0");
    s.nofile_soft = saved_.rlim_max + 1;
    base::Error e = expect_failure(s, "soft limit above the hard limit");
    EXPECT_EQ(e.where, "setrlimit") << e.message();
    EXPECT_EQ(e.code, std::errc::invalid_argument) << e.message();
    EXPECT_TRUE(contains(e.what, "RLIMIT_NOFILE " + std::to_string(saved_.rlim_max + 1))) << e.message();
}

} // namespace
} // namespace watchd::sys
