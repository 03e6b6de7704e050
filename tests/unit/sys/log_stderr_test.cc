// sys::log to stderr never blocks. fd 2 of this test process is pointed (dup2) at a pipe, a FIFO or a socket that
// nobody reads, then restored. 10,000 log calls must return promptly, the overflow must be dropped and counted,
// and once a reader drains the fd and flush() runs, the output must be whole lines in order followed by one
// "N messages dropped" line whose N accounts for every missing line. fd 2's own file status flags (shared with
// whoever gave us fd 2) must be untouched: watchd writes through a description of its own.
#include <gtest/gtest.h>

#include <chrono>
#include <csignal>
#include <cstdlib>
#include <fcntl.h>
#include <regex>
#include <string>
#include <sys/socket.h>
#include <sys/stat.h>
#include <syslog.h>
#include <unistd.h>
#include <vector>

#include "sys/log.h"

namespace watchd::sys {
namespace {

constexpr int kCalls = 10000;

// Points fd 2 at fd for the test's lifetime; restores it and re-initialises logging on the way out, so the
// logger lets go of the test's pipe.
class StderrTo {
public:
    explicit StderrTo(int fd) : saved_(::dup(STDERR_FILENO)) { ::dup2(fd, STDERR_FILENO); }
    ~StderrTo() {
        log::set_backlog_handler({});
        ::dup2(saved_, STDERR_FILENO);
        ::close(saved_);
        log::init(log::Target::Stderr, LOG_INFO, "", log::kJournalSocket, log::Style::Journal);
    }

private:
    int saved_;
};

std::string flood_line(int i) { // ~100 bytes, numbered
    return "flood " + std::to_string(i) + " " + std::string(90, 'x');
}

// Reads everything rfd (non-blocking) holds, calling log::flush() between reads, until nothing is queued.
std::string drain(int rfd) {
    std::string out;
    char buf[65536];
    auto read_all = [&] {
        for (ssize_t n; (n = ::read(rfd, buf, sizeof buf)) > 0;) out.append(buf, static_cast<size_t>(n));
    };
    for (int round = 0; round < 100000; ++round) {
        read_all();
        log::flush();
        if (log::backlog_fd() < 0) {
            read_all();
            return out;
        }
    }
    ADD_FAILURE() << "the backlog never drained";
    return out;
}

std::vector<std::string> split_lines(const std::string &s) {
    std::vector<std::string> lines;
    size_t start = 0;
    for (size_t nl; (nl = s.find('\n', start)) != std::string::npos; start = nl + 1)
        lines.push_back(s.substr(start, nl - start));
    EXPECT_EQ(start, s.size()) << "the output ends in half a line";
    return lines;
}

class LogStderr : public ::testing::Test {
protected:
    void SetUp() override { std::signal(SIGPIPE, SIG_IGN); }

    // Floods a destination that nobody reads (write_fd, read back through read_fd) and checks the whole story.
    void flood_and_drain(int write_fd, int read_fd) {
        ASSERT_EQ(::fcntl(read_fd, F_SETFL, ::fcntl(read_fd, F_GETFL) | O_NONBLOCK), 0);
        const int flags_before = ::fcntl(write_fd, F_GETFL);
        ASSERT_FALSE(flags_before & O_NONBLOCK);
        StderrTo redirect(write_fd);
        log::init(log::Target::Stderr, LOG_INFO, "", log::kJournalSocket, log::Style::Journal);
        int backlog_started = 0;
        log::set_backlog_handler([&] { ++backlog_started; });

        ::alarm(20); // a write that blocks would hang here forever: kill the test instead
        const auto t0 = std::chrono::steady_clock::now();
        for (int i = 0; i < kCalls; ++i) log::daemon(LOG_INFO, flood_line(i));
        const auto took = std::chrono::steady_clock::now() - t0;
        ::alarm(0);
        EXPECT_LT(took, std::chrono::seconds(2)) << "log calls waited for the full destination";

        EXPECT_EQ(backlog_started, 1) << "the loop is told once that a backlog started";
        const int fd = log::backlog_fd();
        ASSERT_GE(fd, 0) << "a full destination leaves a backlog";
        EXPECT_GT(log::dropped_total(), 0u);
        EXPECT_EQ(::fcntl(STDERR_FILENO, F_GETFL), flags_before) << "fd 2's shared file status flags changed";
        EXPECT_EQ(::fcntl(write_fd, F_GETFL), flags_before);

        const std::vector<std::string> lines = split_lines(drain(read_fd));
        ASSERT_FALSE(lines.empty());
        // Lines 0..k-1 whole and in order (drops happen only once the queue is full, so none in between), then
        // exactly one notice whose count accounts for the rest.
        const std::regex notice(R"(<4>watchd: (\d+) messages dropped: .*)");
        std::smatch m;
        const std::string last = lines.back();
        ASSERT_TRUE(std::regex_match(last, m, notice)) << "last line: " << last.substr(0, 200);
        const unsigned long dropped = std::stoul(m[1]);
        for (size_t i = 0; i + 1 < lines.size(); ++i)
            ASSERT_EQ(lines[i], "<6>watchd: " + flood_line(static_cast<int>(i))) << "line " << i;
        EXPECT_EQ(lines.size() - 1 + dropped, static_cast<size_t>(kCalls));
        EXPECT_EQ(dropped, log::dropped_total());
        EXPECT_EQ(log::backlog_fd(), -1);

        // Once drained, the next line is written at once, with no further notice.
        log::daemon(LOG_INFO, "after");
        EXPECT_EQ(drain(read_fd), "<6>watchd: after\n");
        EXPECT_EQ(::fcntl(STDERR_FILENO, F_GETFL), flags_before);
    }
};

TEST_F(LogStderr, FullPipeNeverBlocksAndCountsDrops) {
    int p[2];
    ASSERT_EQ(::pipe2(p, O_CLOEXEC), 0);
    flood_and_drain(p[1], p[0]);
    ::close(p[0]);
    ::close(p[1]);
}

TEST_F(LogStderr, FullFifoNeverBlocksAndCountsDrops) {
    char dir[] = "/tmp/watchd-log-fifo-XXXXXX";
    ASSERT_NE(::mkdtemp(dir), nullptr);
    const std::string path = std::string(dir) + "/fifo";
    ASSERT_EQ(::mkfifo(path.c_str(), 0600), 0);
    const int r = ::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    const int w = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
    ASSERT_GE(r, 0);
    ASSERT_GE(w, 0);
    flood_and_drain(w, r);
    ::close(r);
    ::close(w);
    ::unlink(path.c_str());
    ::rmdir(dir);
}

TEST_F(LogStderr, FullSocketNeverBlocksAndCountsDrops) {
    int s[2];
    ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, s), 0);
    int small = 4096;
    ::setsockopt(s[1], SOL_SOCKET, SO_SNDBUF, &small, sizeof small);
    flood_and_drain(s[1], s[0]);
    ::close(s[0]);
    ::close(s[1]);
}

// Lines longer than PIPE_BUF are written in parts: what is left of a line must go out before any other line.
TEST_F(LogStderr, PartialWritesNeverInterleaveLines) {
    int p[2];
    ASSERT_EQ(::pipe2(p, O_CLOEXEC), 0);
    ASSERT_GT(::fcntl(p[1], F_SETPIPE_SZ, 4096), 0); // one page: almost every long line is cut
    ASSERT_EQ(::fcntl(p[0], F_SETFL, O_NONBLOCK), 0);
    {
        StderrTo redirect(p[1]);
        log::init(log::Target::Stderr, LOG_INFO, "", log::kJournalSocket, log::Style::Journal);
        std::string expected;
        for (int i = 0; i < 60; ++i) { // 30 long and 30 short lines, ~300 KiB: queued whole, nothing dropped
            std::string text = i % 2 ? "short " + std::to_string(i) : std::string(10000, char('a' + i % 26));
            log::daemon(LOG_INFO, text);
            expected += "<6>watchd: " + text + "\n";
        }
        EXPECT_GE(log::backlog_fd(), 0);
        EXPECT_EQ(drain(p[0]), expected);
        EXPECT_EQ(log::dropped_total(), 0u);
    }
    ::close(p[0]);
    ::close(p[1]);
}

// A regular file is written as it is: it never blocks for long, so nothing is queued or dropped.
TEST_F(LogStderr, RegularFileGetsEveryLine) {
    char path[] = "/tmp/watchd-log-file-XXXXXX";
    const int fd = ::mkstemp(path);
    ASSERT_GE(fd, 0);
    {
        StderrTo redirect(fd);
        log::init(log::Target::Stderr, LOG_INFO, "", log::kJournalSocket, log::Style::Journal);
        for (int i = 0; i < kCalls; ++i) log::daemon(LOG_INFO, flood_line(i));
        EXPECT_EQ(log::backlog_fd(), -1);
        EXPECT_EQ(log::dropped_total(), 0u);
    }
    struct stat st {};
    ASSERT_EQ(::fstat(fd, &st), 0);
    size_t expected = 0;
    for (int i = 0; i < kCalls; ++i) expected += ("<6>watchd: " + flood_line(i) + "\n").size();
    EXPECT_EQ(static_cast<size_t>(st.st_size), expected);
    ::close(fd);
    ::unlink(path);
}

// Level and filter apply to watchd's own lines; apps' output is never filtered.
TEST_F(LogStderr, LevelAndFilter) {
    int p[2];
    ASSERT_EQ(::pipe2(p, O_CLOEXEC), 0);
    ASSERT_EQ(::fcntl(p[0], F_SETFL, O_NONBLOCK), 0);
    {
        StderrTo redirect(p[1]);
        log::init(log::Target::Stderr, LOG_NOTICE, "web", log::kJournalSocket, log::Style::Journal);
        log::daemon(LOG_INFO, "web: too verbose");
        log::daemon(LOG_ERR, "db: filtered out");
        log::daemon(LOG_ERR, "web: shown");
        log::unit(LOG_NOTICE, {"app", "web", "started", "", "", 0, {}, {}}, "started");
        log::app_line("db", 42, "", LOG_INFO, "app output");
        EXPECT_EQ(drain(p[0]), "<3>watchd: web: shown\n<5>app web: started\n<6>db[42]: app output\n");
    }
    ::close(p[0]);
    ::close(p[1]);
}

} // namespace
} // namespace watchd::sys
