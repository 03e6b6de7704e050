// config::load() and untrusted text: NUL bytes in strings that become C strings, duplicate object keys, and
// diagnostics that are safe to print (control characters escaped, long values cut, a bounded number of lines).
#include "test_util.h"

namespace watchd::config {
namespace {

using namespace testing;
namespace fs = std::filesystem;

std::string app_with(const std::string &fields) {
    return R"({"apps": {"web": {"keepalive": "patrol", "name": "Web", "working-directory": "/srv", "binary": "web")" +
           std::string(fields.empty() ? "" : ", ") + fields + "}}}";
}

void expect_one(const std::string &json, const std::string &want) {
    auto r = load_from_string(json, "watchd.json");
    EXPECT_FALSE(r.ok()) << json;
    EXPECT_EQ(errors(r), std::vector<std::string>{want}) << json;
}

TEST(Nul, RejectedWhereverAStringBecomesACString) {
    const std::string nul = R"(must not contain a NUL byte)";
    const std::string base = R"({"apps": {"web": {"keepalive": "patrol", "name": "Web", "binary": "web", )";
    expect_one(app_with(R"("args": ["ok", "a\u0000b"])"), "watchd.json: /apps/web/args/1: " + nul);
    expect_one(app_with(R"("user": "root\u0000x")"), "watchd.json: /apps/web/user: " + nul);
    expect_one(app_with(R"("group": "\u0000")"), "watchd.json: /apps/web/group: " + nul);
    expect_one(app_with(R"("env": ["A=b\u0000c"])"), "watchd.json: /apps/web/env/0: " + nul);
    expect_one(app_with(R"("pid-path": "web.pid\u0000")"), "watchd.json: /apps/web/pid-path: " + nul);
    expect_one(app_with(R"("log-directory": "lo\u0000gs")"), "watchd.json: /apps/web/log-directory: " + nul);
    expect_one(app_with(R"("secret": "s\u0000")"), "watchd.json: /apps/web/secret: " + nul);
    expect_one(base + R"("working-directory": "/srv\u0000/x"}}})", "watchd.json: /apps/web/working-directory: " + nul);
    expect_one(R"({"apps": {"web": {"keepalive": 1, "name": "W\u0000", "working-directory": "/s", "binary": "w"}}})",
               "watchd.json: /apps/web/name: " + nul);
    expect_one(R"({"apps": {"web": {"keepalive": 1, "name": "W", "working-directory": "/s", "binary": "w\u0000x"}}})",
               "watchd.json: /apps/web/binary: " + nul);
    expect_one(R"({"services": {"ssh": {"management": 1, "name": "SSH", "service": "ssh\u0000x"}}})",
               "watchd.json: /services/ssh/service: " + nul);
    expect_one(R"({"services": {"ssh": {"management": 1, "name": "SSH", "service": "ssh",
                                        "management-start-parameter": "--\u0000"}}})",
               "watchd.json: /services/ssh/management-start-parameter: " + nul);
    expect_one(R"({"servers": [{"name": "a", "ipAddress": "::1\u0000x", "port": 80, "protocol": "tcp"}]})",
               "watchd.json: /servers/0/ipAddress: " + nul);
    expect_one(app_with("").substr(0, app_with("").size() - 1) + R"(, "http": {"listen": "[::1\u0000x]:80"}})",
               "watchd.json: /http/listen: " + nul);
}

TEST(DuplicateKeys, TwoAppsOfTheSameNameAreAnError) {
    const std::string json = "{\n"
                             "  \"apps\": {\n"
                             "    \"web\": {\"keepalive\": 1, \"name\": \"A\", \"working-directory\": \"/s\",\n"
                             "            \"binary\": \"a\"},\n"
                             "    \"db\": {\"keepalive\": 1, \"name\": \"D\", \"working-directory\": \"/s\",\n"
                             "           \"binary\": \"d\"},\n"
                             "    // the same app again\n"
                             "    /* and a comment */\n"
                             "    \"web\": {\"keepalive\": 1, \"name\": \"B\", \"working-directory\": \"/s\", \"binary\": \"b\"}\n"
                             "  }\n"
                             "}\n";
    expect_one(json, R"(watchd.json: /apps/web: duplicate key "web" (first at line 3 column 5, again at line 9 column 5))");
}

TEST(DuplicateKeys, AtAnyDepthAndComparedExactly) {
    expect_one(R"({"history": 10, "history": 20})",
               R"(watchd.json: /history: duplicate key "history" (first at line 1 column 2, again at line 1 column 17))");
    expect_one(app_with(R"("binary": "other")"),
               R"(watchd.json: /apps/web/binary: duplicate key "binary" (first at line 1 column 86, again at line 1 column 103))");
    expect_one(R"({"servers": [{"name": "a", "ipAddress": "1.2.3.4", "port": 1, "protocol": "tcp", "x": {"a/b": 1, "a/b": 2}}]})",
               R"(watchd.json: /servers/0/x/a~1b: duplicate key "a/b" (first at line 1 column 88, again at line 1 column 98))");
    // an escaped spelling of the same key is the same key
    expect_one(R"({"x": {"w\u0065b": 1, "web": 2}, "apps": {}})",
               R"(watchd.json: /x/web: duplicate key "web" (first at line 1 column 8, again at line 1 column 23))");
    // keys that differ only in case are different keys; the app ids' own rule reports them
    auto r = load_from_string(R"({"x": {"Web": 1, "web": 2}})", "watchd.json");
    EXPECT_EQ(errors(r), std::vector<std::string>{"watchd.json: nothing to supervise: no apps, services or servers"});
    // the same key in two objects is no duplicate
    r = load_from_string(R"({"x": [{"a": 1}, {"a": 2}], "apps": {"a": {"keepalive": 1, "name": "A",
                            "working-directory": "/s", "binary": "a"}}})", "watchd.json");
    EXPECT_TRUE(r.ok()) << ::testing::PrintToString(errors(r));
}

class DuplicateKeysInFiles : public TempDir {};

TEST_F(DuplicateKeysInFiles, DropInsAreCheckedToo) {
    write(dir / "watchd.json", R"({"apps": {"a": {"keepalive": 1, "name": "A", "working-directory": "/s", "binary": "a"}}})");
    fs::create_directory(dir / "watchd.d");
    write(dir / "watchd.d" / "10.json", "{\"history\": 10,\n \"history\": 20}");
    auto r = load((dir / "watchd.json").string());
    EXPECT_FALSE(r.ok());
    EXPECT_EQ(errors(r), std::vector<std::string>{(dir / "watchd.d" / "10.json").string() +
                                                  R"(: /history: duplicate key "history" (first at line 1 column 2, again at line 2 column 2))"});
}

TEST(Messages, ControlCharactersAreEscaped) {
    auto r = load_from_string(R"({"apps": {"web": {"keepalive": "patrol", "name": "Web", "binary": "web",
        "working-directory": "\u001b[2J\u0007srv\n", "\u001b]0;x\u009b": 1}}})",
                              "watchd.json");
    ASSERT_EQ(r.diagnostics.size(), 2u) << ::testing::PrintToString(errors(r));
    for (const auto &e : errors(r)) {
        for (unsigned char c : e) EXPECT_TRUE(c >= 0x20 && c != 0x7f) << ::testing::PrintToString(e);
        EXPECT_EQ(e.find("\xc2\x9b"), std::string::npos) << e; // C1 controls too
    }
    EXPECT_EQ(r.diagnostics[0].to_string(),
              R"(watchd.json: /apps/web/working-directory: must be absolute or start with ~/, got "\u001b[2J\u0007srv\n")");
    EXPECT_TRUE(r.diagnostics[1].to_string().starts_with(R"(watchd.json: /apps/web/\u001b]0;x\u009b: unknown key (valid here: )"))
        << r.diagnostics[1].to_string();
}

TEST(Messages, LongValuesAndKeysAreCut) {
    const std::string big(100000, 'v');
    auto r = load_from_string(R"({"apps": {"web": {"keepalive": "patrol", "name": "Web", "binary": "web",
        "working-directory": ")" + big + R"(", ")" + std::string(5000, 'k') + R"(": 1}}})",
                              "watchd.json");
    ASSERT_EQ(r.diagnostics.size(), 2u) << r.diagnostics.size();
    EXPECT_EQ(r.diagnostics[0].to_string(), "watchd.json: /apps/web/working-directory: must be absolute or start with ~/, got \"" +
                                                std::string(64, 'v') + "…\" (100000 bytes)");
    EXPECT_EQ(r.diagnostics[1].pointer, "/apps/web/" + std::string(64, 'k') + "… (5000 bytes)");
    for (const auto &e : errors(r)) EXPECT_LT(e.size(), 1200u);
    // values of other kinds are cut too
    std::string ones = "[1";
    for (int i = 1; i < 1000; ++i) ones += ",1";
    ones += "]";
    r = load_from_string(app_with(R"("stop-signal": )" + ones), "w.json");
    EXPECT_EQ(errors(r), std::vector<std::string>{"w.json: /apps/web/stop-signal: expected a signal name such as \"SIGTERM\" or a "
                                                  "number 1..64, got " + ones.substr(0, 64) + "… (2001 bytes)"});
}

TEST(Messages, AtMostFiftyPerFileThenACount) {
    std::string keys;
    for (int i = 0; i < 100000; ++i) keys += ", \"k" + std::to_string(i) + "\": 1";
    auto r = load_from_string(app_with(keys.substr(2)), "watchd.json");
    EXPECT_FALSE(r.ok());
    EXPECT_EQ(r.error_count, 100000u);
    ASSERT_EQ(r.diagnostics.size(), 51u);
    EXPECT_EQ(r.diagnostics[0].pointer, "/apps/web/k0");
    EXPECT_EQ(r.diagnostics[49].pointer, "/apps/web/k49"); // the first 50 found are kept
    EXPECT_EQ(r.diagnostics[50].to_string(), "watchd.json: ... and 99950 more errors");
}

TEST(Messages, CountAndOkAgree) {
    auto good = load_from_string(app_with(""), "w.json");
    EXPECT_TRUE(good.ok());
    EXPECT_TRUE(good.diagnostics.empty());
    EXPECT_EQ(good.error_count, 0u);
    auto bad = load_from_string(app_with(R"("user": 1, "group": 2)"), "w.json");
    EXPECT_FALSE(bad.ok());
    EXPECT_EQ(bad.error_count, 2u);
    EXPECT_EQ(bad.diagnostics.size(), 2u);
    auto syntax = load_from_string("{", "w.json");
    EXPECT_FALSE(syntax.ok());
    EXPECT_EQ(syntax.error_count, 1u);
}

class MessagesPerFile : public TempDir {};

TEST_F(MessagesPerFile, EachFileHasItsOwnCap) {
    std::string a, b;
    for (int i = 0; i < 60; ++i) {
        a += ", \"a" + std::to_string(i) + "\": 1";
        b += ", \"b" + std::to_string(i) + "\": 1";
    }
    write(dir / "watchd.json", app_with(a.substr(2)));
    fs::create_directory(dir / "watchd.d");
    write(dir / "watchd.d" / "10.json", R"({"apps": {"web": {)" + b.substr(2) + "}}}");
    auto r = load((dir / "watchd.json").string());
    EXPECT_EQ(r.error_count, 120u);
    ASSERT_EQ(r.diagnostics.size(), 102u);
    EXPECT_EQ(r.diagnostics[100].to_string(), (dir / "watchd.json").string() + ": ... and 10 more errors");
    EXPECT_EQ(r.diagnostics[101].to_string(), (dir / "watchd.d" / "10.json").string() + ": ... and 10 more errors");
}

} // namespace
} // namespace watchd::config
