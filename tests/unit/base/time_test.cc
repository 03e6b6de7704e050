// Durations ("1m30s", bare seconds) and UUIDv4 strings.
#include <gtest/gtest.h>

#include <regex>
#include <set>
#include <sys/wait.h>
#include <unistd.h>

#include "base/time.h"
#include "base/uuid.h"

namespace watchd::base {
namespace {

TEST(Duration, Parses) {
    EXPECT_EQ(parse_duration("15"), 15 * kUsecPerSec);
    EXPECT_EQ(parse_duration("0"), 0u);
    EXPECT_EQ(parse_duration("250ms"), 250 * kUsecPerMsec);
    EXPECT_EQ(parse_duration("1m30s"), 90 * kUsecPerSec);
    EXPECT_EQ(parse_duration("1min 30s"), 90 * kUsecPerSec);
    EXPECT_EQ(parse_duration("1.5s"), 1500 * kUsecPerMsec);
    EXPECT_EQ(parse_duration("2h"), 7200 * kUsecPerSec);
    EXPECT_EQ(parse_duration("10us"), 10u);
}

TEST(Duration, RejectsGarbage) {
    for (const char *bad : {"", "s", "5x", "-1", "1 2", "5s10", "abc", "1e3"})
        EXPECT_FALSE(parse_duration(bad).has_value()) << bad;
}

TEST(Duration, FormatsReadably) {
    EXPECT_EQ(format_duration(0), "0");
    EXPECT_EQ(format_duration(100 * kUsecPerMsec), "100ms");
    EXPECT_EQ(format_duration(1500 * kUsecPerMsec), "1.5s");
    EXPECT_EQ(format_duration(90 * kUsecPerSec), "1min 30s");
    EXPECT_EQ(format_duration(30 * kUsecPerSec), "30s");
    EXPECT_EQ(format_duration(kUsecInfinity), "infinity");
}

TEST(Uuid, IsVersion4AndUnique) {
    const std::regex v4("^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$");
    std::set<std::string> seen;
    for (int i = 0; i < 1000; ++i) {
        auto u = uuid_v4();
        EXPECT_TRUE(std::regex_match(u, v4)) << u;
        seen.insert(u);
    }
    EXPECT_EQ(seen.size(), 1000u);
}

// Ids come from a pool of random bytes: a forked child must not hand out the ones its parent will.
TEST(Uuid, AForkedChildDoesNotRepeatItsParentsIds) {
    uuid_v4(); // the pool is filled and partly used
    int fds[2];
    ASSERT_EQ(pipe(fds), 0);
    const pid_t pid = fork();
    if (pid == 0) {
        const std::string u = uuid_v4();
        _exit(write(fds[1], u.data(), u.size()) == static_cast<ssize_t>(u.size()) ? 0 : 1);
    }
    ASSERT_GT(pid, 0);
    char buf[36];
    ASSERT_EQ(read(fds[0], buf, sizeof buf), 36);
    waitpid(pid, nullptr, 0);
    close(fds[0]);
    close(fds[1]);
    EXPECT_NE(std::string(buf, sizeof buf), uuid_v4());
}

} // namespace
} // namespace watchd::base
