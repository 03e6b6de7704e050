// One datagram at a time through DatagramHandler over the real Supervisor (a real loop, no process started: the
// apps are disabled): patrol's reduced answers, silence on errors and garbage, the secret in clear, and signed
// pings (the HMAC checked by the core through Command::authenticate, the window, replays), each outcome counted.
#include <gtest/gtest.h>

#include <string>

#include "api/udp/datagram.h"
#include "event/loop.h"
#include "supervisor/supervisor.h"
#include "sys/log.h"

namespace watchd::api::udp {
namespace {

using supervisor::UnitKind;

constexpr base::Usec kNow = 1700000000 * base::kUsecPerSec;

// The supervisor, with every submit counted and the last command kept.
class CountingSink final : public supervisor::CommandSink {
public:
    explicit CountingSink(supervisor::CommandSink &inner) : inner_(inner) {}
    supervisor::CommandResult submit(const supervisor::UnitRef &ref, const supervisor::Command &cmd) override {
        ++submits;
        last = cmd;
        return inner_.submit(ref, cmd);
    }
    int submits = 0;
    supervisor::Command last;

private:
    supervisor::CommandSink &inner_;
};

class DatagramTest : public ::testing::Test {
protected:
    std::unique_ptr<event::Loop> loop;
    std::unique_ptr<supervisor::Supervisor> sup;
    std::unique_ptr<CountingSink> sink;
    std::unique_ptr<DatagramHandler> handler;
    base::Usec now = kNow;

    void SetUp() override {
        sys::log::init(sys::log::Target::Stderr, 3, "");
        auto l = event::Loop::create();
        ASSERT_TRUE(l);
        loop = std::move(*l);
        sup = std::make_unique<supervisor::Supervisor>(*loop);
        model::Config c;
        auto app = [&](const char *id, model::KeepAlive k, const char *secret) {
            model::AppSpec a;
            a.id = id;
            a.name = std::string("App ") + id;
            a.keepalive = k;
            a.working_directory = "/";
            a.binary = "/bin/true";
            a.disabled = true; // never started: no process in a unit test
            a.secret = secret;
            a.keyvalue = {{"k", "1"}};
            c.apps.push_back(a);
        };
        app("locked", model::KeepAlive::Udp, "s3cret");
        app("open", model::KeepAlive::Udp, "");
        app("web", model::KeepAlive::Http, "");
        sup->apply(c);
        sink = std::make_unique<CountingSink>(*sup);
        handler = std::make_unique<DatagramHandler>(*sink, [this] { return now; });
    }

    // The reply, or "-" when there is none.
    std::string send(std::string_view datagram, Outcome expected) {
        std::string reply = "-";
        EXPECT_EQ(handler->handle(datagram, reply), expected) << datagram;
        return reply;
    }
    std::string signed_ping(const char *id, const char *secret, const std::string &nonce, base::Usec at = kNow) {
        return make_signed_ping(id, 0, at / base::kUsecPerSec, nonce, secret);
    }
};

TEST_F(DatagramTest, PlainPingsAreAnsweredReducedWithViaUdp) {
    const std::string reply = send(R"({"id":"open","group":"app","ping":true})", Outcome::Replied);
    EXPECT_EQ(reply.rfind(R"({"id":"open","group":"app","name":"App open",)", 0), 0u) << reply;
    EXPECT_EQ(reply.find("keyvalue"), std::string::npos) << reply; // reduced: no keyvalue, no history
    EXPECT_EQ(reply.find("history"), std::string::npos) << reply;
    EXPECT_EQ(reply.find('\n'), std::string::npos) << reply; // compact
    EXPECT_TRUE(sink->last.ping);
    EXPECT_EQ(sink->last.via, supervisor::Command::Via::Udp);
    EXPECT_FALSE(sink->last.history);
}

TEST_F(DatagramTest, ErrorsAndGarbageGetNoReplyAndAreCounted) {
    for (const char *garbage : {"", "not json", "[1,2]", R"({"pid":-1})", R"({"id":7})", "{\"id\":\"open\""})
        EXPECT_EQ(send(garbage, Outcome::Malformed), "-");
    EXPECT_EQ(sink->submits, 0);
    EXPECT_EQ(send(R"({"id":"ghost","group":"app","ping":true})", Outcome::Refused), "-");
    EXPECT_EQ(handler->last_refusal(), "Unknown App");
    EXPECT_EQ(send(R"({"id":"open","group":"nope"})", Outcome::Refused), "-");
    EXPECT_EQ(handler->last_refusal(), "Unknown Group");
    EXPECT_EQ(send(R"({"id":"web","group":"app","ping":true})", Outcome::Refused), "-"); // an http app
    EXPECT_EQ(handler->last_refusal(), "Invalid Ping Endpoint");
    EXPECT_EQ(send(R"({"id":"locked","group":"app","secret":"wrong"})", Outcome::Refused), "-");
    EXPECT_EQ(handler->last_refusal(), "Secret Invalid");
    EXPECT_EQ(handler->truncated(), Outcome::Malformed);
    const UdpStats &s = handler->stats();
    EXPECT_EQ(s.received, 11u);
    EXPECT_EQ(s.malformed, 7u);
    EXPECT_EQ(s.refused, 4u);
}

TEST_F(DatagramTest, SecretInClearWorksAsInPatrolAndNoSecretIsCasInvalid) {
    EXPECT_EQ(send(R"({"id":"locked","group":"app","ping":true,"secret":"s3cret"})", Outcome::Replied)
                  .find("cas-invalid"),
              std::string::npos);
    EXPECT_NE(send(R"({"id":"locked","group":"app","ping":true})", Outcome::Replied).find(R"("cas-invalid":true)"),
              std::string::npos);
}

// A datagram seen again skips the parse: what it means is kept by its bytes, never its reply (each ping is submitted
// and answered afresh) nor another datagram's, even one kept in the same slot.
TEST_F(DatagramTest, ARepeatedDatagramIsServedAfreshAndNeverTakenForAnother) {
    const std::string run_once = R"({"id":"open","group":"app","toggle":4})";
    EXPECT_EQ(send(run_once, Outcome::Replied).find("run-once"), std::string::npos);
    EXPECT_NE(send(run_once, Outcome::Replied).find(R"("run-once":true)"), std::string::npos)
        << "the second reply shows the state the first one left";
    EXPECT_EQ(sink->submits, 2);
    const std::string ping = R"({"id":"open","group":"app","ping":true})";
    // Two datagrams kept in one slot, with different meanings: each keeps its own.
    const std::size_t slot = patrol::TranslationMemo::slot(ping);
    std::string other;
    for (int pad = 0; other.empty() && pad < 100000; ++pad) {
        std::string candidate = R"({"id":"ghost","group":"app","ping":true,"pad":)" + std::to_string(pad) + "}";
        if (patrol::TranslationMemo::slot(candidate) == slot) other = candidate;
    }
    ASSERT_FALSE(other.empty());
    for (int round = 0; round < 2; ++round) {
        EXPECT_EQ(send(other, Outcome::Refused), "-");
        EXPECT_EQ(handler->last_refusal(), "Unknown App");
        EXPECT_EQ(send(ping, Outcome::Replied).rfind(R"({"id":"open",)", 0), 0u);
        EXPECT_EQ(send(R"({"id":"open","group":"nope"})", Outcome::Refused), "-");
        EXPECT_EQ(handler->last_refusal(), "Unknown Group");
    }
    EXPECT_EQ(handler->stats().refused, 4u);
    EXPECT_EQ(handler->stats().received, 8u);
    EXPECT_EQ(sink->submits, 6) << "every ping submitted, none of the refusals (a group that names no unit)";
    // Long datagrams are served but not kept: what is kept stays small whatever comes.
    const std::size_t kept = handler->memo().kept_bytes();
    EXPECT_GT(kept, 0u);
    for (int i = 0; i < 200; ++i) {
        const std::string keyvalue = R"({"id":"open","group":"app","keyvalue":{"k":")" + std::string(3000, 'x') +
                                     std::to_string(i) + R"("}})";
        EXPECT_EQ(send(keyvalue, Outcome::Replied).rfind(R"({"id":"open",)", 0), 0u);
    }
    EXPECT_EQ(handler->memo().kept_bytes(), kept);
    // A datagram that is not patrol's JSON is never taken for a kept one.
    EXPECT_EQ(send(ping.substr(0, ping.size() - 1), Outcome::Malformed), "-");
    EXPECT_EQ(send("", Outcome::Malformed), "-");
}

TEST_F(DatagramTest, SignedPingsAreCheckedByTheCoreWithTheAppsSecret) {
    const std::string good = signed_ping("locked", "s3cret", "nonce-good-0000001");
    const std::string reply = send(good, Outcome::Replied);
    EXPECT_EQ(reply.find("cas-invalid"), std::string::npos) << reply; // authenticated: as with the secret
    EXPECT_TRUE(sink->last.secret.empty());                           // the secret never travelled
    EXPECT_TRUE(sink->last.authenticate);
    EXPECT_EQ(handler->stats().signed_ok, 1u);
    // the same datagram again: a replay, refused before the core is asked
    const int submits = sink->submits;
    EXPECT_EQ(send(good, Outcome::Replayed), "-");
    EXPECT_EQ(sink->submits, submits);
    // signed with another key: the core says Secret Invalid, counted as a bad signature
    EXPECT_EQ(send(signed_ping("locked", "guess", "nonce-bad-00000001"), Outcome::BadSignature), "-");
    // a bad signature does not burn the nonce: the real one with that nonce still passes
    EXPECT_NE(send(signed_ping("locked", "s3cret", "nonce-bad-00000001"), Outcome::Replied), "-");
    // outside the window, either way: refused before the core is asked
    EXPECT_EQ(send(signed_ping("locked", "s3cret", "nonce-old-00000001", kNow - 31 * base::kUsecPerSec),
                   Outcome::OutsideWindow),
              "-");
    EXPECT_EQ(send(signed_ping("locked", "s3cret", "nonce-new-00000001", kNow + 31 * base::kUsecPerSec),
                   Outcome::OutsideWindow),
              "-");
    EXPECT_NE(send(signed_ping("locked", "s3cret", "nonce-edge-0000001", kNow - 30 * base::kUsecPerSec),
                   Outcome::Replied),
              "-");
    const UdpStats &s = handler->stats();
    EXPECT_EQ(s.replayed, 1u);
    EXPECT_EQ(s.bad_signature, 1u);
    EXPECT_EQ(s.outside_window, 2u);
    EXPECT_EQ(s.signed_ok, 3u);
}

TEST_F(DatagramTest, SignedPingsCarryNothingUnsignedAndNeedNoSecretWhereThereIsNone) {
    // an app without a secret: nothing to check the signature against, served as a plain ping
    EXPECT_NE(send(signed_ping("open", "whatever", "nonce-open-0000001"), Outcome::Replied), "-");
    // a toggle riding on a signed ping would go unsigned: the datagram is refused as malformed
    std::string with_toggle = signed_ping("locked", "s3cret", "nonce-toggle-00001");
    with_toggle.insert(1, R"("toggle":1,)"); // Enable
    EXPECT_EQ(send(with_toggle, Outcome::Malformed), "-");
    std::string with_secret = signed_ping("locked", "s3cret", "nonce-secret-00001");
    with_secret.insert(1, R"("secret":"s3cret",)");
    EXPECT_EQ(send(with_secret, Outcome::Malformed), "-");
    EXPECT_TRUE(sup->unit({UnitKind::App, "locked"}, false)->disabled); // nothing applied: still disabled
}

} // namespace
} // namespace watchd::api::udp
