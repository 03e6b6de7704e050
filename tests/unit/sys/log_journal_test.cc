// sys::log's own sender of journald's native protocol, pointed at a datagram socket of the test's own. What
// arrives is parsed here independently of the sender: the fields are exactly today's, a value with a newline
// comes in the binary-safe form, a receiver that does not read never blocks the sender (drops are counted and
// reported in an entry of their own), an oversized MESSAGE is shortened rather than lost. And without a journal
// (issue 13 item 6) the lines go to stderr, which is told once that the journal is missing.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <fcntl.h>
#include <optional>
#include <regex>
#include <string>
#include <sys/socket.h>
#include <sys/un.h>
#include <syslog.h>
#include <unistd.h>
#include <utility>
#include <vector>

#include "sys/log.h"

namespace watchd::sys {
namespace {

using Fields = std::vector<std::pair<std::string, std::string>>;

// Parses one native-protocol datagram: "KEY=value\n" or "KEY\n" + le64 size + value + "\n" per field.
Fields parse(const std::string &d) {
    Fields f;
    size_t i = 0;
    while (i < d.size()) {
        size_t stop = d.find_first_of("=\n", i);
        if (stop == std::string::npos) {
            ADD_FAILURE() << "field without '=' or newline at " << i;
            return f;
        }
        std::string key = d.substr(i, stop - i);
        if (d[stop] == '=') {
            size_t nl = d.find('\n', stop + 1);
            if (nl == std::string::npos) {
                ADD_FAILURE() << "unterminated field " << key;
                return f;
            }
            f.emplace_back(key, d.substr(stop + 1, nl - stop - 1));
            i = nl + 1;
        } else {
            if (stop + 9 > d.size()) {
                ADD_FAILURE() << "short binary field " << key;
                return f;
            }
            uint64_t n = 0;
            for (int b = 7; b >= 0; --b) n = (n << 8) | static_cast<unsigned char>(d[stop + 1 + b]);
            size_t begin = stop + 9;
            if (begin + n + 1 > d.size() || d[begin + n] != '\n') {
                ADD_FAILURE() << "bad binary field " << key;
                return f;
            }
            f.emplace_back(key, d.substr(begin, n));
            i = begin + n + 1;
        }
    }
    return f;
}

Fields sorted(Fields f) {
    std::sort(f.begin(), f.end());
    return f;
}

std::string value(const Fields &f, const std::string &key) {
    for (const auto &[k, v] : f)
        if (k == key) return v;
    return "<absent>";
}

// A datagram socket in a fresh directory, standing in for /run/systemd/journal/socket.
class Receiver {
public:
    Receiver() {
        char tmpl[] = "/tmp/watchd-log-journal-XXXXXX";
        dir_ = ::mkdtemp(tmpl);
        path_ = dir_ + "/socket";
        bind_new();
    }
    ~Receiver() {
        ::close(fd_);
        ::unlink(path_.c_str());
        ::rmdir(dir_.c_str());
    }
    const std::string &path() const { return path_; }
    int fd() const { return fd_; }

    // Replaces the socket at the same path (journald restarted).
    void bind_new() {
        if (fd_ >= 0) ::close(fd_);
        ::unlink(path_.c_str());
        fd_ = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        sockaddr_un sa{};
        sa.sun_family = AF_UNIX;
        path_.copy(sa.sun_path, sizeof sa.sun_path - 1);
        if (::bind(fd_, reinterpret_cast<sockaddr *>(&sa), sizeof sa) != 0) ADD_FAILURE() << "bind " << path_;
    }

    // One datagram, whatever its size; nullopt when none is waiting.
    std::optional<std::string> recv_raw() {
        ssize_t n = ::recv(fd_, nullptr, 0, MSG_PEEK | MSG_TRUNC);
        if (n < 0) return std::nullopt;
        std::string d(static_cast<size_t>(n), '\0');
        if (::recv(fd_, d.data(), d.size(), 0) != n) ADD_FAILURE() << "short recv";
        return d;
    }
    std::vector<Fields> recv_all() {
        std::vector<Fields> all;
        while (auto d = recv_raw()) all.push_back(parse(*d));
        return all;
    }

private:
    std::string dir_, path_;
    int fd_ = -1;
};

// Points fd 2 at a pipe for the test's lifetime (to see what reaches stderr), then restores it.
class StderrPipe {
public:
    StderrPipe() : saved_(::dup(STDERR_FILENO)) {
        if (::pipe2(p_, O_CLOEXEC) != 0) ADD_FAILURE() << "pipe2";
        ::fcntl(p_[0], F_SETFL, O_NONBLOCK);
        ::dup2(p_[1], STDERR_FILENO);
    }
    ~StderrPipe() {
        log::set_backlog_handler({});
        ::dup2(saved_, STDERR_FILENO);
        ::close(saved_);
        log::init(log::Target::Stderr, LOG_INFO, "");
        ::close(p_[0]);
        ::close(p_[1]);
    }
    std::string read() {
        std::string out;
        char buf[65536];
        for (ssize_t n; (n = ::read(p_[0], buf, sizeof buf)) > 0;) out.append(buf, static_cast<size_t>(n));
        return out;
    }

private:
    int saved_;
    int p_[2] = {-1, -1};
};

class LogJournal : public ::testing::Test {
protected:
    void SetUp() override { std::signal(SIGPIPE, SIG_IGN); }
    StderrPipe err_; // nothing may reach stderr when the journal is there (not a terminal: no mirror)
    Receiver journal_;
};

TEST_F(LogJournal, UnitEntryHasExactlyTodaysFields) {
    log::init(log::Target::Journal, LOG_DEBUG, "", journal_.path());
    log::unit(LOG_NOTICE, {"app", "web", "started", "39f53479d3a045ac8e11786248231fbf", "inst-7", 4242, {}, {}},
              "started, pid 4242");
    log::unit(LOG_ERR, {"check", "db", "error", "", "", 0, {}, {}}, "no answer");
    log::unit(LOG_WARNING, {"app", "web", "exited", "", "", 4242, {}, 1520000}, "exited with status 3");
    auto got = journal_.recv_all();
    ASSERT_EQ(got.size(), 3u);
    // The exit of an instance carries the CPU time it used.
    EXPECT_EQ(sorted(got[2]), sorted({{"MESSAGE", "web: exited with status 3"},
                                      {"PRIORITY", "4"},
                                      {"SYSLOG_IDENTIFIER", "watchd"},
                                      {"WATCHD_KIND", "app"},
                                      {"WATCHD_ID", "web"},
                                      {"WATCHD_EVENT", "exited"},
                                      {"WATCHD_PID", "4242"},
                                      {"WATCHD_CPU_USEC", "1520000"}}));
    EXPECT_EQ(sorted(got[0]), sorted({{"MESSAGE", "web: started, pid 4242"},
                                      {"PRIORITY", "5"},
                                      {"SYSLOG_IDENTIFIER", "watchd"},
                                      {"WATCHD_KIND", "app"},
                                      {"WATCHD_ID", "web"},
                                      {"WATCHD_EVENT", "started"},
                                      {"MESSAGE_ID", "39f53479d3a045ac8e11786248231fbf"},
                                      {"WATCHD_INSTANCE", "inst-7"},
                                      {"WATCHD_PID", "4242"}}));
    // Without a message id, instance or pid those fields are left out.
    EXPECT_EQ(sorted(got[1]), sorted({{"MESSAGE", "db: no answer"},
                                      {"PRIORITY", "3"},
                                      {"SYSLOG_IDENTIFIER", "watchd"},
                                      {"WATCHD_KIND", "check"},
                                      {"WATCHD_ID", "db"},
                                      {"WATCHD_EVENT", "error"}}));
    EXPECT_EQ(err_.read(), "");
}

TEST_F(LogJournal, DaemonAndAppLineEntries) {
    log::init(log::Target::Journal, LOG_INFO, "", journal_.path());
    log::daemon(LOG_WARNING, "reloading");
    log::daemon(LOG_DEBUG, "below --log-level: not sent");
    log::app_line("ticker", 99, "inst-1", LOG_INFO, "tick 1");
    log::app_line("ticker", 99, "", LOG_ERR, "oops");
    auto got = journal_.recv_all();
    ASSERT_EQ(got.size(), 3u);
    EXPECT_EQ(sorted(got[0]), sorted({{"MESSAGE", "reloading"}, {"PRIORITY", "4"}, {"SYSLOG_IDENTIFIER", "watchd"}}));
    EXPECT_EQ(sorted(got[1]), sorted({{"MESSAGE", "tick 1"},
                                      {"PRIORITY", "6"},
                                      {"SYSLOG_IDENTIFIER", "ticker"},
                                      {"WATCHD_ID", "ticker"},
                                      {"SYSLOG_PID", "99"},
                                      {"WATCHD_KIND", "app"},
                                      {"WATCHD_INSTANCE", "inst-1"}}));
    EXPECT_EQ(sorted(got[2]), sorted({{"MESSAGE", "oops"},
                                      {"PRIORITY", "3"},
                                      {"SYSLOG_IDENTIFIER", "ticker"},
                                      {"WATCHD_ID", "ticker"},
                                      {"SYSLOG_PID", "99"},
                                      {"WATCHD_KIND", "app"}}));
    EXPECT_EQ(err_.read(), "");
}

TEST_F(LogJournal, NewlineValueUsesBinaryForm) {
    log::init(log::Target::Journal, LOG_INFO, "", journal_.path());
    log::daemon(LOG_ERR, "two\nlines");
    auto raw = journal_.recv_raw();
    ASSERT_TRUE(raw);
    const std::string binary = std::string("MESSAGE\n") + std::string("\x09\0\0\0\0\0\0\0", 8) + "two\nlines\n";
    EXPECT_NE(raw->find(binary), std::string::npos) << "no binary-safe MESSAGE in: " << *raw;
    EXPECT_EQ(raw->find("MESSAGE=two"), std::string::npos);
    EXPECT_EQ(value(parse(*raw), "MESSAGE"), "two\nlines");
    EXPECT_NE(raw->find("PRIORITY=3\n"), std::string::npos); // values without a newline stay in the text form
}

// The receiver never reads: its queue fills at once (net.unix.max_dgram_qlen datagrams), every further send
// would block. The calls must not wait; the overflow is queued (bounded), then dropped and counted.
TEST_F(LogJournal, ReceiverThatDoesNotReadNeverBlocks) {
    int small = 1024;
    ::setsockopt(journal_.fd(), SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
    log::init(log::Target::Journal, LOG_INFO, "", journal_.path());
    int backlog_started = 0;
    log::set_backlog_handler([&] { ++backlog_started; });

    constexpr int kCalls = 10000;
    ::alarm(20); // a send that blocks would hang here forever: kill the test instead
    const auto t0 = std::chrono::steady_clock::now();
    for (int i = 0; i < kCalls; ++i) log::app_line("chatty", 7, "", LOG_INFO, "line " + std::to_string(i));
    const auto took = std::chrono::steady_clock::now() - t0;
    ::alarm(0);
    EXPECT_LT(took, std::chrono::seconds(2));
    EXPECT_EQ(backlog_started, 1);
    ASSERT_GE(log::backlog_fd(), 0);
    EXPECT_NE(log::backlog_fd(), STDERR_FILENO); // the journal socket
    EXPECT_GT(log::dropped_total(), 0u);

    std::vector<Fields> got;
    for (int round = 0; round < 100000 && log::backlog_fd() >= 0; ++round) {
        for (auto &f : journal_.recv_all()) got.push_back(std::move(f));
        log::flush();
    }
    for (auto &f : journal_.recv_all()) got.push_back(std::move(f));
    ASSERT_EQ(log::backlog_fd(), -1);
    ASSERT_FALSE(got.empty());

    // Lines 0..k-1 in order, then one notice at warning priority whose count accounts for the rest.
    const Fields &last = got.back();
    std::smatch m;
    const std::string msg = value(last, "MESSAGE");
    ASSERT_TRUE(std::regex_match(msg, m, std::regex(R"((\d+) messages dropped: .*)"))) << msg;
    EXPECT_EQ(value(last, "PRIORITY"), "4");
    EXPECT_EQ(value(last, "SYSLOG_IDENTIFIER"), "watchd");
    const unsigned long dropped = std::stoul(m[1]);
    for (size_t i = 0; i + 1 < got.size(); ++i) {
        ASSERT_EQ(value(got[i], "MESSAGE"), "line " + std::to_string(i));
        ASSERT_EQ(value(got[i], "WATCHD_ID"), "chatty");
    }
    EXPECT_EQ(got.size() - 1 + dropped, static_cast<size_t>(kCalls));
    EXPECT_EQ(dropped, log::dropped_total());
    EXPECT_EQ(err_.read(), "");
}

// Bigger than any datagram the kernel takes: the entry still arrives, with MESSAGE shortened and marked.
TEST_F(LogJournal, OversizedMessageIsShortenedNotLost) {
    log::init(log::Target::Journal, LOG_INFO, "", journal_.path());
    std::string huge(24 << 20, 'h');
    huge.replace(0, 6, "start:");
    log::daemon(LOG_ERR, huge);
    auto got = journal_.recv_all();
    ASSERT_EQ(got.size(), 1u);
    const std::string msg = value(got[0], "MESSAGE");
    EXPECT_LT(msg.size(), huge.size());
    EXPECT_EQ(msg.substr(0, 6), "start:");
    EXPECT_NE(msg.find("[truncated, " + std::to_string(huge.size()) + " bytes in all]"), std::string::npos);
    EXPECT_EQ(value(got[0], "PRIORITY"), "3");
    EXPECT_EQ(value(got[0], "SYSLOG_IDENTIFIER"), "watchd");
    EXPECT_EQ(log::dropped_total(), 0u);
}

// journald restarted without socket activation: a new socket at the same path. The sender connects again.
TEST_F(LogJournal, ReconnectsToAReplacedSocket) {
    log::init(log::Target::Journal, LOG_INFO, "", journal_.path());
    log::daemon(LOG_INFO, "before");
    ASSERT_EQ(journal_.recv_all().size(), 1u);
    journal_.bind_new();
    log::daemon(LOG_INFO, "after");
    auto got = journal_.recv_all();
    ASSERT_EQ(got.size(), 1u);
    EXPECT_EQ(value(got[0], "MESSAGE"), "after");
    EXPECT_EQ(log::dropped_total(), 0u);
}

// Issue 13 item 6: --log-target journal without a journal printed nothing at all, even a fatal error.
TEST_F(LogJournal, JournalTargetWithoutSocketFallsBackToStderr) {
    const std::string missing = journal_.path() + ".absent";
    log::init(log::Target::Journal, LOG_INFO, "", missing, log::Style::Journal);
    log::daemon(LOG_ERR, "watchd.json: /apps/web/binary: required");
    log::daemon(LOG_INFO, "second line");
    EXPECT_EQ(err_.read(), "<4>watchd: no journal (" + missing + ": No such file or directory), logging to stderr\n"
                           "<3>watchd: watchd.json: /apps/web/binary: required\n"
                           "<6>watchd: second line\n");
    EXPECT_TRUE(journal_.recv_all().empty());
}

TEST_F(LogJournal, JournalTargetWithDeadSocketFallsBackToStderr) {
    // A socket file nobody listens on any more: connect() is refused.
    Receiver stale;
    const std::string path = stale.path() + "2";
    {
        int fd = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        sockaddr_un sa{};
        sa.sun_family = AF_UNIX;
        path.copy(sa.sun_path, sizeof sa.sun_path - 1);
        ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr *>(&sa), sizeof sa), 0);
        ::close(fd);
    }
    log::init(log::Target::Journal, LOG_INFO, "", path, log::Style::Journal);
    log::daemon(LOG_CRIT, "fatal");
    EXPECT_EQ(err_.read(), "<4>watchd: no journal (" + path + ": Connection refused), logging to stderr\n"
                           "<2>watchd: fatal\n");
    ::unlink(path.c_str());
}

// Auto without a journal is the ordinary run by hand: stderr, without a word about the journal.
TEST_F(LogJournal, AutoWithoutSocketUsesStderrQuietly) {
    log::init(log::Target::Auto, LOG_INFO, "", journal_.path() + ".absent", log::Style::Journal);
    log::daemon(LOG_INFO, "hello");
    EXPECT_EQ(err_.read(), "<6>watchd: hello\n");
}

TEST_F(LogJournal, AutoWithSocketUsesTheJournal) {
    log::init(log::Target::Auto, LOG_INFO, "", journal_.path());
    log::daemon(LOG_INFO, "hello");
    auto got = journal_.recv_all();
    ASSERT_EQ(got.size(), 1u);
    EXPECT_EQ(value(got[0], "MESSAGE"), "hello");
    EXPECT_EQ(err_.read(), ""); // stderr is a pipe, not a terminal: no mirror
}

} // namespace
} // namespace watchd::sys
