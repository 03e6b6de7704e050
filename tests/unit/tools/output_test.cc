// watchctl's tables and formats: widths, colour only when asked, systemd-style durations, JSON escaping, and the
// status/list/history renderings.
#include <gtest/gtest.h>

#include "tools/output.h"

namespace watchd::tools {
namespace {

constexpr std::uint64_t kSec = 1000000;

TEST(Table, ColumnsSizedToTheWidestCellInCharacters) {
    Table t{{"A", "NAME", "X"}, {{{"1"}, {"caf\xc3\xa9"}, {"y"}}, {{"22"}, {"b"}, {"z"}}}};
    EXPECT_EQ(render(t, false), "A   NAME  X\n1   caf\xc3\xa9  y\n22  b     z\n");
    EXPECT_EQ(render(t, false, false), "1   caf\xc3\xa9  y\n22  b     z\n");
}

TEST(Table, ColourCodesDoNotCountTowardsWidths) {
    Table t{{"STATE", "PID"}, {{{"running", state_color("running")}, {"1"}}, {{"failed", state_color("failed")}, {"2"}}}};
    EXPECT_EQ(render(t, true), "\033[1mSTATE\033[0m    \033[1mPID\033[0m\n"
                               "\033[32mrunning\033[0m  1\n"
                               "\033[1;31mfailed\033[0m   2\n");
    EXPECT_EQ(render(t, false).find('\033'), std::string::npos);
    EXPECT_EQ(state_color("inactive"), nullptr);
    EXPECT_STREQ(state_color("auto-restart"), "33"); // the name watchd gives its Backoff state
    EXPECT_STREQ(state_color("unavailable"), "33");
}

TEST(Formats, Uptime) {
    const std::uint64_t now = 1000000 * kSec;
    EXPECT_EQ(format_uptime(0, now), "-");
    EXPECT_EQ(format_uptime(now + kSec, now), "-");
    EXPECT_EQ(format_uptime(now - 42 * kSec, now), "42s");
    EXPECT_EQ(format_uptime(now - 192 * kSec, now), "3min 12s");
    EXPECT_EQ(format_uptime(now - 180 * kSec, now), "3min");
    EXPECT_EQ(format_uptime(now - (2 * 3600 + 300 + 9) * kSec, now), "2h 5min");
    EXPECT_EQ(format_uptime(now - (4 * 86400 + 3 * 3600) * kSec, now), "4d 3h");
}

TEST(Formats, BytesAndCpu) {
    EXPECT_EQ(format_bytes(UINT64_MAX), "-");
    EXPECT_EQ(format_bytes(800), "800B");
    EXPECT_EQ(format_bytes(512 * 1024), "512K");
    EXPECT_EQ(format_bytes(5 * 1024 * 1024 / 2), "2.5M");
    EXPECT_EQ(format_bytes(3ULL << 30), "3.0G");
    EXPECT_EQ(format_cpu(UINT64_MAX), "-");
    EXPECT_EQ(format_cpu(0), "0.00s");
    EXPECT_EQ(format_cpu(1520000000ULL), "1.52s");
    EXPECT_EQ(format_cpu(12345000000ULL), "12.3s");
    EXPECT_EQ(format_cpu(184000000000ULL), "3min 4s");
}

TEST(Formats, ExitAndJson) {
    EXPECT_EQ(format_exit(-1, 0), "-");
    EXPECT_EQ(format_exit(0, 0), "exit 0");
    EXPECT_EQ(format_exit(3, 0), "exit 3");
    EXPECT_EQ(format_exit(-1, 9), "SIGKILL");
    EXPECT_EQ(format_exit(-1, 15), "SIGTERM");
    EXPECT_EQ(json_string("a\"b\\c\n\x01\xc3\xa9"), "\"a\\\"b\\\\c\\n\\u0001\xc3\xa9\"");
    EXPECT_EQ(format_time(0), "-");
}

std::vector<UnitInfo> sample() {
    std::vector<UnitInfo> v(2);
    v[0].kind = "app", v[0].id = "web", v[0].name = "Web", v[0].state = "running", v[0].active_state = "active";
    v[0].pid = 4242, v[0].started = 900 * kSec, v[0].restarts = 2, v[0].last_signal = 9;
    v[0].path = "/org/watchd1/app/web", v[0].keyvalue["color"] = "\"red\"";
    v[0].memory = 13 * 1024 * 1024 + 400 * 1024, v[0].cpu_nsec = 1520000000ULL, v[0].tasks = 3;
    v[1].kind = "check", v[1].id = "db", v[1].name = "Database", v[1].state = "inactive";
    v[1].active_state = "inactive", v[1].supervised = false, v[1].path = "/org/watchd1/check/db";
    return v;
}

TEST(Output, StatusTable) {
    EXPECT_EQ(status_text(sample(), 1000 * kSec, false, true),
              "KIND   ID   NAME      STATE               PID   UPTIME    MEMORY  CPU    RESTARTS  LAST EXIT\n"
              "app    web  Web       running             4242  1min 40s  13M     1.52s  2         SIGKILL\n"
              "check  db   Database  inactive (not run)  -     -         -       -      0         -\n"
              "\n"
              "2 units: 1 inactive, 1 running\n");
    auto failing = sample();
    failing[1].kind = "service", failing[1].id = "db", failing[1].state = "failed", failing[1].supervised = true;
    failing[1].last_error = "db.service: unit not found";
    const std::string text = status_text(failing, 1000 * kSec, false, false);
    EXPECT_NE(text.find("\nservice/db: db.service: unit not found\n"), std::string::npos) << text;
    failing[1].state = "running"; // an old error under a running unit is no news
    EXPECT_EQ(status_text(failing, 1000 * kSec, false, false).find("not found"), std::string::npos);
}

TEST(Output, ListAndHistory) {
    EXPECT_EQ(list_text(sample(), false, false),
              "app    web  Web       running             active    4242  /org/watchd1/app/web\n"
              "check  db   Database  inactive (not run)  inactive  -     /org/watchd1/check/db\n");
    HistoryRow h{"id-1", 7, 100 * kSec, 161 * kSec, 1, 0, {"disabled", "restart"}};
    const std::string text = history_text({h}, true);
    EXPECT_NE(text.find("INSTANCE  PID  STARTED"), std::string::npos) << text;
    EXPECT_NE(text.find("1min 1s  exit 1  disabled,restart"), std::string::npos) << text;
    EXPECT_NE(text.find("1 instance."), std::string::npos) << text;
    HistoryRow service{"0123456789abcdef0123456789abcdef", 8, 100 * kSec, 101 * kSec, 3, 0, {}, "exit-code"};
    EXPECT_NE(history_text({service}, false).find("exit 3 (exit-code)"), std::string::npos)
        << history_text({service}, false);
    EXPECT_NE(history_json({service}).find("\"flags\":[],\"result\":\"exit-code\"}"), std::string::npos)
        << history_json({service});
}

TEST(Output, Json) {
    const std::string s = status_json(sample());
    EXPECT_EQ(s.substr(0, 2), "[\n");
    EXPECT_NE(s.find("\"kind\":\"app\",\"id\":\"web\""), std::string::npos) << s;
    EXPECT_NE(s.find("\"last_exit\":{\"code\":null,\"signal\":9}"), std::string::npos) << s;
    EXPECT_NE(s.find("\"keyvalue\":{\"color\":\"red\"}"), std::string::npos) << s;
    EXPECT_NE(s.find("\"supervised\":false"), std::string::npos) << s;
    EXPECT_NE(s.find("\"cpu_usec\":1520000,\"memory_bytes\":14041088,\"tasks\":3"), std::string::npos) << s;
    EXPECT_EQ(s.find("keepalive\":", s.find("\"check\"")), std::string::npos) << "apps only: " << s;
    EXPECT_EQ(list_json({}), "[]\n");
    HistoryRow h{"id-1", 7, 100, 161, 0, 0, {"shutdown"}};
    EXPECT_EQ(history_json({h}), "[\n{\"instance_id\":\"id-1\",\"pid\":7,\"started\":100,\"stopped\":161,"
                                 "\"exit\":{\"code\":0,\"signal\":null},\"flags\":[\"shutdown\"]}\n]\n");
}

} // namespace
} // namespace watchd::tools
