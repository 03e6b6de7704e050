// An app's dated log files: the newest instance's files (patrol's layout, month names included), their last
// lines, and what an app could plant there (a symlink to a secret file, a FIFO) is not read.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sys/stat.h>

#include "sys/app_logs.h"

namespace watchd::sys {
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
    void write(const std::string &rel, const std::string &text) {
        fs::create_directories(fs::path(dir_ + "/" + rel).parent_path());
        std::ofstream(dir_ + "/" + rel) << text;
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

TEST_F(LogFiles, TailIsTheLastLinesOfTheNewestInstance) {
    write("2026/may/1/5.stdout.log", "old\n");
    write("2026/may/2/7.stdout.log", "one\ntwo\nthree\n");
    write("2026/may/2/7.stderr.log", "oops\n");
    EXPECT_EQ(tail_newest_logs(dir_, 10), (std::vector<std::string>{"oops", "one", "two", "three"}));
    EXPECT_EQ(tail_newest_logs(dir_, 2), (std::vector<std::string>{"two", "three"}));
    EXPECT_TRUE(tail_newest_logs(dir_ + "/missing", 10).empty());
}

TEST_F(LogFiles, TailReadsOnlyTheEndOfALargeFile) {
    std::string big;
    for (int i = 0; i < 10000; ++i) big += "line " + std::to_string(i) + "\n";
    write("2026/may/2/7.stdmerge.log", big);
    const auto lines = tail_newest_logs(dir_, 1000, 100);
    ASSERT_FALSE(lines.empty());
    EXPECT_LT(lines.size(), 20u); // 100 bytes: a few whole lines, no partial first one
    EXPECT_EQ(lines.back(), "line 9999");
    for (const auto &l : lines) EXPECT_EQ(l.rfind("line ", 0), 0u) << l;
}

TEST_F(LogFiles, SymlinksAndFifosPlantedByTheAppAreNotRead) {
    write("secret", "root's secret\n");
    fs::create_directories(dir_ + "/logs/2026/may/2");
    fs::create_symlink(dir_ + "/secret", dir_ + "/logs/2026/may/2/9.stdout.log");
    ASSERT_EQ(::mkfifo((dir_ + "/logs/2026/may/2/9.stderr.log").c_str(), 0600), 0);
    EXPECT_TRUE(tail_newest_logs(dir_ + "/logs", 10).empty()); // and it did not hang on the FIFO
    // A dated directory that is a symlink is not walked either.
    fs::create_directories(dir_ + "/elsewhere/3");
    write("elsewhere/3/10.stdout.log", "root's secret\n");
    fs::create_directories(dir_ + "/logs/2027");
    fs::create_symlink(dir_ + "/elsewhere", dir_ + "/logs/2027/june");
    EXPECT_TRUE(tail_newest_logs(dir_ + "/logs", 10).empty());
}

} // namespace
} // namespace watchd::sys
