// The Dispatcher on a real loop, delivering webhooks to a loopback HTTP server this test runs: a receiver that keeps
// answering 503 is tried 5 times, then given up on; a receiver that does not answer holds one alert in flight while
// the outbox fills, and the outbox drops its oldest waiting alerts, never the one in flight.
#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <atomic>
#include <mutex>
#include <netinet/in.h>
#include <string>
#include <sys/socket.h>
#include <thread>
#include <unistd.h>
#include <vector>

#include "notify/dispatcher.h"
#include "loopback_receiver.h"

namespace watchd::notify {
namespace {

using base::kUsecPerMsec;
using base::kUsecPerSec;
using loopback::Receiver;

model::Alert alert(int n) {
    model::Alert a;
    a.kind = model::AlertKind::Down;
    a.unit = {model::UnitKind::Check, "c" + std::to_string(n)};
    a.name = "c" + std::to_string(n);
    a.message = "not reached: connection refused";
    return a;
}

class DispatcherTest : public ::testing::Test {
protected:
    std::unique_ptr<event::Loop> loop;
    std::vector<std::string> logged;
    void SetUp() override {
        auto l = event::Loop::create();
        ASSERT_TRUE(l) << l.error().message();
        loop = std::move(*l);
    }
    std::unique_ptr<Dispatcher> make(const std::string &url) {
        auto d = std::make_unique<Dispatcher>(*loop, [this](int, const std::string &m) { logged.push_back(m); },
                                              Dispatcher::Retry{10 * kUsecPerMsec, 40 * kUsecPerMsec});
        model::NotifierSpec s;
        s.kind = "webhook";
        s.fields = {{"url", url}, {"method", "POST"}, {"format", "json"}};
        d->configure({s}, "testhost");
        EXPECT_EQ(d->notifiers(), 1u);
        return d;
    }
    template <class F> bool spin_until(F done, base::Usec limit = 10 * kUsecPerSec) {
        const base::Usec end = base::now_monotonic() + limit;
        while (!done() && base::now_monotonic() < end) loop->run_once(10 * kUsecPerMsec);
        return done();
    }
};

TEST_F(DispatcherTest, ATransientFailureIsRetriedThenGivenUpAfterFiveAttempts) {
    Receiver r(503);
    auto d = make(r.url("/hook"));
    d->send(alert(1));
    ASSERT_TRUE(spin_until([&] { return d->counts().failed == 1; }));
    EXPECT_EQ(r.bodies().size(), Dispatcher::kAttempts);
    EXPECT_EQ(d->counts().retried, Dispatcher::kAttempts - 1);
    EXPECT_EQ(d->counts().delivered, 0u);
    ASSERT_FALSE(logged.empty());
    EXPECT_NE(logged.back().find("(gave up after 5 attempts)"), std::string::npos) << logged.back();
}

TEST_F(DispatcherTest, AFullOutboxDropsItsOldestWaitingAlertsNotTheOneInFlight) {
    Receiver r(200);
    r.hold = true; // the first alert's request is taken and never answered
    auto d = make(r.url("/hook"));
    d->send(alert(0));
    ASSERT_TRUE(spin_until([&] { return r.bodies().size() == 1; }));
    const std::size_t extra = 40;
    for (std::size_t i = 1; i <= Dispatcher::kOutbox + extra; ++i) d->send(alert(static_cast<int>(i)));
    EXPECT_EQ(d->counts().dropped, extra + 1) << "the outbox holds kOutbox alerts: the one in flight and kOutbox-1 waiting";
    bool warned = false;
    for (const auto &m : logged) warned |= m.find("is behind: dropped the oldest") != std::string::npos;
    EXPECT_TRUE(warned);
    r.release(); // the held request ends without an answer (retried), then the rest go
    ASSERT_TRUE(spin_until([&] { return d->counts().delivered >= Dispatcher::kOutbox; }, 30 * kUsecPerSec))
        << d->counts().delivered;
    const auto bodies = r.bodies();
    ASSERT_GE(bodies.size(), 2u);
    EXPECT_NE(bodies[0].find("check/c0\""), std::string::npos) << "the alert in flight was the first: " << bodies[0];
    EXPECT_NE(bodies.back().find("check/c296\""), std::string::npos) << "the newest last: " << bodies.back();
    // what was dropped is the oldest waiting: c1 .. c41 never reached the receiver, c42 did
    std::string all;
    for (const auto &b : bodies) all += b;
    EXPECT_EQ(all.find("check/c1\""), std::string::npos);
    EXPECT_EQ(all.find("check/c41\""), std::string::npos);
    EXPECT_NE(all.find("check/c42\""), std::string::npos);
}

} // namespace
} // namespace watchd::notify
