// The event layer on a real loop: io sources and set_events(), timers, priorities, child pidfds, run_once.
#include <gtest/gtest.h>

#include <csignal>
#include <fcntl.h>
#include <functional>
#include <string>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include <vector>

#include "event/loop.h"
#include "event/deadlines.h"
#include "event/poll_set.h"
#include "event/source.h"

namespace watchd::event {
namespace {

using base::kUsecPerMsec;

class EventTest : public ::testing::Test {
protected:
    std::unique_ptr<Loop> loop;
    int p[2] = {-1, -1};
    void SetUp() override {
        auto l = Loop::create();
        ASSERT_TRUE(l) << l.error().message();
        loop = std::move(*l);
        ASSERT_EQ(::pipe2(p, O_CLOEXEC | O_NONBLOCK), 0);
    }
    void TearDown() override {
        ::close(p[0]);
        ::close(p[1]);
    }
    // Runs iterations for about `ms` milliseconds.
    void spin(int ms) {
        const base::Usec end = base::now_monotonic() + base::Usec(ms) * kUsecPerMsec;
        while (base::now_monotonic() < end) loop->run_once(5 * kUsecPerMsec);
    }
};

TEST_F(EventTest, SetEventsSwitchesBetweenWritingAndReading) {
    std::vector<std::uint32_t> seen;
    IoSource *self = nullptr;
    auto src = IoSource::create(*loop, p[1], io::kWritable, [&](std::uint32_t revents) {
        seen.push_back(revents);
        ASSERT_TRUE(self->set_events(io::kReadable)); // a pipe's write end never becomes readable: quiet now
    });
    ASSERT_TRUE(src) << src.error().message();
    self = src->get();
    spin(30);
    ASSERT_EQ(seen.size(), 1u) << "writable once, then it waits for input";
    EXPECT_TRUE(seen[0] & io::kWritable);

    std::vector<std::uint32_t> reads;
    auto reader = IoSource::create(*loop, p[0], io::kReadable, [&](std::uint32_t revents) {
        reads.push_back(revents);
        char buf[16];
        while (::read(p[0], buf, sizeof buf) > 0) {
        }
    });
    ASSERT_TRUE(reader);
    spin(20);
    EXPECT_TRUE(reads.empty()) << "nothing to read yet";
    ASSERT_EQ(::write(p[1], "x", 1), 1);
    spin(20);
    ASSERT_EQ(reads.size(), 1u);
    EXPECT_TRUE(reads[0] & io::kReadable);
    // and back: the writer is told again once it asks for it
    ASSERT_TRUE((*src)->set_events(io::kWritable));
    spin(20);
    EXPECT_EQ(seen.size(), 2u);
}

TEST_F(EventTest, DisableStopsDispatchEvenFromInsideTheCallback) {
    int calls = 0;
    IoSource *self = nullptr;
    auto src = IoSource::create(*loop, p[1], io::kWritable, [&](std::uint32_t) {
        ++calls;
        self->disable();
    });
    ASSERT_TRUE(src);
    self = src->get();
    spin(30);
    EXPECT_EQ(calls, 1);
}

TEST_F(EventTest, ImportantSourcesRunBeforeNormalOnes) {
    std::string order;
    const int fd2 = ::dup(p[1]); // epoll takes an fd once per loop; a duplicate is another entry
    auto normal = IoSource::create(*loop, p[1], io::kWritable, [&](std::uint32_t) { order += "n"; });
    auto important = IoSource::create(*loop, fd2, io::kWritable, [&](std::uint32_t) { order += "I"; },
                                      Priority::Important);
    auto idle = Timer::create(*loop, [&] { order += "i"; }, Priority::Idle);
    ASSERT_TRUE(normal && important && idle);
    (*idle)->arm(1);
    // One source runs per iteration, the most important pending one first: while the important source stays
    // ready, the normal one waits; while the normal one stays ready, the idle timer waits.
    for (int i = 0; i < 3; ++i) loop->run_once(10 * kUsecPerMsec);
    EXPECT_EQ(order, "III");
    (*important)->disable();
    for (int i = 0; i < 3; ++i) loop->run_once(10 * kUsecPerMsec);
    EXPECT_EQ(order, "IIInnn");
    (*normal)->disable();
    spin(20);
    EXPECT_EQ(order, "IIInnni");
    important->reset();
    ::close(fd2);
}

TEST_F(EventTest, TimersFireOnceAtTheirDeadlineAndCancelStopsThem) {
    int fired = 0;
    auto t = Timer::create(*loop, [&] { ++fired; });
    ASSERT_TRUE(t);
    EXPECT_FALSE((*t)->armed());
    const base::Usec start = base::now_monotonic();
    base::Usec at = 0;
    auto probe = Timer::create(*loop, [&] { at = base::now_monotonic(); });
    (*probe)->arm(start + 50 * kUsecPerMsec);
    (*t)->arm(start + 30 * kUsecPerMsec);
    EXPECT_TRUE((*t)->armed());
    spin(100);
    EXPECT_EQ(fired, 1);
    EXPECT_FALSE((*t)->armed());
    EXPECT_GE(at, start + 50 * kUsecPerMsec) << "never before its deadline";
    (*t)->arm(base::now_monotonic() + 20 * kUsecPerMsec);
    (*t)->cancel();
    spin(50);
    EXPECT_EQ(fired, 1);
}

// A timer moved later again and again (a keepalive timeout at each ping) is not re-armed in sd-event each time: it
// wakes at the first deadline and goes on to the last one. Never before the deadline last asked for; moved earlier,
// at the earlier one; cancelled after being moved, never.
TEST_F(EventTest, TimersMovedLaterFireAtTheLastDeadlineOnly) {
    std::vector<base::Usec> fired;
    auto t = Timer::create(*loop, [&] { fired.push_back(base::now_monotonic()); });
    ASSERT_TRUE(t);
    base::Usec start = base::now_monotonic();
    for (int ms = 20; ms <= 60; ms += 10) (*t)->arm(start + ms * kUsecPerMsec);
    EXPECT_TRUE((*t)->armed());
    spin(40);
    EXPECT_TRUE(fired.empty()) << "woke at the first deadline, fired before the last one";
    EXPECT_TRUE((*t)->armed()) << "still waiting for the last deadline";
    spin(60);
    ASSERT_EQ(fired.size(), 1u);
    EXPECT_GE(fired[0], start + 60 * kUsecPerMsec);
    EXPECT_FALSE((*t)->armed());

    start = base::now_monotonic();
    (*t)->arm(start + 80 * kUsecPerMsec);
    (*t)->arm(start + 20 * kUsecPerMsec); // earlier: moved at once
    spin(50);
    ASSERT_EQ(fired.size(), 2u);
    EXPECT_GE(fired[1], start + 20 * kUsecPerMsec);
    EXPECT_LT(fired[1], start + 50 * kUsecPerMsec) << "at the earlier deadline, not the first one";
    spin(60);
    EXPECT_EQ(fired.size(), 2u) << "the deadline it was moved away from does not fire";

    start = base::now_monotonic();
    (*t)->arm(start + 20 * kUsecPerMsec);
    (*t)->arm(start + 40 * kUsecPerMsec);
    spin(30); // the first deadline passed: it waits for the second
    (*t)->cancel();
    EXPECT_FALSE((*t)->armed());
    spin(40);
    EXPECT_EQ(fired.size(), 2u) << "cancelled while moved later";

    start = base::now_monotonic();
    (*t)->arm(start + 20 * kUsecPerMsec);
    (*t)->arm(start + 40 * kUsecPerMsec);
    (*t)->arm(start + 10 * kUsecPerMsec); // back before the deadline sd-event holds
    spin(30);
    ASSERT_EQ(fired.size(), 3u);
    EXPECT_LT(fired[2], start + 20 * kUsecPerMsec);
}

TEST_F(EventTest, ChildSourceReportsTheExitOfAPidfdChild) {
    pid_t pid = ::fork();
    if (pid == 0) _exit(7);
    ASSERT_GT(pid, 0);
    int pidfd = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
    ASSERT_GE(pidfd, 0);
    int code = -1;
    auto c = ChildSource::create(*loop, pidfd, [&](const siginfo_t &si) {
        if (si.si_code == CLD_EXITED) code = si.si_status;
    });
    ASSERT_TRUE(c) << c.error().message();
    spin(100);
    EXPECT_EQ(code, 7);
    EXPECT_EQ(::waitpid(pid, nullptr, WNOHANG), -1) << "the loop reaped it";
    c->reset();
    ::close(pidfd);
}

TEST_F(EventTest, RunOnceReportsAFinishedLoop) {
    EXPECT_TRUE(loop->run_once(1 * kUsecPerMsec));
    loop->exit(3);
    loop->run_once(1 * kUsecPerMsec); // dispatches the exit
    EXPECT_FALSE(loop->run_once(1 * kUsecPerMsec));
}

} // namespace
} // namespace watchd::event

// PollSet (event/poll_set.h): one-shot waits, and a client forgotten by another in the same batch is not called.
namespace watchd::event {
namespace {

struct Waiter final : PollSet::Client {
    int calls = 0;
    std::function<void()> on_ready;
    PollSet::Slot slot;
    void ready(std::uint32_t) override {
        ++calls;
        if (on_ready) on_ready();
    }
};

TEST_F(EventTest, PollSetWaitsOnceAndDropsEventsOfForgottenClients) {
    auto set = PollSet::create(*loop);
    ASSERT_TRUE(set) << set.error().message();
    int q[2];
    ASSERT_EQ(::pipe2(q, O_CLOEXEC | O_NONBLOCK), 0);
    ASSERT_EQ(::write(p[1], "x", 1), 1);
    ASSERT_EQ(::write(q[1], "x", 1), 1);
    Waiter a, b;
    ASSERT_TRUE((*set)->wait(p[0], io::kReadable, &a, a.slot));
    ASSERT_TRUE((*set)->wait(q[0], io::kReadable, &b, b.slot));
    // whichever is told first forgets the other: the other's event, fetched in the same batch, is dropped
    a.on_ready = [&] { (*set)->forget(b.slot); };
    b.on_ready = [&] { (*set)->forget(a.slot); };
    spin(30);
    EXPECT_EQ(a.calls + b.calls, 1);
    // one-shot: still readable, but told again only after another wait()
    Waiter c;
    ASSERT_TRUE((*set)->wait(p[0], io::kReadable, &c, c.slot));
    spin(30);
    EXPECT_EQ(c.calls, 1);
    spin(30);
    EXPECT_EQ(c.calls, 1);
    ASSERT_TRUE((*set)->wait(p[0], io::kReadable, &c, c.slot));
    spin(30);
    EXPECT_EQ(c.calls, 2);
    (*set)->forget(c.slot);
    ::close(q[0]);
    ::close(q[1]);
}

} // namespace
} // namespace watchd::event

namespace watchd::event {
namespace {

// Deadlines: told in order, once each, not when cancelled; one added from a callback before those pending is told
// first; a callback may cancel one due in the same wake-up.
TEST_F(EventTest, DeadlinesUnderOneTimer) {
    auto d = Deadlines::create(*loop);
    ASSERT_TRUE(d);
    Deadlines &dl = **d;
    std::vector<int> told;
    const base::Usec t0 = base::now_monotonic();
    dl.add(t0 + 30 * kUsecPerMsec, [&] { told.push_back(3); });
    const auto cancelled = dl.add(t0 + 10 * kUsecPerMsec, [&] { told.push_back(-1); });
    dl.add(t0 + 5 * kUsecPerMsec, [&] {
        told.push_back(1);
        dl.add(base::now_monotonic() + 5 * kUsecPerMsec, [&] { told.push_back(2); }); // before the 30 ms one
    });
    Deadlines::Id victim = 0;
    dl.add(t0 + 40 * kUsecPerMsec, [&] {
        told.push_back(4);
        dl.cancel(victim); // due in the same wake-up: not told
    });
    victim = dl.add(t0 + 40 * kUsecPerMsec, [&] { told.push_back(-2); });
    dl.cancel(cancelled);
    dl.cancel(cancelled); // twice: nothing
    dl.cancel(0);
    EXPECT_EQ(dl.size(), 4u);
    spin(80);
    EXPECT_EQ(told, (std::vector<int>{1, 2, 3, 4}));
    EXPECT_EQ(dl.size(), 0u);
    // Nothing is told early.
    bool late_enough = false;
    const base::Usec at = base::now_monotonic() + 20 * kUsecPerMsec;
    dl.add(at, [&] { late_enough = base::now_monotonic() >= at; });
    spin(50);
    EXPECT_TRUE(late_enough);
}

} // namespace
} // namespace watchd::event
