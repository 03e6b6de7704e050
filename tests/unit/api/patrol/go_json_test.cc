// Go's JSON output (string escaping, float64 numbers, MarshalIndent's layout, omitempty) and key/value values
// normalized as Go writes them back. Expected texts were produced by Go 1.19's encoding/json.
#include <gtest/gtest.h>

#include <string>

#include "api/patrol/go_json.h"
#include "api/patrol/json_doc.h"

namespace watchd::api::patrol {
namespace {

std::string go_quoted(std::string_view s) {
    std::string out;
    append_go_string(out, s);
    return out;
}

TEST(GoJson, StringsAreEscapedAsGoEscapesThem) {
    EXPECT_EQ(go_quoted("plain"), "\"plain\"");
    EXPECT_EQ(go_quoted("\"\\/"), "\"\\\"\\\\/\"");
    EXPECT_EQ(go_quoted("\n\r\t"), "\"\\n\\r\\t\"");
    // \b and \f are not named by Go 1.19: \u0008, \u000c; lower-case hex digits.
    EXPECT_EQ(go_quoted("\b\f\x01\x1f"), "\"\\u0008\\u000c\\u0001\\u001f\"");
    EXPECT_EQ(go_quoted("\x7f"), "\"\x7f\"");
    EXPECT_EQ(go_quoted("<a & b>"), "\"\\u003ca \\u0026 b\\u003e\"");
    EXPECT_EQ(go_quoted("\xE2\x80\xA8\xE2\x80\xA9"), "\"\\u2028\\u2029\"");
    EXPECT_EQ(go_quoted("é😀"), "\"é😀\"");
    EXPECT_EQ(go_quoted(std::string("a\0b", 3)), "\"a\\u0000b\"");
    EXPECT_EQ(go_quoted(""), "\"\"");
    std::string out = "{\"k\":"; // appended after what is there, plain or not
    append_go_string(out, "plain");
    out += ',';
    append_go_string(out, "x>y");
    EXPECT_EQ(out, "{\"k\":\"plain\",\"x\\u003ey\"");
}

TEST(GoJson, InvalidUtf8BecomesOneReplacementPerByte) {
    EXPECT_EQ(go_quoted("\xff"), "\"\\ufffd\"");
    EXPECT_EQ(go_quoted("a\xc3"), "\"a\\ufffd\"");               // truncated sequence
    EXPECT_EQ(go_quoted("\xc0\xaf"), "\"\\ufffd\\ufffd\"");       // overlong
    EXPECT_EQ(go_quoted("\xed\xa0\x80"), "\"\\ufffd\\ufffd\\ufffd\""); // a surrogate encoded in UTF-8
    EXPECT_EQ(go_quoted("\xf4\x90\x80\x80"), "\"\\ufffd\\ufffd\\ufffd\\ufffd\""); // above U+10FFFF
    EXPECT_EQ(go_valid_utf8("a\xffz"), "a\xEF\xBF\xBDz");
}

TEST(GoJson, FloatsAreWrittenAsGoWritesThem) {
    const std::pair<double, const char *> cases[] = {
        {0, "0"}, {-0.0, "-0"}, {1, "1"}, {-1, "-1"}, {0.1, "0.1"}, {100, "100"},
        {1e20, "100000000000000000000"}, {1e21, "1e+21"}, {1e-6, "0.000001"}, {1e-7, "1e-7"},
        {123456789.123, "123456789.123"}, {12345678901234567890.0, "12345678901234567000"},
        {1.7976931348623157e308, "1.7976931348623157e+308"}, {5e-324, "5e-324"}, {-2.5e-7, "-2.5e-7"},
        {0.000001234, "0.000001234"}, {3.14159, "3.14159"},
    };
    for (const auto &[d, text] : cases) EXPECT_EQ(format_go_float(d), text) << d;
}

TEST(GoJson, IndentIsMarshalIndentWithTabs) {
    EXPECT_EQ(indent_go("{}"), "{}");
    EXPECT_EQ(indent_go("{\"a\":[]}"), "{\n\t\"a\": []\n}");
    EXPECT_EQ(indent_go("{\"errors\":[\"Unknown App\"]}"), "{\n\t\"errors\": [\n\t\t\"Unknown App\"\n\t]\n}");
    // Punctuation inside strings is left alone, escaped quotes included.
    EXPECT_EQ(indent_go("{\"a,b\":\"x\\\":{[\",\"c\":{\"d\":1,\"e\":[1,2]}}"),
              "{\n\t\"a,b\": \"x\\\":{[\",\n\t\"c\": {\n\t\t\"d\": 1,\n\t\t\"e\": [\n\t\t\t1,\n\t\t\t2\n\t\t]\n\t}\n}");
}

TEST(GoJson, ObjectWriterLeavesOutEmptyValues) {
    std::string out;
    ObjectWriter w(out);
    w.string("id", "").string("name", "web").flag("disabled", false).flag("restart", true).number("pid", 0);
    w.number("cas", 7);
    w.close();
    EXPECT_EQ(out, "{\"name\":\"web\",\"restart\":true,\"cas\":7}");
    std::string empty;
    ObjectWriter(empty).close();
    EXPECT_EQ(empty, "{}");
}

TEST(GoJson, ValuesAreNormalizedAsGoDecodesAndEncodesThem) {
    // Numbers are float64 in Go's interface{}: Boost's "1E3" and big integers come back in Go's form.
    EXPECT_EQ(normalize_value("1E3"), "1000");
    EXPECT_EQ(normalize_value("1.0"), "1");
    EXPECT_EQ(normalize_value("12345678901234567890"), "12345678901234567000");
    EXPECT_EQ(normalize_value("9007199254740993"), "9007199254740992");
    EXPECT_EQ(normalize_value("1e-400"), "0");
    // Objects are Go maps: sorted keys, the last of a repeated key.
    EXPECT_EQ(normalize_value("{\"z\":1,\"b\":{\"y\":[true,null],\"a\":\"<\"},\"z\":2}"),
              "{\"b\":{\"a\":\"\\u003c\",\"y\":[true,null]},\"z\":2}");
    EXPECT_EQ(normalize_value("\"\\ud800x\""), "\"\xEF\xBF\xBDx\""); // a lone surrogate escape: U+FFFD, written as is
    EXPECT_EQ(normalize_value("\"\\ud83d\\ude00\""), "\"😀\"");
    EXPECT_EQ(normalize_value("null"), "null");
    // What cannot be Go's: "null" rather than broken JSON.
    EXPECT_EQ(normalize_value("1e400"), "null");
    EXPECT_EQ(normalize_value("{"), "null");
}

TEST(GoJson, DepthLimitIsGos) {
    auto nested = [](std::size_t depth) { return std::string(depth, '[') + std::string(depth, ']'); };
    EXPECT_TRUE(parse_json(nested(kMaxJsonDepth)).has_value());
    EXPECT_FALSE(parse_json(nested(kMaxJsonDepth + 1)).has_value());
    std::string out;
    ASSERT_TRUE(marshal_interface(*parse_json(nested(kMaxJsonDepth)), out));
    EXPECT_EQ(out, nested(kMaxJsonDepth));
    // As deep in objects (with a repeated key at every level): written, and destroyed, without recursion.
    std::string objects;
    for (std::size_t i = 1; i < kMaxJsonDepth; ++i) objects += "{\"b\":0,\"a\":";
    objects += "1" + std::string(kMaxJsonDepth - 1, '}');
    std::string expected;
    for (std::size_t i = 1; i < kMaxJsonDepth; ++i) expected += "{\"a\":";
    expected += "1";
    for (std::size_t i = 1; i < kMaxJsonDepth; ++i) expected += ",\"b\":0}";
    EXPECT_EQ(normalize_value(objects), expected);
}

TEST(GoJson, SyntaxIsStrictJson) {
    for (const char *bad : {"", " ", "{", "{} {}", "[1,]", "{\"a\":1,}", "// c\n{}", "NaN", "01", "1.", ".5", "'a'",
                            "\"a\nb\"", "\xEF\xBB\xBF{}", "{\"a\" 1}", "tru"})
        EXPECT_FALSE(parse_json(bad).has_value()) << bad;
    for (const char *good : {"{}", " \t\r\n{} \n", "[]", "0", "-0.5e-3", "\"\"", "null", "{\"\":{}}"})
        EXPECT_TRUE(parse_json(good).has_value()) << good;
}

} // namespace
} // namespace watchd::api::patrol
