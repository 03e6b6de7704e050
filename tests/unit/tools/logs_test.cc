// watchctl logs: the newest log files of a log-directory app (patrol's dated layout, month names included), and
// the journalctl/tail command lines.
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <filesystem>

#include "tools/logs.h"

namespace watchd::tools {
namespace {

namespace fs = std::filesystem;

class LogFiles : public ::testing::Test {
protected:
    void SetUp() override {
        char tmpl[] = "/tmp/watchctl-logs-XXXXXX";
        ASSERT_NE(mkdtemp(tmpl), nullptr);
        dir_ = tmpl;
    }
    void TearDown() override { fs::remove_all(dir_); }
    void touch(const std::string &rel) {
        fs::create_directories(fs::path(dir_ + "/" + rel).parent_path());
        std::ofstream(dir_ + "/" + rel) << "x\n";
    }
    std::string dir_;
};

TEST_F(LogFiles, NewestInstanceOfTheNewestDay) {
    touch("2025/december/31/1767225599000000000.stdout.log");
    touch("2026/february/3/1770100000000000000.stdout.log");
    touch("2026/february/3/1770100000000000000.stderr.log");
    touch("2026/february/3/999.stdout.log"); // fewer digits: older
    touch("2026/january/30/1769800000000000000.stdout.log");
    touch("2026/february/3/notes.txt");
    EXPECT_EQ(newest_log_files(dir_),
              (std::vector<std::string>{dir_ + "/2026/february/3/1770100000000000000.stderr.log",
                                        dir_ + "/2026/february/3/1770100000000000000.stdout.log"}));
}

TEST_F(LogFiles, MonthsByTheCalendarAndDaysByNumber) {
    touch("2026/march/9/1.stdmerge.log");
    touch("2026/march/10/2.stdmerge.log");
    touch("2026/december/1/3.stdmerge.log");
    EXPECT_EQ(newest_log_files(dir_), std::vector<std::string>{dir_ + "/2026/december/1/3.stdmerge.log"});
}

TEST_F(LogFiles, AnEmptyNewerDayIsSkipped) {
    touch("2026/may/1/5.stdout.log");
    fs::create_directories(dir_ + "/2026/may/2");
    EXPECT_EQ(newest_log_files(dir_), std::vector<std::string>{dir_ + "/2026/may/1/5.stdout.log"});
    EXPECT_TRUE(newest_log_files(dir_ + "/missing").empty());
}

TEST(LogsCommand, JournalOrTail) {
    UnitInfo u;
    u.kind = "app", u.id = "web";
    Args a;
    EXPECT_EQ(logs_command(u, a, {}), (std::vector<std::string>{"journalctl", "WATCHD_ID=web"}));
    a.follow = true, a.lines = 5, a.json = true;
    EXPECT_EQ(logs_command(u, a, {}),
              (std::vector<std::string>{"journalctl", "WATCHD_ID=web", "-n", "5", "-f", "-o", "json"}));
    EXPECT_EQ(logs_command(u, a, {"/l/1.stdout.log"}),
              (std::vector<std::string>{"tail", "-n", "5", "-F", "--", "/l/1.stdout.log"}));
    Args whole;
    EXPECT_EQ(logs_command(u, whole, {"/l/1.stdout.log", "/l/1.stderr.log"}),
              (std::vector<std::string>{"tail", "-n", "+1", "--", "/l/1.stdout.log", "/l/1.stderr.log"}));
}

} // namespace
} // namespace watchd::tools
