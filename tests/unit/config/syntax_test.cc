// JSON syntax errors say what was expected where the parser stopped; misspelt keys get a suggestion.
#include <gtest/gtest.h>

#include "config/load.h"
#include "config/syntax.h"

namespace watchd::config {
namespace {

std::string error_of(const std::string &json) {
    auto r = load_from_string(json, "w.json");
    EXPECT_FALSE(r.ok()) << json;
    return r.diagnostics.empty() ? "" : r.diagnostics[0].to_string();
}

TEST(SyntaxErrors, SayWhatWasExpectedAndWhatWasThere) {
    EXPECT_EQ(error_of("{\"apps\": {\"web\": [1,, 2]}}"), "w.json: line 1 column 21: expected a value, got ','");
    EXPECT_EQ(error_of("{\"apps\": {\"web\": {\"name\": \"W\" \"binary\": \"x\"}}}"),
              "w.json: line 1 column 31: expected ',' or '}' after the value of \"name\", got '\"'");
    EXPECT_EQ(error_of("{\"history\" 5}"), "w.json: line 1 column 12: expected ':' after the key \"history\", got '5'");
    EXPECT_EQ(error_of("{'apps': {}}"),
              "w.json: line 1 column 2: expected a key in double quotes or '}', got ''' (JSON strings take double quotes)");
    EXPECT_EQ(error_of("{\"apps\": [1 2]}"), "w.json: line 1 column 13: expected ',' or ']', got '2'");
    EXPECT_EQ(error_of("{} x"), "w.json: line 1 column 4: expected nothing more after the end of the document, got 'x'");
}

TEST(SyntaxErrors, AFileThatEndsEarlyNamesWhatIsStillOpen) {
    EXPECT_EQ(error_of("{\n  \"apps\": {\n    \"web\": {\"name\": \"W\""),
              "w.json: line 3 column 24: the file ends inside the object opened at line 3 column 12: expected ',' or '}' "
              "after the value of \"name\"");
    EXPECT_EQ(error_of("{\"apps\": ["), "w.json: line 1 column 11: the file ends inside the array opened at line 1 "
                                        "column 10: expected a value or ']'");
    EXPECT_NE(error_of("{\"a\": \"no end").find("the file ends inside the string opened at line 1 column 7"),
              std::string::npos)
        << error_of("{\"a\": \"no end");
    EXPECT_NE(error_of("{ /* never closed").find("the file ends inside the comment opened at line 1 column 3"),
              std::string::npos)
        << error_of("{ /* never closed");
}

TEST(SyntaxErrors, AByteNoJsonTokenStartsWithIsStillPassed) {
    // The fuzzer's hang: a character that starts no token ('@', a stray high byte) before the error offset.
    const std::string text = "[1, @, \xff, 2 x";
    const std::string msg = explain_syntax_error(text, text.size() - 1, false);
    EXPECT_EQ(msg, "expected ',' or ']', got 'x'");
}

TEST(SyntaxErrors, ASlashThatStartsNoCommentIsNamedWhereItIs) {
    // Boost.JSON reports no usable offset for this one (a count past the end): the place is found again.
    EXPECT_EQ(error_of("{\"apps\": {\"web\": /x}}"),
              "w.json: line 1 column 19: expected '/' or '*' after '/' (a comment), got 'x'");
    EXPECT_EQ(error_of("{\"apps\": {}}\n/-"), "w.json: line 2 column 2: expected '/' or '*' after '/' (a comment), got '-'");
    // far into a large file, and around 64 KiB
    for (const std::size_t pad : {100000u, 65536u - 26u, 65536u - 25u, 65536u - 10u}) {
        const std::string text = "{\"x\": \"" + std::string(pad, 'a') + "\", \"y\": /x}";
        EXPECT_EQ(error_of(text), "w.json: line 1 column " + std::to_string(pad + 17) +
                                      ": expected '/' or '*' after '/' (a comment), got 'x'") << pad;
    }
}

TEST(UnknownKeys, AMisspeltKeyGetsASuggestion) {
    const std::string app = R"({"apps": {"web": {"keepalive": 1, "name": "W", "working-directory": "/s", "binary": "w", )";
    EXPECT_NE(error_of(app + R"("restrat": {}}}})").find("/apps/web/restrat: unknown key: did you mean \"restart\"?"),
              std::string::npos)
        << error_of(app + R"("restrat": {}}}})");
    EXPECT_NE(error_of(app + R"("pid-paht": "x"}}})").find("did you mean \"pid-path\"?"), std::string::npos);
    const std::string far = error_of(app + R"("zzzzzz": 1}}})");
    EXPECT_NE(far.find("/apps/web/zzzzzz: unknown key (valid here: "), std::string::npos) << far;
    EXPECT_EQ(far.find("did you mean"), std::string::npos) << far;
}

TEST(UnknownKeys, EditDistanceCountsTranspositionsOnce) {
    EXPECT_EQ(edit_distance("restart", "restart"), 0u);
    EXPECT_EQ(edit_distance("restrat", "restart"), 1u);
    EXPECT_EQ(edit_distance("binry", "binary"), 1u);
    EXPECT_EQ(edit_distance("", "abc"), 3u);
    EXPECT_EQ(edit_distance("kitten", "sitting"), 3u);
}

} // namespace
} // namespace watchd::config
