// The check state machine on a fake clock: scheduling, gossm's notification backoff exactly, recovery.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "model/check_machine.h"

namespace watchd::model {
namespace {

using base::kUsecPerMsec;
using base::kUsecPerSec;

struct Harness {
    CheckSpec spec;
    Settings settings;
    CheckStatus st;
    Now now{100 * kUsecPerSec, 1000 * kUsecPerSec};
    std::vector<Action> out;

    Harness() {
        spec.id = "web";
        spec.name = "Web";
        spec.address = "10.0.0.1";
        spec.port = 80;
        spec.protocol = "tcp";
        spec.interval = 10 * kUsecPerSec;
        settings.notify_backoff_base = 2;
        st = initial_status(spec, 3);
    }
    std::vector<Action> &run(const Event &e) {
        out = transition(spec, settings, st, e, now);
        return out;
    }
    void at(base::Usec mono) {
        now.real += mono - now.mono;
        now.mono = mono;
    }
    bool probes() const {
        for (const auto &a : out)
            if (std::holds_alternative<act::StartProbe>(a)) return true;
        return false;
    }
    const act::Announce *said(Announcement what) const {
        for (const auto &a : out)
            if (const auto *an = std::get_if<act::Announce>(&a); an && an->what == what) return an;
        return nullptr;
    }
    // The probe due now runs and ends with `ok`.
    void check(bool ok) {
        at(st.state_deadline);
        run(ev::TimerFired{TimerKind::State});
        EXPECT_TRUE(probes());
        run(ev::ProbeFinished{ok, 3 * kUsecPerMsec, ok ? "" : "connection refused"});
    }
};

TEST(CheckMachine, FirstProbeIsSpreadOverTheIntervalThenAtAFixedRate) {
    Harness h;
    h.run(ev::Activate{});
    EXPECT_EQ(h.st.state, UnitState::Starting);
    EXPECT_FALSE(h.probes());
    const base::Usec first = h.st.state_deadline;
    EXPECT_GE(first, h.now.mono);
    EXPECT_LT(first, h.now.mono + h.spec.interval);
    // other ids land elsewhere in the interval
    Harness other;
    other.spec.id = "db";
    other.st = initial_status(other.spec);
    other.run(ev::Activate{});
    EXPECT_NE(other.st.state_deadline, first);
    h.at(first + 7 * kUsecPerMsec); // a late wake-up does not move the schedule
    h.run(ev::TimerFired{TimerKind::State});
    EXPECT_TRUE(h.probes());
    EXPECT_EQ(h.st.state_deadline, first + h.spec.interval);
    h.run(ev::ProbeFinished{true, 2 * kUsecPerMsec, ""});
    EXPECT_EQ(h.st.state, UnitState::Running);
    ASSERT_EQ(h.st.samples.size(), 1u);
    EXPECT_TRUE(h.st.samples[0].online);
    EXPECT_EQ(h.st.samples[0].latency, 2 * kUsecPerMsec);
    EXPECT_NE(h.said(Announcement::Started), nullptr);
}

TEST(CheckMachine, GossmsBackoffExactly) {
    // b = 2: the first failure notifies, then after 2 s, 4 s, 8 s... measured from each notification; a probe
    // every 1 s sees notifications at t = 0, 3 (>2 after 0), 8 (>4 after 3), 17 (>8 after 8)
    Harness h;
    h.spec.interval = kUsecPerSec;
    h.run(ev::Activate{});
    std::vector<int> notified;
    const base::Usec t0 = h.st.state_deadline;
    for (int t = 0; t <= 20; ++t) {
        h.check(false);
        if (h.said(Announcement::Down)) notified.push_back(static_cast<int>((h.now.mono - t0) / kUsecPerSec));
    }
    EXPECT_EQ(notified, (std::vector<int>{0, 3, 8, 17}));
    EXPECT_EQ(h.st.state, UnitState::Failed);
    EXPECT_EQ(h.st.last_error, "connection refused");
    // a success resets it, says how long it was down, and the next failure notifies at once
    h.check(true);
    ASSERT_NE(h.said(Announcement::Up), nullptr);
    EXPECT_NE(h.said(Announcement::Up)->message.find("up again after 21s (4 notifications sent)"), std::string::npos)
        << h.said(Announcement::Up)->message;
    h.check(false);
    EXPECT_NE(h.said(Announcement::Down), nullptr);
}

TEST(CheckMachine, ZeroBackoffNotifiesOnEveryFailure) {
    Harness h;
    h.settings.notify_backoff_base = 0;
    h.run(ev::Activate{});
    for (int i = 0; i < 5; ++i) {
        h.check(false);
        EXPECT_NE(h.said(Announcement::Down), nullptr) << i;
    }
}

TEST(CheckMachine, NotificationsNameTheServerAsGossmDoes) {
    Harness h;
    h.run(ev::Activate{});
    h.check(false);
    ASSERT_NE(h.said(Announcement::Down), nullptr);
    EXPECT_EQ(h.said(Announcement::Down)->message, "Web (tcp 10.0.0.1:80) not reached: connection refused");
    EXPECT_EQ(h.said(Announcement::Down)->priority, 4);
    EXPECT_EQ(notify_delay(5, 1), 5 * kUsecPerSec);
    EXPECT_EQ(notify_delay(5, 3), 125 * kUsecPerSec);
    EXPECT_EQ(notify_delay(0, 7), 0);
    EXPECT_EQ(notify_delay(10, 40), 86400 * kUsecPerSec); // capped at a day
}

TEST(CheckMachine, RiseAndFallAskForResultsInARow) {
    Harness h;
    h.spec.interval = kUsecPerSec;
    h.spec.rise = 2;
    h.spec.fall = 3;
    h.run(ev::Activate{});
    h.check(true);
    EXPECT_EQ(h.st.state, UnitState::Starting) << "one success of the two it needs";
    h.check(true);
    EXPECT_EQ(h.st.state, UnitState::Running);
    const base::Usec first_failure_real = h.now.real + h.spec.interval;
    h.check(false);
    h.check(false);
    EXPECT_EQ(h.st.state, UnitState::Running) << "two failures of the three it takes";
    EXPECT_EQ(h.said(Announcement::Down), nullptr);
    h.check(true); // a success in between starts the count again
    h.check(false);
    h.check(false);
    EXPECT_EQ(h.st.state, UnitState::Running);
    h.check(false);
    EXPECT_EQ(h.st.state, UnitState::Failed);
    ASSERT_NE(h.said(Announcement::Down), nullptr) << "notified when it goes down";
    EXPECT_EQ(h.st.down_since, first_failure_real + 3 * h.spec.interval) << "its outage began with the first failure in a row";
    h.check(false); // once down, each failure is a failed check for gossm's backoff (b = 2: the next after > 2 s)
    EXPECT_EQ(h.said(Announcement::Down), nullptr);
    h.check(true);
    EXPECT_EQ(h.st.state, UnitState::Failed) << "one success of the two it needs to be up again";
    EXPECT_EQ(h.said(Announcement::Up), nullptr);
    h.check(true);
    EXPECT_EQ(h.st.state, UnitState::Running);
    ASSERT_NE(h.said(Announcement::Up), nullptr);
    EXPECT_NE(h.said(Announcement::Up)->message.find("up again after 5s"), std::string::npos) << h.said(Announcement::Up)->message;
    EXPECT_EQ(h.st.samples_total, 11u) << "every result is recorded";
}

TEST(CheckMachine, WithoutRiseAndFallOneResultDecides) {
    Harness h;
    h.run(ev::Activate{});
    h.check(false);
    EXPECT_EQ(h.st.state, UnitState::Failed);
    h.check(true);
    EXPECT_EQ(h.st.state, UnitState::Running);
}

TEST(CheckMachine, HistoryIsBounded) {
    Harness h;
    h.settings.history = 5;
    h.run(ev::Activate{});
    for (int i = 0; i < 12; ++i) h.check(i % 2 == 0);
    EXPECT_EQ(h.st.samples.size(), 5u);
    EXPECT_EQ(h.st.samples_total, 12u);
    EXPECT_FALSE(h.st.samples.back().online);
    EXPECT_EQ(h.st.samples.back().error, "connection refused");
}

TEST(CheckMachine, NoSecondProbeBesideASlowOne) {
    Harness h;
    h.run(ev::Activate{});
    h.at(h.st.state_deadline);
    h.run(ev::TimerFired{TimerKind::State});
    EXPECT_TRUE(h.probes());
    h.at(h.st.state_deadline);
    h.run(ev::TimerFired{TimerKind::State});
    EXPECT_FALSE(h.probes());
}

TEST(CheckMachine, DisableStopsAndEnableProbesNow) {
    Harness h;
    h.run(ev::Activate{});
    h.check(true);
    h.at(h.st.state_deadline);
    h.run(ev::TimerFired{TimerKind::State});
    h.run(ev::ToggleCmd{Toggle::Disable});
    EXPECT_EQ(h.st.state, UnitState::Inactive);
    bool stopped = false;
    for (const auto &a : h.out) stopped |= std::holds_alternative<act::StopProbe>(a);
    EXPECT_TRUE(stopped);
    h.run(ev::ProbeFinished{false, 0, "late"}); // a result after the stop is dropped
    EXPECT_EQ(h.st.state, UnitState::Inactive);
    h.run(ev::ToggleCmd{Toggle::Enable});
    EXPECT_TRUE(h.probes());
    EXPECT_EQ(h.st.state, UnitState::Starting);
    // removed and shut down: nothing more
    h.run(ev::Deactivate{DeactivateWhy::Removed});
    EXPECT_EQ(h.st.state, UnitState::Inactive);
    EXPECT_NE(h.said(Announcement::Removed), nullptr);
}

} // namespace
} // namespace watchd::model
