// How watchd's stderr lines look: "<N>" only for journald's stream, timestamps otherwise, colour on a terminal;
// the display name beside the id where an instance starts.
#include <gtest/gtest.h>

#include <cstdlib>
#include <fcntl.h>
#include <regex>
#include <string>
#include <sys/stat.h>
#include <syslog.h>
#include <unistd.h>

#include "sys/log.h"

namespace watchd::sys {
namespace {

// fd 2 into a pipe for one test; restored (and logging re-initialised) afterwards.
class Captured : public ::testing::Test {
protected:
    int p_[2] = {-1, -1};
    int saved_ = -1;
    void SetUp() override {
        saved_ = ::dup(STDERR_FILENO);
        ASSERT_EQ(::pipe2(p_, O_CLOEXEC), 0);
        ::fcntl(p_[0], F_SETFL, O_NONBLOCK);
        ::dup2(p_[1], STDERR_FILENO);
    }
    void TearDown() override {
        ::unsetenv("JOURNAL_STREAM");
        ::dup2(saved_, STDERR_FILENO);
        ::close(saved_);
        log::init(log::Target::Stderr, LOG_INFO, "");
        ::close(p_[0]);
        ::close(p_[1]);
    }
    std::string read() {
        log::flush();
        std::string out;
        char buf[4096];
        for (ssize_t n; (n = ::read(p_[0], buf, sizeof buf)) > 0;) out.append(buf, static_cast<size_t>(n));
        return out;
    }
};

TEST_F(Captured, PlainLinesHaveADateAndNoPriorityPrefix) {
    log::init(log::Target::Stderr, LOG_INFO, ""); // a pipe, not journald's stream: Plain
    log::daemon(LOG_INFO, "hello");
    log::daemon(LOG_WARNING, "careful");
    log::daemon(LOG_ERR, "broken");
    log::app_line("web", 42, "", LOG_INFO, "app says hi");
    const std::string out = read();
    const std::string ts = R"(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3})";
    EXPECT_TRUE(std::regex_search(out, std::regex("^" + ts + " watchd: hello\n" + ts + " warning: watchd: careful\n" +
                                                  ts + " error: watchd: broken\n" + ts + R"( web\[42\]: app says hi\n$)")))
        << out;
    EXPECT_EQ(out.find('<'), std::string::npos);
    EXPECT_EQ(out.find('\033'), std::string::npos) << "no colour outside a terminal";
}

TEST_F(Captured, JournaldsStreamGetsPriorityPrefixesOnly) {
    struct stat st {};
    ASSERT_EQ(::fstat(STDERR_FILENO, &st), 0);
    ::setenv("JOURNAL_STREAM", (std::to_string(st.st_dev) + ":" + std::to_string(st.st_ino)).c_str(), 1);
    log::init(log::Target::Stderr, LOG_INFO, "");
    log::daemon(LOG_WARNING, "careful");
    EXPECT_EQ(read(), "<4>watchd: careful\n");
    ::setenv("JOURNAL_STREAM", "1:2", 1); // another stream: not ours
    log::init(log::Target::Stderr, LOG_INFO, "");
    log::daemon(LOG_WARNING, "careful");
    EXPECT_NE(read().find(" warning: watchd: careful"), std::string::npos);
}

TEST_F(Captured, TerminalLinesAreColouredByPriority) {
    log::init(log::Target::Stderr, LOG_DEBUG, "", log::kJournalSocket, log::Style::Terminal);
    log::daemon(LOG_ERR, "broken");
    log::daemon(LOG_INFO, "fine");
    const std::string out = read();
    EXPECT_NE(out.find("\033[1;31mwatchd: broken\033[0m\n"), std::string::npos) << out;
    EXPECT_TRUE(std::regex_search(out, std::regex("\033\\[2m\\d\\d:\\d\\d:\\d\\d\\.\\d{3}\033\\[0m watchd: fine\n"))) << out;
}

TEST_F(Captured, TheDisplayNameIsShownBesideTheId) {
    log::init(log::Target::Stderr, LOG_INFO, "", log::kJournalSocket, log::Style::Journal);
    log::unit(LOG_INFO, {"app", "web", "started", "", "", 42, "Web server", {}}, "started, pid 42");
    log::unit(LOG_INFO, {"app", "db", "started", "", "", 43, "db", {}}, "started, pid 43");
    EXPECT_EQ(read(), "<6>app web (Web server): started, pid 42\n<6>app db: started, pid 43\n");
}

} // namespace
} // namespace watchd::sys
