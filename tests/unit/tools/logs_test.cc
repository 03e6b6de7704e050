// watchctl logs: the journalctl/tail command lines.
#include <gtest/gtest.h>

#include "tools/logs.h"

namespace watchd::tools {
namespace {

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
