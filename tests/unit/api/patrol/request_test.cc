// API_Request from JSON bodies and GET query strings, read as patrol (Go's encoding/json, net/url, strconv) reads
// them. Each expectation here was checked against Go 1.19 decoding into patrol's own API_Request.
#include <gtest/gtest.h>

#include <string>

#include "api/patrol/request.h"

namespace watchd::api::patrol {
namespace {

ApiRequest ok(std::string_view body) {
    auto r = parse_request_json(body);
    EXPECT_TRUE(r.has_value()) << body;
    return r.value_or(ApiRequest{});
}

TEST(RequestJson, AllFieldsByTheirTags) {
    const auto r = ok(R"({"id":"Web","group":"apps","ping":true,"pid":4242,"toggle":3,"history":true,
                         "keyvalue":{"a":1,"b":"x"},"keyvalue-replace":true,"secret":"s3","cas":77})");
    EXPECT_EQ(r.id, "Web");
    EXPECT_EQ(r.group, "apps");
    EXPECT_TRUE(r.ping);
    EXPECT_EQ(r.pid, 4242u);
    EXPECT_EQ(r.toggle, 3);
    EXPECT_TRUE(r.history);
    ASSERT_TRUE(r.keyvalue);
    EXPECT_EQ(*r.keyvalue, (supervisor::KeyValue{{"a", "1"}, {"b", "\"x\""}}));
    EXPECT_TRUE(r.keyvalue_replace);
    EXPECT_EQ(r.secret, "s3");
    EXPECT_EQ(r.cas, 77u);
}

TEST(RequestJson, KeysMatchCaseInsensitivelyAsGoDoes) {
    const auto r = ok(R"({"PING":true,"Pid":12,"TOGGLE":3,"HISTORY":true,"SECRET":"s","CAS":7,"Group":"APPS",
                         "Id":"X","KEYVALUE-REPLACE":true})");
    EXPECT_TRUE(r.ping);
    EXPECT_EQ(r.pid, 12u);
    EXPECT_EQ(r.group, "APPS");
    EXPECT_EQ(r.id, "X");
    EXPECT_TRUE(r.keyvalue_replace);
    // Go folds s with U+017F and k with U+212A (the Kelvin sign), but not i with a dotless ı.
    const auto folded = ok("{\"\xC5\xBF" "ecret\":\"x\",\"\xE2\x84\xAA" "eyvalue\":{\"z\":1},\"\xC4\xB1" "d\":\"no\"}");
    EXPECT_EQ(folded.secret, "x");
    EXPECT_EQ(folded.keyvalue, (supervisor::KeyValue{{"z", "1"}}));
    EXPECT_EQ(folded.id, "");
}

TEST(RequestJson, RepeatedKeysApplyInOrder) {
    EXPECT_EQ(ok(R"({"id":"A","ID":"b"})").id, "b");
    // A second keyvalue is decoded into the same map (merged); null drops it.
    EXPECT_EQ(ok(R"({"keyvalue":{"a":1},"KeyValue":{"b":2},"keyvalue":{"a":3}})").keyvalue,
              (supervisor::KeyValue{{"a", "3"}, {"b", "2"}}));
    EXPECT_FALSE(ok(R"({"keyvalue":{"a":1},"keyvalue":null})").keyvalue.has_value());
    // The wrong type anywhere is an error, even when a later value would be fine.
    EXPECT_FALSE(parse_request_json(R"({"id":5,"id":"a"})"));
}

TEST(RequestJson, NullLeavesAFieldAlone) {
    const auto r = ok(R"({"id":null,"ping":null,"pid":null,"keyvalue-replace":null,"cas":null})");
    EXPECT_EQ(r, ApiRequest{});
    EXPECT_EQ(ok("null"), ApiRequest{});
    EXPECT_EQ(ok(R"({"unknown":[1,{"a":null}],"id":"ok"})").id, "ok"); // unknown keys are skipped
}

TEST(RequestJson, IntegersAreUnsignedLiteralsInRange) {
    EXPECT_EQ(ok(R"({"pid":4294967295})").pid, 4294967295u);
    EXPECT_EQ(ok(R"({"toggle":255})").toggle, 255);
    EXPECT_EQ(ok(R"({"cas":18446744073709551615})").cas, UINT64_MAX);
    for (const char *bad : {R"({"pid":4294967296})", R"({"pid":-0})", R"({"pid":-1})", R"({"pid":1e3})",
                            R"({"pid":5.0})", R"({"pid":"5"})", R"({"toggle":256})", R"({"toggle":-1})",
                            R"({"cas":18446744073709551616})", R"({"cas":true})"})
        EXPECT_FALSE(parse_request_json(bad)) << bad;
}

TEST(RequestJson, WrongTypesAndBadSyntaxAreInvalid) {
    for (const char *bad : {R"({"Ping":1})", R"({"history":"true"})", R"({"id":["a"]})", R"({"keyvalue":[]})",
                            R"({"keyvalue":"x"})", R"({"keyvalue":{"n":1e400}})", "[]", "\"x\"", "5", "true", "",
                            "{} {}", R"({"id":"a",})", R"({"unknown":[1,{"a":nope]})"})
        EXPECT_FALSE(parse_request_json(bad)) << bad;
}

TEST(RequestJson, KeyValuesAreKeptAsGoWouldWriteThem) {
    const auto r = ok(R"({"keyvalue":{"n":null,"f":1.50,"big":12345678901234567890,"o":{"z":1,"a":[1E2,"<"]},
                          "tiny":1e-400,"s":"\u00e9\ud800"}})");
    EXPECT_EQ(*r.keyvalue, (supervisor::KeyValue{{"n", "null"},
                                                 {"f", "1.5"},
                                                 {"big", "12345678901234567000"},
                                                 {"o", "{\"a\":[100,\"\\u003c\"],\"z\":1}"},
                                                 {"tiny", "0"},
                                                 {"s", "\"é\xEF\xBF\xBD\""}}));
    EXPECT_EQ(ok(R"({"keyvalue":{}})").keyvalue, supervisor::KeyValue{});
}

TEST(RequestJson, StringsAreDecodedAsGoDecodesThem) {
    EXPECT_EQ(ok(R"({"id":"\ud800"})").id, "\xEF\xBF\xBD"); // a lone surrogate: U+FFFD
    EXPECT_EQ(ok("{\"id\":\"a\xff\"}").id, "a\xEF\xBF\xBD");   // invalid UTF-8: U+FFFD
    EXPECT_EQ(ok(R"({"id":"\u0041\/"})").id, "A/");
    EXPECT_EQ(ok(R"({"secret":"\u0000"})").secret, std::string(1, '\0'));
}

TEST(RequestQuery, ReadsWhatPatrolReads) {
    const auto r = parse_query("id=Web&group=apps&toggle=2&history&secret=s%26t&cas=41&ping=true&pid=9&keyvalue=x");
    EXPECT_EQ(r.id, "Web");
    EXPECT_EQ(r.group, "apps");
    EXPECT_EQ(r.toggle, 2);
    EXPECT_TRUE(r.history);
    EXPECT_EQ(r.secret, "s&t");
    EXPECT_EQ(r.cas, 41u);
    EXPECT_FALSE(r.ping); // patrol reads neither ping nor pid from a GET: a GET never pings
    EXPECT_EQ(r.pid, 0u);
    EXPECT_FALSE(r.keyvalue);
}

TEST(RequestQuery, GoUrlAndStrconvEdges) {
    EXPECT_EQ(parse_query("id=a&id=b").id, "a");                   // the first value
    EXPECT_EQ(parse_query("id=%zz&id=b").id, "b");                 // a bad escape skips the pair
    EXPECT_EQ(parse_query("id=a;x&group=app").id, "");             // so does a ';'
    EXPECT_EQ(parse_query("id=a+b%20c").id, "a b c");
    EXPECT_EQ(parse_query("i%64=x").id, "x");                      // keys are unescaped too
    EXPECT_EQ(parse_query("toggle=257").toggle, 1);                // uint8(257)
    EXPECT_EQ(parse_query("toggle=99999999999999999999").toggle, 255); // out of range: the largest uint64
    EXPECT_EQ(parse_query("toggle=99999999999999999999x").toggle, 255);
    EXPECT_EQ(parse_query("toggle=1x9").toggle, 0);
    EXPECT_EQ(parse_query("toggle=-1").toggle, 0);
    EXPECT_EQ(parse_query("toggle=+1").toggle, 0);
    EXPECT_EQ(parse_query("toggle=0x10").toggle, 0);
    EXPECT_EQ(parse_query("cas=18446744073709551616").cas, UINT64_MAX);
    EXPECT_EQ(parse_query("cas= 3").cas, 0u);
    EXPECT_TRUE(parse_query("history=").history);
    EXPECT_FALSE(parse_query("History").history);                  // query keys are case-sensitive
    EXPECT_EQ(parse_query(""), ApiRequest{});
    EXPECT_EQ(parse_query("&&="), ApiRequest{});
}

TEST(GoLower, AsciiAndTheTwoLettersThatLowerToAscii) {
    EXPECT_EQ(go_lower("WeB-1"), "web-1");
    EXPECT_EQ(go_lower("\xE2\x84\xAA" "eeper"), "keeper"); // U+212A KELVIN SIGN
    EXPECT_EQ(go_lower("\xC4\xB0" "D"), "id");             // U+0130
    EXPECT_EQ(go_lower("\xC3\x89"), "\xC3\x89");           // É stays non-ASCII (Go: é): it matches no id either
}

} // namespace
} // namespace watchd::api::patrol
