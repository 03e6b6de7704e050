// PID-file checks of sys/process: read_pid_file, check_pid_file_age, verify_pid_binary, check_executable.
// Real child processes (fork + exec, killed and reaped by the test) and real files in a fresh mkdtemp directory.
#include <gtest/gtest.h>

#include <cerrno>
#include <climits>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <vector>

#include "sys/proc_info.h"
#include "sys/process.h"

namespace watchd::sys {
namespace {

namespace fs = std::filesystem;

bool contains(const std::string &haystack, const std::string &needle) {
    return haystack.find(needle) != std::string::npos;
}

// Key words are looked for in what went wrong only: the message also holds the path, which could contain them.
template <class R> const std::string &what(const R &r) { return r.error().what; }

std::string real_path(const std::string &p) {
    char buf[PATH_MAX];
    return ::realpath(p.c_str(), buf) ? std::string(buf) : std::string();
}

// sys::process_start_time (tested against ps below), -1 when it fails.
double start_time(pid_t pid) {
    auto r = process_start_time(pid);
    return r ? *r : -1;
}

// Owns a child process by its PID: the destructor SIGKILLs and reaps it, by its PID only.
class Reaped {
public:
    Reaped() = default;
    Reaped(const Reaped &) = delete;
    Reaped &operator=(const Reaped &) = delete;
    ~Reaped() {
        if (pid_ > 0) {
            ::kill(pid_, SIGKILL);
            ::waitpid(pid_, nullptr, 0);
        }
    }
    pid_t pid() const { return pid_; }

protected:
    pid_t pid_ = -1;
};

// A child running `path` with the given argv (argv[0] included). The constructor returns once the child has
// exec'ed (a close-on-exec pipe reaches EOF).
class Child : public Reaped {
public:
    Child(const std::string &path, const std::vector<std::string> &argv) {
        int p[2];
        if (::pipe2(p, O_CLOEXEC) < 0) {
            ADD_FAILURE() << "pipe2: " << std::strerror(errno);
            return;
        }
        std::vector<char *> args;
        for (const auto &a : argv) args.push_back(const_cast<char *>(a.c_str()));
        args.push_back(nullptr);
        pid_ = ::fork();
        if (pid_ == 0) {
            ::close(p[0]);
            ::execv(path.c_str(), args.data());
            int err = errno;
            (void)!::write(p[1], &err, sizeof err);
            ::_exit(127);
        }
        ::close(p[1]);
        if (pid_ < 0) {
            ADD_FAILURE() << "fork: " << std::strerror(errno);
            ::close(p[0]);
            return;
        }
        int err = 0;
        ssize_t n;
        do n = ::read(p[0], &err, sizeof err);
        while (n < 0 && errno == EINTR);
        ::close(p[0]);
        if (n > 0) {
            ADD_FAILURE() << "exec " << path << ": " << std::strerror(err);
            ::waitpid(pid_, nullptr, 0);
            pid_ = -1;
        }
    }
};

// A PID that names no process: a child of ours that has exited and been reaped.
pid_t dead_pid() {
    pid_t pid = ::fork();
    if (pid == 0) ::_exit(0);
    if (pid > 0) ::waitpid(pid, nullptr, 0);
    return pid;
}

// A fresh mkdtemp directory under /tmp, removed afterwards.
class ProcessTest : public ::testing::Test {
protected:
    void SetUp() override {
        char tmpl[] = "/tmp/watchd-sys-process-test.XXXXXX";
        ASSERT_NE(::mkdtemp(tmpl), nullptr) << std::strerror(errno);
        dir_ = tmpl;
    }
    void TearDown() override {
        if (!dir_.empty()) {
            std::error_code ec;
            fs::remove_all(dir_, ec);
        }
    }

    // Writes content (bytes as given, embedded NULs included) to dir/name and returns the path.
    std::string write_file(const std::string &name, const std::string &content, mode_t mode = 0644) {
        std::string path = dir_ + "/" + name;
        int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
        EXPECT_GE(fd, 0) << path << ": " << std::strerror(errno);
        if (fd < 0) return path;
        EXPECT_EQ(::write(fd, content.data(), content.size()), static_cast<ssize_t>(content.size()));
        ::fchmod(fd, mode);
        ::close(fd);
        return path;
    }

    // Sets the mtime of path to `sec` (whole seconds, tv_nsec 0) and checks it took.
    static void set_mtime(const std::string &path, time_t sec) {
        struct timespec ts[2];
        ts[0].tv_sec = 0;
        ts[0].tv_nsec = UTIME_OMIT;
        ts[1].tv_sec = sec;
        ts[1].tv_nsec = 0;
        ASSERT_EQ(::utimensat(AT_FDCWD, path.c_str(), ts, 0), 0) << std::strerror(errno);
        struct stat st {};
        ASSERT_EQ(::stat(path.c_str(), &st), 0);
        ASSERT_EQ(st.st_mtim.tv_sec, sec);
    }

    // A PID file naming pid, with mtime `sec`.
    std::string pid_file(pid_t pid, time_t sec) {
        std::string path = write_file("app.pid", std::to_string(pid) + "\n");
        set_mtime(path, sec);
        return path;
    }

    // A PID value that is not ours (the self-PID guard must not interfere).
    static pid_t other_pid(pid_t wanted) { return wanted == ::getpid() ? wanted + 1 : wanted; }

    std::string dir_;
};

// ---------------------------------------------------------------------------------------------- read_pid_file

TEST_F(ProcessTest, ReadPidFileAcceptsPlainPid) {
    const pid_t want = other_pid(4242);
    auto r = read_pid_file(write_file("a.pid", std::to_string(want)));
    ASSERT_TRUE(r.has_value()) << r.error().message();
    EXPECT_EQ(*r, want);
}

TEST_F(ProcessTest, ReadPidFileTrimsSurroundingWhiteSpace) {
    const std::string p = std::to_string(other_pid(4242));
    // Leading only, trailing only and both: each side's trimming is needed on its own.
    for (const std::string &content : {"  " + p + "\n", "\t " + p, p + "\n", p + " \r\n\n", "\n\v\f " + p + "\t\n"}) {
        auto r = read_pid_file(write_file("ws.pid", content));
        ASSERT_TRUE(r.has_value()) << '"' << content << "\": " << r.error().message();
        EXPECT_EQ(*r, other_pid(4242)) << '"' << content << '"';
    }
}

TEST_F(ProcessTest, ReadPidFileParsesEveryDigitAndTheRangeEnds) {
    // 2 is the lowest possible PID, 4194304 (PID_MAX_LIMIT) the highest; the others hold every digit 0-9.
    for (pid_t want : {2, 10, 1234567, 4089, 4194304}) {
        if (want == ::getpid()) continue;
        auto r = read_pid_file(write_file("d.pid", std::to_string(want) + "\n"));
        ASSERT_TRUE(r.has_value()) << want << ": " << r.error().message();
        EXPECT_EQ(*r, want);
    }
}

TEST_F(ProcessTest, ReadPidFileRefusesOwnPid) {
    const std::string path = write_file("self.pid", std::to_string(::getpid()) + "\n");
    auto r = read_pid_file(path);
    ASSERT_FALSE(r.has_value()) << "accepted watchd's own PID " << *r;
    EXPECT_TRUE(contains(what(r), "itself")) << r.error().message();
    EXPECT_TRUE(contains(r.error().message(), path)) << r.error().message();
}

TEST_F(ProcessTest, ReadPidFileRefusesImpossiblePids) {
    for (const char *content : {"0", "1", "1\n", "00", "4194305", "4194305\n"}) {
        auto r = read_pid_file(write_file("imp.pid", content));
        ASSERT_FALSE(r.has_value()) << '"' << content << "\" accepted as " << *r;
        EXPECT_TRUE(contains(what(r), "impossible PID")) << content << ": " << r.error().message();
    }
}

TEST_F(ProcessTest, ReadPidFileRefusesHugeNumbersWithoutOverflow) {
    // 2^64 + 4242 and 2^64 + 2: if the in-loop bound were dropped, the long long would wrap to a valid PID.
    for (const char *content : {"18446744073709555858", "18446744073709551618", "41943040", "99999999999999999999999"}) {
        auto r = read_pid_file(write_file("huge.pid", content));
        ASSERT_FALSE(r.has_value()) << '"' << content << "\" accepted as " << *r;
        EXPECT_TRUE(contains(what(r), "PID")) << r.error().message();
    }
}

TEST_F(ProcessTest, ReadPidFileRefusesGarbage) {
    using namespace std::string_literals;
    for (const std::string &content :
         {"12a"s, "abc"s, "-5"s, "+5"s, "4 2"s, "0x10"s, "42\n43"s, "4242\0"s, "12.0"s, "\xff\xfe"s, "42/"s, "42:"s}) {
        auto r = read_pid_file(write_file("bad.pid", content));
        ASSERT_FALSE(r.has_value()) << '"' << content << "\" accepted as " << *r;
        EXPECT_TRUE(contains(what(r), "does not hold a PID")) << content << ": " << r.error().message();
    }
}

TEST_F(ProcessTest, ReadPidFileRefusesEmptyAndBlank) {
    for (const char *content : {"", "   ", "\n", " \t\n\n"}) {
        auto r = read_pid_file(write_file("blank.pid", content));
        ASSERT_FALSE(r.has_value()) << '"' << content << "\" accepted as " << *r;
        EXPECT_TRUE(contains(what(r), "empty")) << '"' << content << "\": " << r.error().message();
    }
}

TEST_F(ProcessTest, ReadPidFileRefusesTooLongContent) {
    const std::string p = std::to_string(other_pid(4242));
    // 64 bytes (the read buffer's size) and far more: refused even though a valid PID is inside.
    for (size_t len : {size_t(64), size_t(65), size_t(4096)}) {
        std::string content = p + std::string(len - p.size(), ' ');
        auto r = read_pid_file(write_file("big.pid", content));
        ASSERT_FALSE(r.has_value()) << len << " bytes accepted as " << *r;
        EXPECT_TRUE(contains(what(r), "too long")) << len << ": " << r.error().message();
    }
    // 63 bytes still fit.
    auto r = read_pid_file(write_file("big.pid", std::string(63 - p.size(), ' ') + p));
    ASSERT_TRUE(r.has_value()) << r.error().message();
    EXPECT_EQ(*r, other_pid(4242));
}

TEST_F(ProcessTest, ReadPidFileMissingFileIsAnError) {
    const std::string path = dir_ + "/missing.pid";
    auto r = read_pid_file(path);
    ASSERT_FALSE(r.has_value()) << "accepted as " << *r;
    EXPECT_EQ(r.error().code, std::errc::no_such_file_or_directory) << r.error().message();
    EXPECT_TRUE(contains(what(r), "cannot open")) << r.error().message();
    EXPECT_TRUE(contains(r.error().message(), path)) << r.error().message();
}

TEST_F(ProcessTest, ReadPidFileDirectoryIsAReadError) {
    // open(O_RDONLY) succeeds on a directory; read() fails with EISDIR.
    auto r = read_pid_file(dir_);
    ASSERT_FALSE(r.has_value()) << "accepted as " << *r;
    EXPECT_EQ(r.error().code, std::errc::is_a_directory) << r.error().message();
    EXPECT_TRUE(contains(what(r), "cannot read")) << r.error().message();
}

// ------------------------------------------------------------------------------------------ check_pid_file_age

TEST_F(ProcessTest, PidFileAgeRefusesFileOlderThanProcess) {
    Child child("/bin/sleep", {"/bin/sleep", "100"});
    ASSERT_GT(child.pid(), 0);
    const std::string path = pid_file(child.pid(), ::time(nullptr) - 3600);
    auto r = check_pid_file_age(path, child.pid());
    ASSERT_FALSE(r.has_value()) << "a PID file written an hour before its process started was accepted";
    const std::string m = r.error().message();
    EXPECT_TRUE(contains(what(r), "reused PID")) << m;
    EXPECT_TRUE(contains(what(r), "started after")) << m;
    EXPECT_TRUE(contains(m, std::to_string(child.pid()))) << m;
}

TEST_F(ProcessTest, PidFileAgeAcceptsFileWrittenAfterProcessStarted) {
    Child child("/bin/sleep", {"/bin/sleep", "100"});
    ASSERT_GT(child.pid(), 0);
    // Written now (after the fork) and written an hour after the start: both name the app.
    for (time_t mtime : {::time(nullptr), ::time(nullptr) + 3600}) {
        const std::string path = pid_file(child.pid(), mtime);
        auto r = check_pid_file_age(path, child.pid());
        EXPECT_TRUE(r.has_value()) << "mtime " << mtime << ": " << r.error().message();
    }
}

TEST_F(ProcessTest, ProcessStartTimeAgreesWithPs) {
    Child child("/bin/sleep", {"/bin/sleep", "100"});
    ASSERT_GT(child.pid(), 0);
    ::sleep(2); // so that a start time of "now" would be visibly wrong
    const double started = start_time(child.pid());
    // ps's elapsed seconds, read independently: the start is now minus that, to within a second or so.
    std::string cmd = "ps -o etimes= -p " + std::to_string(child.pid());
    FILE *ps = ::popen(cmd.c_str(), "r");
    ASSERT_NE(ps, nullptr);
    long elapsed = -1;
    ASSERT_EQ(std::fscanf(ps, "%ld", &elapsed), 1);
    ::pclose(ps);
    const double expected = double(::time(nullptr) - elapsed);
    EXPECT_GE(elapsed, 2);
    EXPECT_NEAR(started, expected, 1.5) << "ps says " << elapsed << " s ago";
    auto gone = process_start_time(dead_pid());
    ASSERT_FALSE(gone.has_value());
    EXPECT_TRUE(contains(what(gone), "not running")) << gone.error().message();
}

TEST_F(ProcessTest, PidFileAgeSlackIsTwoSeconds) {
    Child child("/bin/sleep", {"/bin/sleep", "100"});
    ASSERT_GT(child.pid(), 0);
    const double started = start_time(child.pid());
    ASSERT_GT(started, 0) << "cannot read the start time of PID " << child.pid();
    const auto s = static_cast<time_t>(started); // floor: started is in [s, s + 1)

    // 1 s before the start (and the start's own second): within the 2 s slack, accepted.
    for (time_t mtime : {s - 1, s}) {
        auto r = check_pid_file_age(pid_file(child.pid(), mtime), child.pid());
        EXPECT_TRUE(r.has_value()) << "mtime = start " << (mtime - s) << " s (start " << started
                                   << "): " << r.error().message();
    }
    // 2 s before the start's second: the start lies more than 2 s after the file unless it fell on a whole second
    // (then PidFileAgeSlackBoundaryIsExclusive covers it).
    if (started > double(s)) {
        auto r = check_pid_file_age(pid_file(child.pid(), s - 2), child.pid());
        ASSERT_FALSE(r.has_value()) << "mtime = start - 2 s (start " << started << ") accepted: slack above 2 s";
        EXPECT_TRUE(contains(what(r), "reused PID")) << r.error().message();
    }
    // 3 s, 10 s and an hour before the start: beyond the slack, refused.
    for (time_t mtime : {s - 3, s - 10, s - 3600}) {
        auto r = check_pid_file_age(pid_file(child.pid(), mtime), child.pid());
        ASSERT_FALSE(r.has_value()) << "mtime = start " << (mtime - s) << " s (start " << started
                                    << ") accepted";
        EXPECT_TRUE(contains(what(r), "reused PID")) << r.error().message();
    }
}

// A child that only waits to be killed; its start time (what check_pid_file_age reads) is its fork.
class PausedChild : public Reaped {
public:
    PausedChild() {
        pid_ = ::fork();
        if (pid_ == 0)
            for (;;) ::pause();
    }
};

TEST_F(ProcessTest, PidFileAgeSlackBoundaryIsExclusive) {
    // A process that started on a whole second S (starttime a multiple of the clock tick rate): a file with mtime
    // S - 2 is exactly at the slack's edge and accepted, S - 3 is beyond it. Forks until a child lands on one;
    // a fork takes far less than a tick, so about every tick rate-th child does.
    const long hz = ::sysconf(_SC_CLK_TCK);
    ASSERT_GT(hz, 0);
    std::unique_ptr<PausedChild> child;
    double started = -1;
    const time_t give_up = ::time(nullptr) + 20;
    while (::time(nullptr) < give_up) {
        auto c = std::make_unique<PausedChild>();
        ASSERT_GT(c->pid(), 0) << std::strerror(errno);
        started = start_time(c->pid());
        ASSERT_GT(started, 0);
        if (started == double(static_cast<time_t>(started))) {
            child = std::move(c);
            break;
        }
        if (::time(nullptr) + 1 < give_up) ::usleep(static_cast<useconds_t>(1000000 / hz / 3)); // sample each tick
    }
    ASSERT_TRUE(child) << "no child started on a whole second within 20 s";
    const auto s = static_cast<time_t>(started);

    auto edge = check_pid_file_age(pid_file(child->pid(), s - 2), child->pid());
    EXPECT_TRUE(edge.has_value()) << "start " << started << ", mtime start - 2 s: " << edge.error().message();
    auto beyond = check_pid_file_age(pid_file(child->pid(), s - 3), child->pid());
    ASSERT_FALSE(beyond.has_value()) << "start " << started << ", mtime start - 3 s accepted";
    EXPECT_TRUE(contains(what(beyond), "reused PID")) << beyond.error().message();
}

TEST_F(ProcessTest, PidFileAgeFindsStartTimeWhenCommandNameHoldsParenAndSpace) {
    // /proc/<pid>/stat reads "<pid> (a) b) S ...": the fields count from the last ')'.
    const std::string link = dir_ + "/a) b";
    ASSERT_EQ(::symlink("/bin/sleep", link.c_str()), 0) << std::strerror(errno);
    Child child(link, {link, "100"});
    ASSERT_GT(child.pid(), 0);
    std::ifstream comm("/proc/" + std::to_string(child.pid()) + "/comm");
    std::string name;
    std::getline(comm, name);
    ASSERT_EQ(name, "a) b");

    auto old = check_pid_file_age(pid_file(child.pid(), ::time(nullptr) - 3600), child.pid());
    ASSERT_FALSE(old.has_value()) << "an hour-old PID file was accepted for a process named \"a) b\"";
    EXPECT_TRUE(contains(what(old), "reused PID")) << old.error().message();

    auto fresh = check_pid_file_age(pid_file(child.pid(), ::time(nullptr)), child.pid());
    EXPECT_TRUE(fresh.has_value()) << fresh.error().message();
}

TEST_F(ProcessTest, PidFileAgeProcessNotRunningIsAnError) {
    const pid_t pid = dead_pid();
    ASSERT_GT(pid, 0);
    ASSERT_EQ(::kill(pid, 0), -1);
    ASSERT_EQ(errno, ESRCH);
    auto r = check_pid_file_age(pid_file(pid, ::time(nullptr)), pid);
    ASSERT_FALSE(r.has_value()) << "PID " << pid << " does not run, yet the check passed";
    EXPECT_TRUE(contains(what(r), "not running")) << r.error().message();
    EXPECT_TRUE(contains(r.error().message(), std::to_string(pid))) << r.error().message();
}

TEST_F(ProcessTest, PidFileAgeMissingFileIsAnError) {
    Child child("/bin/sleep", {"/bin/sleep", "100"});
    ASSERT_GT(child.pid(), 0);
    auto r = check_pid_file_age(dir_ + "/missing.pid", child.pid());
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error().code, std::errc::no_such_file_or_directory) << r.error().message();
    EXPECT_TRUE(contains(what(r), "cannot stat")) << r.error().message();
}

// ------------------------------------------------------------------------------------------ verify_pid_binary

TEST_F(ProcessTest, VerifyPidBinaryMatchesSleep) {
    Child child("/bin/sleep", {"/bin/sleep", "100"});
    ASSERT_GT(child.pid(), 0);
    const std::string real = real_path("/bin/sleep");
    ASSERT_FALSE(real.empty());
    auto r = verify_pid_binary(child.pid(), real); // /proc/<pid>/exe
    EXPECT_TRUE(r.has_value()) << r.error().message();
    auto r2 = verify_pid_binary(child.pid(), "/bin/sleep"); // argv[0] (== exe too without merged /usr)
    EXPECT_TRUE(r2.has_value()) << r2.error().message();
}

TEST_F(ProcessTest, VerifyPidBinaryRefusesOtherBinary) {
    Child child("/bin/sleep", {"/bin/sleep", "100"});
    ASSERT_GT(child.pid(), 0);
    auto r = verify_pid_binary(child.pid(), "/bin/true");
    ASSERT_FALSE(r.has_value()) << "a sleep process verified as /bin/true";
    const std::string m = r.error().message();
    EXPECT_TRUE(contains(m, "/bin/true")) << m;
    EXPECT_TRUE(contains(m, real_path("/bin/sleep"))) << m; // what it runs: /proc/<pid>/exe
    EXPECT_TRUE(contains(m, std::to_string(child.pid()))) << m;
    EXPECT_TRUE(contains(m, "pid-verify")) << m;
}

TEST_F(ProcessTest, VerifyPidBinaryUsesExeWhenArgv0Differs) {
    // argv[0] names nothing like the binary: only /proc/<pid>/exe can match.
    Child child("/bin/sleep", {"napper", "100"});
    ASSERT_GT(child.pid(), 0);
    auto r = verify_pid_binary(child.pid(), real_path("/bin/sleep"));
    EXPECT_TRUE(r.has_value()) << r.error().message();
    auto bad = verify_pid_binary(child.pid(), real_path("/bin/true"));
    EXPECT_FALSE(bad.has_value());
}

TEST_F(ProcessTest, VerifyPidBinaryAcceptsDeletedBinary) {
    // An upgraded binary: /proc/<pid>/exe reads "<path> (deleted)" once the file is gone.
    const std::string copy = dir_ + "/sleep-copy";
    fs::copy_file(real_path("/bin/sleep"), copy);
    ASSERT_EQ(::chmod(copy.c_str(), 0755), 0);
    Child child(copy, {"napper", "100"});
    ASSERT_GT(child.pid(), 0);
    ASSERT_EQ(::unlink(copy.c_str()), 0);
    char exe[PATH_MAX] = {};
    ASSERT_GT(::readlink(("/proc/" + std::to_string(child.pid()) + "/exe").c_str(), exe, sizeof exe - 1), 0);
    ASSERT_EQ(std::string(exe), copy + " (deleted)");
    auto r = verify_pid_binary(child.pid(), copy);
    EXPECT_TRUE(r.has_value()) << r.error().message();
    auto bad = verify_pid_binary(child.pid(), dir_ + "/sleep-cop");
    EXPECT_FALSE(bad.has_value());
}

TEST_F(ProcessTest, VerifyPidBinaryMatchesArgv0) {
    // exe is sleep, argv[0] is the full binary path (an interpreter-started app, say).
    Child full("/bin/sleep", {"/opt/app/bin/mydaemon", "100"});
    ASSERT_GT(full.pid(), 0);
    auto r = verify_pid_binary(full.pid(), "/opt/app/bin/mydaemon");
    EXPECT_TRUE(r.has_value()) << r.error().message();

    // argv[0] is the base name only: matches a binary path ending in "/<argv0>", not any suffix.
    Child base("/bin/sleep", {"mydaemon", "100"});
    ASSERT_GT(base.pid(), 0);
    auto rb = verify_pid_binary(base.pid(), "/opt/app/bin/mydaemon");
    EXPECT_TRUE(rb.has_value()) << rb.error().message();
    auto suffix = verify_pid_binary(base.pid(), "/opt/app/bin/notmydaemon");
    ASSERT_FALSE(suffix.has_value()) << "argv[0] \"mydaemon\" matched /opt/app/bin/notmydaemon";
    EXPECT_TRUE(contains(suffix.error().message(), "/opt/app/bin/notmydaemon")) << suffix.error().message();
    auto other = verify_pid_binary(base.pid(), "/opt/app/bin/otherdaemon");
    EXPECT_FALSE(other.has_value());
}

TEST_F(ProcessTest, VerifyPidBinaryEmptyArgv0MatchesNothing) {
    Child child("/bin/sleep", {"", "100"});
    ASSERT_GT(child.pid(), 0);
    // An empty argv[0] would "end" any path with a '/'; it must not match.
    auto r = verify_pid_binary(child.pid(), "/opt/app/bin/");
    EXPECT_FALSE(r.has_value()) << "an empty argv[0] matched /opt/app/bin/";
}

TEST_F(ProcessTest, VerifyPidBinaryProcessNotRunning) {
    const pid_t pid = dead_pid();
    ASSERT_GT(pid, 0);
    auto r = verify_pid_binary(pid, "/bin/sleep");
    ASSERT_FALSE(r.has_value());
    EXPECT_TRUE(contains(r.error().message(), "/bin/sleep")) << r.error().message();
    EXPECT_TRUE(contains(r.error().message(), std::to_string(pid))) << r.error().message();
}

// ------------------------------------------------------------------------------------------- check_executable

TEST_F(ProcessTest, CheckExecutableAcceptsBinSh) {
    auto r = check_executable("/bin/sh"); // a symlink to an executable: stat() follows it
    EXPECT_TRUE(r.has_value()) << r.error().message();
    const std::string script = write_file("run.sh", "#!/bin/sh\nexit 0\n", 0755);
    auto r2 = check_executable(script);
    EXPECT_TRUE(r2.has_value()) << r2.error().message();
}

TEST_F(ProcessTest, CheckExecutableRefusesDirectory) {
    for (const std::string &d : {dir_, std::string("/bin")}) {
        auto r = check_executable(d);
        ASSERT_FALSE(r.has_value()) << d << " accepted as an executable";
        EXPECT_TRUE(contains(what(r), "not a regular file")) << r.error().message();
        EXPECT_TRUE(contains(r.error().message(), d)) << r.error().message();
    }
    // A symlink to a directory too.
    const std::string link = dir_ + "/dirlink";
    ASSERT_EQ(::symlink(dir_.c_str(), link.c_str()), 0);
    auto r = check_executable(link);
    ASSERT_FALSE(r.has_value());
    EXPECT_TRUE(contains(what(r), "not a regular file")) << r.error().message();
}

TEST_F(ProcessTest, CheckExecutableRefusesNonExecutableFile) {
    // No execute bit at all: refused even for root.
    const std::string path = write_file("data.bin", "#!/bin/sh\nexit 0\n", 0644);
    auto r = check_executable(path);
    ASSERT_FALSE(r.has_value()) << path << " (0644) accepted as an executable";
    EXPECT_TRUE(contains(what(r), "not executable")) << r.error().message();
    EXPECT_TRUE(contains(r.error().message(), path)) << r.error().message();
    EXPECT_EQ(r.error().code, std::errc::permission_denied) << r.error().message();
}

TEST_F(ProcessTest, CheckExecutableRefusesMissingPath) {
    const std::string path = dir_ + "/no-such-binary";
    auto r = check_executable(path);
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error().code, std::errc::no_such_file_or_directory) << r.error().message();
    EXPECT_TRUE(contains(what(r), "cannot run")) << r.error().message();
    EXPECT_TRUE(contains(r.error().message(), path)) << r.error().message();
    // A dangling symlink is missing too.
    const std::string link = dir_ + "/dangling";
    ASSERT_EQ(::symlink(path.c_str(), link.c_str()), 0);
    EXPECT_FALSE(check_executable(link).has_value());
}

} // namespace
} // namespace watchd::sys
