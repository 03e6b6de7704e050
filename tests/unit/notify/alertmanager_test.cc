// The alertmanager notifier: its postableAlert encoding (exact), and the Dispatcher on a real loop posting to
// loopback HTTP receivers this test runs: a firing alert posted, then re-sent every resendInterval with endsAt
// 4 intervals ahead, resolved once with endsAt now and never re-sent after; a crash loop replaced by a failure;
// several URLs with one down still delivered (the error names each URL that failed, no password logged); a
// refusal not retried; firing alerts kept across a reload that replaces the notifier; a removed unit resolved.
#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <atomic>
#include <ctime>
#include <mutex>
#include <netinet/in.h>
#include <string>
#include <sys/socket.h>
#include <thread>
#include <unistd.h>
#include <vector>

#include "notify/alertmanager.h"
#include "notify/dispatcher.h"
#include "loopback_receiver.h"

namespace watchd::notify {
namespace {

using base::kUsecPerMsec;
using base::kUsecPerSec;
namespace am = alertmanager;
using loopback::Receiver;
using loopback::Request;

constexpr base::Usec kT0 = 1700000000000000; // 2023-11-14 22:13:20 UTC


// A loopback URL nothing listens on (connection refused).
std::string closed_url(const std::string &userinfo = "") {
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(fd, reinterpret_cast<sockaddr *>(&a), sizeof a);
    socklen_t len = sizeof a;
    ::getsockname(fd, reinterpret_cast<sockaddr *>(&a), &len);
    ::close(fd);
    return "http://" + userinfo + "127.0.0.1:" + std::to_string(ntohs(a.sin_port));
}

// "2023-11-14T22:13:20.000Z" → realtime µs (0 when malformed).
base::Usec parse_time(const std::string &s) {
    std::tm tm{};
    unsigned ms = 0;
    if (std::sscanf(s.c_str(), "%d-%d-%dT%d:%d:%d.%3uZ", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour,
                    &tm.tm_min, &tm.tm_sec, &ms) != 7)
        return 0;
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    return static_cast<base::Usec>(::timegm(&tm)) * kUsecPerSec + ms * kUsecPerMsec;
}

// The value of "endsAt" in the first alert at or after `from` in `body`, and the body with it replaced by "ENDS".
std::pair<base::Usec, std::string> take_ends(std::string body, std::size_t from = 0) {
    const std::string key = "\"endsAt\":\"";
    const auto at = body.find(key, from);
    if (at == std::string::npos) return {0, body};
    const auto end = body.find('"', at + key.size());
    const base::Usec t = parse_time(body.substr(at + key.size(), end - at - key.size()));
    body.replace(at + key.size(), end - at - key.size(), "ENDS");
    return {t, body};
}

model::Alert check_alert(model::AlertKind kind, const std::string &id = "web") {
    model::Alert a;
    a.unit = {model::UnitKind::Check, id};
    a.kind = kind;
    a.name = id;
    a.target = id + " (tcp 127.0.0.1:1)";
    a.message = kind == model::AlertKind::Down ? "not reached: connection refused" : "up again after 1m";
    a.since = kind == model::AlertKind::Down ? kT0 : 0;
    a.at = kT0 + 60 * kUsecPerSec;
    return a;
}

model::Alert app_alert(model::AlertKind kind) {
    model::Alert a;
    a.unit = {model::UnitKind::App, "api"};
    a.kind = kind;
    a.name = "API";
    a.message = kind == model::AlertKind::Failed      ? "start limit hit"
                : kind == model::AlertKind::CrashLoop ? "3 quick failures in a row"
                                                      : "runs again after it had failed";
    a.at = kT0 + 120 * kUsecPerSec;
    a.since = kind == model::AlertKind::Failed ? a.at : 0;
    return a;
}

// The firing check "web" of check_alert(Down) as posted by a notifier with host "testhost", label team=ops and
// generatorURL http://dash.example:8421/, endsAt as "ENDS".
const std::string kWebDown =
    R"({"labels":{"alertname":"WatchdCheckDown","host":"testhost","kind":"check","id":"web","severity":"critical",)"
    R"("team":"ops"},"annotations":{"summary":"DOWN: web (tcp 127.0.0.1:1) not reached: connection refused",)"
    R"("description":"DOWN: web (tcp 127.0.0.1:1) not reached: connection refused\nSince: 2023-11-14 22:13:20 UTC\n)"
    R"(At: 2023-11-14 22:14:20 UTC\nHost: testhost\nUnit: check/web"},"startsAt":"2023-11-14T22:13:20.000Z",)"
    R"("endsAt":"ENDS","generatorURL":"http://dash.example:8421/#check/web"})";
// Its resolution by check_alert(Up).
const std::string kWebUp =
    R"({"labels":{"alertname":"WatchdCheckDown","host":"testhost","kind":"check","id":"web","severity":"critical",)"
    R"("team":"ops"},"annotations":{"summary":"UP: web (tcp 127.0.0.1:1) up again after 1m",)"
    R"("description":"UP: web (tcp 127.0.0.1:1) up again after 1m\nAt: 2023-11-14 22:14:20 UTC\nHost: testhost\n)"
    R"(Unit: check/web"},"startsAt":"2023-11-14T22:13:20.000Z",)"
    R"("endsAt":"ENDS","generatorURL":"http://dash.example:8421/#check/web"})";

TEST(AlertmanagerEncoding, APostableAlertExactly) {
    am::Target t{"testhost", {{"team", "ops"}}, "http://dash.example:8421/"};
    const std::string s = am::postable_alert(check_alert(model::AlertKind::Down), model::AlertKind::Down, t, kT0,
                                             kT0 + 240 * kUsecPerSec + 5 * kUsecPerMsec);
    std::string expected = kWebDown;
    expected.replace(expected.find("ENDS"), 4, "2023-11-14T22:17:20.005Z");
    EXPECT_EQ(s, expected);
    EXPECT_EQ(am::rfc3339(kT0 + 999 * kUsecPerMsec), "2023-11-14T22:13:20.999Z");
    EXPECT_EQ(am::alert_name(model::UnitKind::Check, model::AlertKind::Up), "WatchdCheckDown");
    EXPECT_EQ(am::alert_name(model::UnitKind::App, model::AlertKind::Failed), "WatchdAppFailed");
    EXPECT_EQ(am::alert_name(model::UnitKind::App, model::AlertKind::Recovered), "WatchdAppFailed");
    EXPECT_EQ(am::alert_name(model::UnitKind::Service, model::AlertKind::CrashLoop), "WatchdServiceCrashLoop");
    EXPECT_EQ(am::severity(model::AlertKind::CrashLoop), "warning");
    EXPECT_EQ(am::generator_url("https://h:1", {model::UnitKind::App, "a"}), "https://h:1/#app/a");
    EXPECT_EQ(am::generator_url("https://h/watchd", {model::UnitKind::Service, "s"}), "https://h/watchd#service/s");
}

class AlertmanagerTest : public ::testing::Test {
protected:
    std::unique_ptr<event::Loop> loop;
    std::vector<std::string> logged;
    void SetUp() override {
        auto l = event::Loop::create();
        ASSERT_TRUE(l) << l.error().message();
        loop = std::move(*l);
    }
    static model::NotifierSpec spec(std::vector<std::string> urls, base::Usec resend = 300 * kUsecPerMsec) {
        model::NotifierSpec s;
        s.kind = "alertmanager";
        s.urls = std::move(urls);
        s.resend_interval = resend;
        s.labels = {{"team", "ops"}};
        s.fields["generatorURL"] = "http://dash.example:8421/";
        return s;
    }
    std::unique_ptr<Dispatcher> make(const std::vector<model::NotifierSpec> &specs) {
        auto d = std::make_unique<Dispatcher>(*loop, [this](int, const std::string &m) { logged.push_back(m); },
                                              Dispatcher::Retry{10 * kUsecPerMsec, 40 * kUsecPerMsec});
        d->configure(specs, "testhost");
        EXPECT_EQ(d->notifiers(), specs.size());
        return d;
    }
    template <class F> bool spin_until(F done, base::Usec limit = 10 * kUsecPerSec) {
        const base::Usec end = base::now_monotonic() + limit;
        while (!done() && base::now_monotonic() < end) loop->run_once(10 * kUsecPerMsec);
        return done();
    }
    void spin_for(base::Usec t) {
        const base::Usec end = base::now_monotonic() + t;
        while (base::now_monotonic() < end) loop->run_once(10 * kUsecPerMsec);
    }
    std::string all_logged() const {
        std::string all;
        for (const auto &m : logged) all += m + "\n";
        return all;
    }
};

TEST_F(AlertmanagerTest, FiringIsResentEveryIntervalThenResolvedOnceAndNotAgain) {
    Receiver r;
    auto d = make({spec({r.url()})});
    const base::Usec sent_at = base::now_realtime();
    d->send(check_alert(model::AlertKind::Down));
    ASSERT_TRUE(spin_until([&] { return d->counts().delivered == 1; }));
    auto reqs = r.requests();
    EXPECT_EQ(reqs[0].head.substr(0, reqs[0].head.find("\r\n")), "POST /api/v2/alerts HTTP/1.1");
    EXPECT_NE(reqs[0].head.find("Content-Type: application/json"), std::string::npos) << reqs[0].head;
    auto [ends, body] = take_ends(reqs[0].body);
    EXPECT_EQ(body, "[" + kWebDown + "]");
    // endsAt: 4 resend intervals (1.2 s) after the post
    EXPECT_GE(ends + 5 * kUsecPerMsec, sent_at + 1200 * kUsecPerMsec) << reqs[0].body;
    EXPECT_LE(ends, base::now_realtime() + 1200 * kUsecPerMsec) << reqs[0].body;

    // re-sent while it fires: gossm's backoff sends no more Down alerts, yet Alertmanager hears of it again and again
    ASSERT_TRUE(spin_until([&] { return r.count() >= 4; }));
    reqs = r.requests();
    base::Usec last_ends = ends;
    for (std::size_t i = 1; i < 4; ++i) {
        auto [e, b] = take_ends(reqs[i].body);
        EXPECT_EQ(b, "[" + kWebDown + "]") << "re-send " << i;
        EXPECT_GT(e, last_ends) << "each re-send moves endsAt on";
        last_ends = e;
    }
    EXPECT_EQ(d->counts().delivered, 1u) << "re-sends are the notifier's own, not the Dispatcher's deliveries";

    // resolved: once, endsAt now, startsAt when it began
    d->send(check_alert(model::AlertKind::Up));
    ASSERT_TRUE(spin_until([&] { return d->counts().delivered == 2; }));
    const base::Usec resolved_at = base::now_realtime();
    reqs = r.requests();
    std::size_t n = reqs.size();
    auto [rends, rbody] = take_ends(reqs.back().body);
    EXPECT_EQ(rbody, "[" + kWebUp + "]");
    EXPECT_LE(rends, resolved_at + 5 * kUsecPerMsec);
    EXPECT_GE(rends + 2 * kUsecPerSec, resolved_at);
    spin_for(1200 * kUsecPerMsec); // four intervals: nothing more
    EXPECT_EQ(r.count(), n) << r.requests().back().body;
}

TEST_F(AlertmanagerTest, ACrashLoopIsReplacedByTheFailureAndTheRecoveryResolvesIt) {
    Receiver r;
    auto d = make({spec({r.url()}, 10 * kUsecPerSec)});
    d->send(app_alert(model::AlertKind::CrashLoop));
    d->send(app_alert(model::AlertKind::Failed));
    d->send(app_alert(model::AlertKind::Recovered));
    ASSERT_TRUE(spin_until([&] { return d->counts().delivered == 3; }));
    const auto reqs = r.requests();
    ASSERT_EQ(reqs.size(), 3u);
    auto count = [](const std::string &s, const std::string &what) {
        std::size_t n = 0;
        for (auto at = s.find(what); at != std::string::npos; at = s.find(what, at + 1)) ++n;
        return n;
    };
    EXPECT_EQ(count(reqs[0].body, "\"alertname\""), 1u);
    EXPECT_NE(reqs[0].body.find(R"("alertname":"WatchdAppCrashLoop","host":"testhost","kind":"app","id":"api","severity":"warning")"),
              std::string::npos) << reqs[0].body;
    EXPECT_NE(reqs[0].body.find(R"("generatorURL":"http://dash.example:8421/#app/api")"), std::string::npos);
    // the failure: the crash loop resolved (endsAt now, well before its own 40 s), the failure firing
    ASSERT_EQ(count(reqs[1].body, "\"alertname\""), 2u) << reqs[1].body;
    const auto second = reqs[1].body.find("{\"labels\"", 2); // the second element
    EXPECT_LT(reqs[1].body.find("WatchdAppCrashLoop"), second);
    EXPECT_GT(reqs[1].body.find("WatchdAppFailed"), second);
    const base::Usec loop_ends = take_ends(reqs[1].body).first, failed_ends = take_ends(reqs[1].body, second).first;
    EXPECT_LE(loop_ends, base::now_realtime());
    EXPECT_GT(failed_ends, base::now_realtime() + 30 * kUsecPerSec);
    EXPECT_NE(reqs[1].body.find(R"("startsAt":"2023-11-14T22:15:20.000Z")", second), std::string::npos) << reqs[1].body;
    // recovered: the failure resolved
    EXPECT_EQ(count(reqs[2].body, "\"alertname\""), 1u);
    EXPECT_NE(reqs[2].body.find(R"("alertname":"WatchdAppFailed")"), std::string::npos) << reqs[2].body;
    EXPECT_NE(reqs[2].body.find(R"("summary":"RECOVERED: app api (API) runs again after it had failed")"),
              std::string::npos) << reqs[2].body;
    EXPECT_LE(take_ends(reqs[2].body).first, base::now_realtime());
}

TEST_F(AlertmanagerTest, SeveralUrlsOneDownIsStillDeliveredAndAllDownNamesEach) {
    Receiver up;
    const std::string down = closed_url("watchd:pa55word@");
    auto d = make({spec({down, up.url()}, 200 * kUsecPerMsec)});
    d->send(check_alert(model::AlertKind::Down));
    ASSERT_TRUE(spin_until([&] { return d->counts().delivered == 1; }));
    EXPECT_EQ(d->counts().retried, 0u);
    EXPECT_EQ(up.count(), 1u);
    ASSERT_TRUE(spin_until([&] { return up.count() >= 3; })) << "re-sent to the one that answers";
    std::size_t warned = 0;
    for (const auto &m : logged) warned += m.find("did not take alerts") != std::string::npos;
    EXPECT_EQ(warned, 1u) << "said once, not at every re-send:\n" << all_logged();
    const std::string shown = "http://" + down.substr(down.find('@') + 1);
    EXPECT_NE(all_logged().find("alertmanager 1: " + shown + " did not take alerts"), std::string::npos) << all_logged();

    EXPECT_EQ(all_logged().find("pa55word"), std::string::npos) << all_logged();

    // none answers: retried, then given up, the error naming each URL
    logged.clear();
    const std::string down2 = closed_url();
    auto d2 = make({spec({down, down2})});
    d2->send(check_alert(model::AlertKind::Down, "db"));
    ASSERT_TRUE(spin_until([&] { return d2->counts().failed == 1; }));
    EXPECT_EQ(d2->counts().retried, Dispatcher::kAttempts - 1);
    const std::string &last = logged.back();
    EXPECT_NE(last.find(shown + ": "), std::string::npos) << last;
    EXPECT_NE(last.find("; " + down2 + ": "), std::string::npos) << last;
    EXPECT_EQ(all_logged().find("pa55word"), std::string::npos) << all_logged();
}

TEST_F(AlertmanagerTest, ARefusalIsNotRetried) {
    Receiver r(400);
    auto d = make({spec({r.url()}, 10 * kUsecPerSec)});
    d->send(check_alert(model::AlertKind::Down));
    ASSERT_TRUE(spin_until([&] { return d->counts().failed == 1; }));
    EXPECT_EQ(r.count(), 1u);
    EXPECT_NE(logged.back().find("HTTP 400"), std::string::npos) << logged.back();
}

TEST_F(AlertmanagerTest, AReloadThatReplacesTheNotifierKeepsResendingWhatFires) {
    Receiver r;
    auto d = make({spec({r.url()}, 10 * kUsecPerSec)});
    d->send(check_alert(model::AlertKind::Down));
    d->send(check_alert(model::AlertKind::Down, "gone"));
    d->send(check_alert(model::AlertKind::Up, "gone"));
    ASSERT_TRUE(spin_until([&] { return d->counts().delivered == 3; }));
    auto s = spec({r.url()}, 10 * kUsecPerSec);
    s.labels["team"] = "dba";
    d->configure({s}, "testhost"); // a new notifier: it hears of what fires from the Dispatcher, and posts it now
    ASSERT_TRUE(spin_until([&] { return r.count() >= 4; }, 2 * kUsecPerSec));
    const std::string body = r.requests()[3].body;
    EXPECT_NE(body.find(R"("id":"web","severity":"critical","team":"dba")"), std::string::npos) << body;
    EXPECT_EQ(body.find("\"gone\""), std::string::npos) << "what was resolved is not sent again: " << body;
}

TEST_F(AlertmanagerTest, ARemovedUnitIsResolvedAndNotResentAgain) {
    Receiver r;
    auto d = make({spec({r.url()}, 300 * kUsecPerMsec)});
    d->send(check_alert(model::AlertKind::Down));
    ASSERT_TRUE(spin_until([&] { return r.count() >= 1; }));
    d->forget({model::UnitKind::Check, "web"});
    ASSERT_TRUE(spin_until([&] { return r.count() >= 2; }, 2 * kUsecPerSec));
    const std::size_t n = r.count();
    const auto last = r.requests().back().body;
    EXPECT_NE(last.find(R"("alertname":"WatchdCheckDown")"), std::string::npos) << last;
    EXPECT_LE(take_ends(last).first, base::now_realtime()) << last;
    spin_for(1200 * kUsecPerMsec);
    EXPECT_EQ(r.count(), n);
}

} // namespace
} // namespace watchd::notify
