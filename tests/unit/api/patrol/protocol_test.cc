// patrol's API end to end over the real Supervisor (on a real loop, no process started: the services have no
// systemd here, so they are unavailable and say so in patrol's "errors", and the apps here are disabled): requests
// in, JSON out. Toggles 1..7 and their pre-change snapshots,
// CAS, the secret, key/value merge and replace, patrol's errors, the reduced UDP answer.
#include <gtest/gtest.h>

#include <string>

#include "api/patrol/protocol.h"
#include "event/loop.h"
#include "supervisor/supervisor.h"
#include "sys/log.h"

namespace watchd::api::patrol {
namespace {

using supervisor::UnitKind;

class ProtocolTest : public ::testing::Test {
protected:
    std::unique_ptr<event::Loop> loop;
    std::unique_ptr<supervisor::Supervisor> sup;

    void SetUp() override {
        sys::log::init(sys::log::Target::Stderr, 3, "");
        auto l = event::Loop::create();
        ASSERT_TRUE(l);
        loop = std::move(*l);
        sup = std::make_unique<supervisor::Supervisor>(*loop);
        model::Config c;
        auto service = [&](const char *id, const char *secret) {
            model::ServiceSpec s;
            s.id = id;
            s.name = std::string("Service ") + id;
            s.unit = id;
            s.secret = secret;
            c.services.push_back(s);
        };
        service("ssh", "");
        service("locked", "sesame");
        auto app = [&](const char *id, model::KeepAlive k) {
            model::AppSpec a;
            a.id = id;
            a.name = id;
            a.keepalive = k;
            a.working_directory = "/";
            a.binary = "/bin/true";
            a.disabled = true; // never started: no process in a unit test
            if (k == model::KeepAlive::PidFile) a.pid_path = "x.pid";
            c.apps.push_back(a);
        };
        app("plain", model::KeepAlive::Patrol);
        app("pinger", model::KeepAlive::Http);
        app("udpapp", model::KeepAlive::Udp);
        sup->apply(c);
    }

    // POST/UDP body in, the compact answer out ("ERROR: ..." for an errors list).
    std::string call(std::string_view body, Endpoint ep = Endpoint::Http) {
        const auto r = parse_request_json(body);
        if (!r) return "ERROR: " + invalid_request().body;
        Reply reply = handle(*sup, *r, ep, "", base::now_realtime());
        return (reply.error ? "ERROR: " : "") + reply.body;
    }
    std::uint64_t cas(const char *id) { return sup->unit({UnitKind::Service, id}, false)->cas; }
    std::string flags(const char *id) {
        const auto v = sup->unit({UnitKind::Service, id}, false);
        return std::string(v->disabled ? "D" : "-") + (v->restart ? "R" : "-") + (v->run_once ? "O" : "-");
    }
};

TEST_F(ProtocolTest, PatrolsErrors) {
    EXPECT_EQ(call(R"({"group":"nope","id":"ssh"})"), R"(ERROR: {"errors":["Unknown Group"]})");
    EXPECT_EQ(call(R"({"group":"check","id":"ssh"})"), R"(ERROR: {"errors":["Unknown Group"]})");
    EXPECT_EQ(call(R"({"group":"app","id":"ghost"})"), R"(ERROR: {"errors":["Unknown App"]})");
    EXPECT_EQ(call(R"({"group":"services","id":"ghost"})"), R"(ERROR: {"errors":["Unknown Service"]})");
    EXPECT_EQ(call(R"({"group":"service","id":"ssh","ping":true})"),
              R"(ERROR: {"errors":["Services don't support Ping"]})");
    // patrol checks that on the group as given: "Service" is served, the ping ignored.
    EXPECT_EQ(call(R"({"group":"Service","id":"SSH","ping":true,"pid":5})").rfind("{\"id\":\"ssh\"", 0), 0u);
    EXPECT_EQ(call(R"({"group":"app","id":"plain","ping":true})"), R"(ERROR: {"errors":["Ping Not Supported"]})");
    EXPECT_EQ(call(R"({"group":"app","id":"plain","pid":5})"), R"(ERROR: {"errors":["PID Not Supported"]})");
    EXPECT_EQ(call(R"({"group":"app","id":"pinger","pid":5})"), R"(ERROR: {"errors":["PID Requires Ping"]})");
    EXPECT_EQ(call(R"({"group":"app","id":"pinger","ping":true})", Endpoint::Udp),
              R"(ERROR: {"errors":["Invalid Ping Endpoint"]})");
    EXPECT_EQ(call(R"({"group":"app","id":"udpapp","ping":true})", Endpoint::Http),
              R"(ERROR: {"errors":["Invalid Ping Endpoint"]})");
    EXPECT_EQ(call(R"({"group":"app","id":"x","pid":"1"})"), R"(ERROR: {"errors":["Invalid Request"]})");
}

TEST_F(ProtocolTest, EachToggleAnswersWithTheStateBeforeIt) {
    struct Step {
        int toggle;
        const char *before, *after; // D disabled, R restart, O run-once
    };
    const Step steps[] = {
        {2, "---", "D--"}, {1, "D--", "---"}, {3, "---", "-R-"}, {4, "-R-", "-RO"}, {5, "-RO", "-R-"},
        {2, "-R-", "D--"}, {6, "D--", "--O"}, {2, "--O", "D--"}, {7, "D--", "---"}, {4, "---", "--O"},
        {3, "--O", "-R-"}, {0, "-R-", "-R-"}, {8, "-R-", "-R-"},
    };
    for (const auto &s : steps) {
        const std::uint64_t before_cas = cas("ssh");
        ASSERT_EQ(flags("ssh"), s.before) << "toggle " << s.toggle;
        std::string expected = R"({"id":"ssh","group":"service","name":"Service ssh",)";
        if (s.before[0] == 'D') expected += R"("disabled":true,)";
        if (s.before[1] == 'R') expected += R"("restart":true,)";
        if (s.before[2] == 'O') expected += R"("run-once":true,)";
        // this core runs without systemd: the service says so (patrol's "errors"), and toggles work the same
        expected += R"("errors":["systemd unavailable: watchd runs without a client of systemd"],)";
        expected += "\"cas\":" + std::to_string(before_cas) + "}";
        EXPECT_EQ(call(R"({"group":"service","id":"ssh","toggle":)" + std::to_string(s.toggle) + "}"), expected);
        EXPECT_EQ(flags("ssh"), s.after) << "toggle " << s.toggle;
        // A toggle moves the CAS; 0 and 8 are no toggles.
        EXPECT_EQ(cas("ssh"), before_cas + (s.toggle >= 1 && s.toggle <= 7 ? 1 : 0)) << "toggle " << s.toggle;
    }
}

TEST_F(ProtocolTest, CasGuardsChangesAndTheAnswerIsThePreviousCas) {
    const std::uint64_t c0 = cas("ssh");
    const std::string wrong = std::to_string(c0 + 1000), right = std::to_string(c0);
    const std::string refused =
        call(R"({"group":"service","id":"ssh","toggle":2,"keyvalue":{"a":1},"cas":)" + wrong + "}");
    EXPECT_EQ(refused,
              R"({"id":"ssh","group":"service","name":"Service ssh","errors":["systemd unavailable: watchd runs without a client of systemd"],"cas":)" + right + R"(,"cas-invalid":true})");
    EXPECT_EQ(flags("ssh"), "---");
    EXPECT_EQ(cas("ssh"), c0);
    const std::string applied = call(R"({"group":"service","id":"ssh","toggle":2,"cas":)" + right + "}");
    EXPECT_EQ(applied, R"({"id":"ssh","group":"service","name":"Service ssh","errors":["systemd unavailable: watchd runs without a client of systemd"],"cas":)" + right + "}");
    EXPECT_EQ(flags("ssh"), "D--");
    EXPECT_EQ(cas("ssh"), c0 + 1);
    // The same CAS again is stale now: one of two racing clients loses.
    EXPECT_NE(call(R"({"group":"service","id":"ssh","toggle":1,"cas":)" + right + "}").find("\"cas-invalid\":true"),
              std::string::npos);
    EXPECT_EQ(flags("ssh"), "D--");
}

TEST_F(ProtocolTest, SecretMissingWrongAndRight) {
    const std::string c0 = std::to_string(cas("locked"));
    // Missing: no error, the full state, cas-invalid, nothing changed.
    EXPECT_EQ(call(R"({"group":"service","id":"locked","toggle":2})"),
              R"({"id":"locked","group":"service","name":"Service locked","secret":true,"errors":["systemd unavailable: watchd runs without a client of systemd"],"cas":)" + c0 +
                  R"(,"cas-invalid":true})");
    EXPECT_EQ(flags("locked"), "---");
    EXPECT_EQ(call(R"({"group":"service","id":"locked","toggle":2,"secret":"open"})"),
              R"(ERROR: {"errors":["Secret Invalid"]})");
    EXPECT_EQ(call(R"({"group":"service","id":"locked","toggle":2,"secret":"sesame"})"),
              R"({"id":"locked","group":"service","name":"Service locked","secret":true,"errors":["systemd unavailable: watchd runs without a client of systemd"],"cas":)" + c0 + "}");
    EXPECT_EQ(flags("locked"), "D--");
}

TEST_F(ProtocolTest, KeyValueMergeKeepsNullsAndReplaceReplaces) {
    auto kv = [&] { return call(R"({"group":"service","id":"ssh"})"); };
    auto has = [](const std::string &answer, const std::string &kv) {
        return answer.find(R"("keyvalue":)" + kv + ",") != std::string::npos;
    };
    call(R"({"group":"service","id":"ssh","keyvalue":{"x":"y","n":1}})");
    const std::uint64_t c1 = cas("ssh");
    // The answer is the state before: the old keyvalue.
    EXPECT_TRUE(has(call(R"({"group":"service","id":"ssh","keyvalue":{"a":[1.0,{"b":2}],"n":null}})"),
                    R"({"n":1,"x":"y"})"));
    EXPECT_TRUE(has(kv(), R"({"a":[1,{"b":2}],"n":null,"x":"y"})")) << kv();
    EXPECT_EQ(cas("ssh"), c1 + 1);
    call(R"({"group":"service","id":"ssh","keyvalue":{}})"); // an empty merge changes nothing
    EXPECT_EQ(cas("ssh"), c1 + 1);
    call(R"({"group":"service","id":"ssh","keyvalue":{"only":true},"keyvalue-replace":true})");
    EXPECT_TRUE(has(kv(), R"({"only":true})")) << kv();
    call(R"({"group":"service","id":"ssh","keyvalue-replace":true})"); // replaced by nothing: emptied
    EXPECT_EQ(kv().find("keyvalue"), std::string::npos) << kv();
}

TEST_F(ProtocolTest, UdpAnswersAreReduced) {
    call(R"({"group":"service","id":"ssh","keyvalue":{"x":1}})");
    const std::string udp = call(R"({"group":"service","id":"ssh"})", Endpoint::Udp);
    EXPECT_EQ(udp, R"({"id":"ssh","group":"service","name":"Service ssh","errors":["systemd unavailable: watchd runs without a client of systemd"],"cas":)" + std::to_string(cas("ssh")) + "}");
    EXPECT_NE(call(R"({"group":"service","id":"ssh"})").find("keyvalue"), std::string::npos);
}

TEST(Translate, RequestToCommand) {
    ApiRequest r;
    r.group = "APPS";
    r.id = "\xE2\x84\xAA" "EEPER";
    r.ping = true;
    r.pid = 4000000000u; // beyond pid_t: still a PID, one no process has
    r.toggle = 9;
    r.keyvalue = supervisor::KeyValue{{"a", "1"}};
    r.cas = 5;
    r.secret = "s";
    const auto t = std::get<Target>(translate(r, Endpoint::Udp));
    EXPECT_EQ(t.ref, (supervisor::UnitRef{UnitKind::App, "keeper"}));
    EXPECT_FALSE(t.cmd.toggle);
    EXPECT_TRUE(t.cmd.ping);
    EXPECT_GT(t.cmd.pid, 0);
    EXPECT_EQ(t.cmd.via, supervisor::Command::Via::Udp);
    EXPECT_FALSE(t.cmd.history);
    EXPECT_EQ(t.cmd.keyvalue, r.keyvalue);
    EXPECT_FALSE(t.cmd.keyvalue_replace);
    EXPECT_EQ(t.cmd.cas, 5u);
    EXPECT_EQ(t.cmd.secret, "s");
    r.keyvalue.reset();
    r.keyvalue_replace = true;
    const auto replace = std::get<Target>(translate(r, Endpoint::Http));
    EXPECT_EQ(replace.cmd.keyvalue, supervisor::KeyValue{}); // replace with nothing: empty
    EXPECT_TRUE(replace.cmd.history);
}

// What the memo gives back is what was kept for those very bytes: a slot shared by two requests holds the latest,
// the other is no longer found; long and empty requests are handed back but not kept.
TEST(TranslationMemo, FindsExactlyTheBytesKept) {
    auto target = [](const char *id) {
        Target t;
        t.ref = supervisor::UnitRef{UnitKind::App, id};
        return Translation(t);
    };
    auto id_of = [](const Translation *t) { return t ? std::get<Target>(*t).ref.id : std::string("none"); };
    TranslationMemo memo;
    const std::string a = R"({"id":"a","ping":true})";
    EXPECT_EQ(memo.find(a), nullptr);
    EXPECT_EQ(std::get<Target>(memo.keep(a, target("a"))).ref.id, "a");
    EXPECT_EQ(id_of(memo.find(a)), "a");
    EXPECT_EQ(memo.find(a + " "), nullptr) << "other bytes, even meaning the same";
    EXPECT_EQ(memo.kept_bytes(), a.size());
    std::string b; // another request kept in a's slot
    for (int pad = 0; b.empty() && pad < 100000; ++pad)
        if (std::string c = R"({"id":"b","x":)" + std::to_string(pad) + "}"; TranslationMemo::slot(c) == TranslationMemo::slot(a))
            b = c;
    ASSERT_FALSE(b.empty());
    memo.keep(b, Translation(std::string_view("Unknown Group")));
    EXPECT_EQ(memo.find(a), nullptr);
    ASSERT_NE(memo.find(b), nullptr);
    EXPECT_EQ(std::get<std::string_view>(*memo.find(b)), "Unknown Group");
    const std::string large = R"({"id":"c","secret":")" + std::string(TranslationMemo::kLargest, 's') + "\"}";
    EXPECT_EQ(std::get<Target>(memo.keep(large, target("c"))).ref.id, "c");
    EXPECT_EQ(memo.find(large), nullptr);
    EXPECT_EQ(std::get<Target>(memo.keep("", target("d"))).ref.id, "d");
    EXPECT_EQ(memo.find(""), nullptr);
    EXPECT_EQ(memo.kept_bytes(), b.size());
}

} // namespace
} // namespace watchd::api::patrol
