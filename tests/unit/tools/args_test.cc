// watchctl's command line: verbs and aliases, options anywhere, and one clear error per bad line.
#include <gtest/gtest.h>

#include "tools/args.h"

namespace watchd::tools {
namespace {

std::optional<Args> parse(std::vector<std::string_view> argv, std::string *error = nullptr) {
    std::string e;
    auto a = parse_args(argv, e);
    if (error) *error = e;
    if (a) EXPECT_TRUE(e.empty()) << e;
    else EXPECT_FALSE(e.empty());
    return a;
}

TEST(Args, NoVerbIsStatusOfEverything) {
    auto a = parse({});
    ASSERT_TRUE(a);
    EXPECT_EQ(a->verb, Verb::Status);
    EXPECT_TRUE(a->names.empty());
    EXPECT_FALSE(a->json);
    a = parse({"--json"});
    ASSERT_TRUE(a);
    EXPECT_EQ(a->verb, Verb::Status);
    EXPECT_TRUE(a->json);
}

TEST(Args, VerbsTakeTheirUnits) {
    auto a = parse({"status", "app/web", "db"});
    ASSERT_TRUE(a);
    EXPECT_EQ(a->names, (std::vector<std::string>{"app/web", "db"}));
    a = parse({"restart", "web", "--no-legend"});
    ASSERT_TRUE(a);
    EXPECT_EQ(a->verb, Verb::Restart);
    EXPECT_FALSE(a->legend);
    EXPECT_EQ(parse({"start", "web"})->verb, Verb::Enable);
    EXPECT_EQ(parse({"stop", "web"})->verb, Verb::Disable);
    EXPECT_EQ(parse({"run-once", "web"})->verb, Verb::RunOnce);
    EXPECT_TRUE(parse({"run-once", "--off", "web"})->run_once_off);
    EXPECT_EQ(parse({"check-config", "/etc/watchd/watchd.json"})->names[0], "/etc/watchd/watchd.json");
    EXPECT_EQ(parse({"reload"})->verb, Verb::Reload);
}

TEST(Args, LogsOptionsInEverySpelling) {
    for (auto argv : std::vector<std::vector<std::string_view>>{
             {"logs", "web", "-f", "-n", "20"}, {"-f", "logs", "--lines=20", "web"}, {"logs", "-n20", "--follow", "web"},
             {"logs", "--lines", "20", "-f", "web"}}) {
        auto a = parse(argv);
        ASSERT_TRUE(a);
        EXPECT_EQ(a->verb, Verb::Logs);
        EXPECT_TRUE(a->follow);
        EXPECT_EQ(a->lines, 20u);
        EXPECT_EQ(a->names, std::vector<std::string>{"web"});
    }
}

TEST(Args, DoubleDashEndsOptions) {
    auto a = parse({"status", "--", "-weird-id"});
    ASSERT_TRUE(a);
    EXPECT_EQ(a->names, std::vector<std::string>{"-weird-id"});
}

TEST(Args, HelpAndVersionWinOverTheRest) {
    EXPECT_EQ(parse({"--help"})->verb, Verb::Help);
    EXPECT_EQ(parse({"restart", "-h"})->verb, Verb::Help);
    EXPECT_EQ(parse({"help"})->verb, Verb::Help);
    EXPECT_EQ(parse({"--version"})->verb, Verb::Version);
    EXPECT_NE(help_text("watchctl").find("check-config FILE"), std::string::npos);
}

TEST(Args, BadLinesSayWhatIsWrong) {
    std::string e;
    EXPECT_FALSE(parse({"frobnicate"}, &e));
    EXPECT_EQ(e, "unknown command \"frobnicate\" (see watchctl --help)");
    EXPECT_FALSE(parse({"--frob"}, &e));
    EXPECT_EQ(e, "unknown option --frob (see watchctl --help)");
    EXPECT_FALSE(parse({"restart"}, &e));
    EXPECT_EQ(e, "restart needs a unit (kind/id or id)");
    EXPECT_FALSE(parse({"check-config"}, &e));
    EXPECT_EQ(e, "check-config needs a configuration file");
    EXPECT_FALSE(parse({"history", "a", "b"}, &e));
    EXPECT_EQ(e, "history takes one argument, got \"b\"");
    EXPECT_FALSE(parse({"reload", "web"}, &e));
    EXPECT_EQ(e, "reload takes no arguments, got \"web\"");
    EXPECT_FALSE(parse({"list", "web"}, &e));
    EXPECT_FALSE(parse({"restart", "web", "--json"}, &e));
    EXPECT_EQ(e, "--json goes with status, list, history and logs, not restart");
    EXPECT_FALSE(parse({"status", "-f"}, &e));
    EXPECT_EQ(e, "--follow goes with logs, not status");
    EXPECT_FALSE(parse({"logs", "web", "-n"}, &e));
    EXPECT_EQ(e, "-n needs a number of lines");
    EXPECT_FALSE(parse({"logs", "web", "-n", "ten"}, &e));
    EXPECT_EQ(e, "-n: not a number of lines: \"ten\"");
    EXPECT_FALSE(parse({"enable", "web", "--off"}, &e));
}

} // namespace
} // namespace watchd::tools
