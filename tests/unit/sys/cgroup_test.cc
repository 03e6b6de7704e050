// sys::cgroup and spawn into a cgroup, on the machine's real cgroup v2 hierarchy: a scratch cgroup below this
// process's own (removed at the end, the process moved back first), marked delegated as systemd marks a
// Delegate=yes unit. Skipped where the hierarchy is missing or not writable (not root, a read-only /sys).
#include <gtest/gtest.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <functional>
#include <csignal>
#include <fcntl.h>
#include <fstream>
#include <poll.h>
#include <string>
#include <sys/stat.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "sys/cgroup.h"
#include "sys/process.h"

namespace watchd::sys::cgroup {
namespace {

std::string slurp(const std::string &path) {
    std::ifstream f(path);
    return std::string(std::istreambuf_iterator<char>(f), {});
}

void write_file(const std::string &path, const std::string &text) {
    std::ofstream f(path);
    f << text;
}

// The v2 cgroup a process is in, from /proc/PID/cgroup.
std::string cgroup_of(pid_t pid) {
    std::ifstream f("/proc/" + std::to_string(pid) + "/cgroup");
    for (std::string line; std::getline(f, line);)
        if (line.starts_with("0::")) return line.substr(3);
    return {};
}

// Alive and not a zombie (an orphan's zombie waits for whoever adopted it to reap it).
bool alive(pid_t pid) {
    const std::string stat = slurp("/proc/" + std::to_string(pid) + "/stat");
    const auto paren = stat.rfind(')');
    return paren != std::string::npos && paren + 2 < stat.size() && stat[paren + 2] != 'Z';
}

bool wait_until(const std::function<bool()> &done, int ms = 5000) {
    for (int i = 0; i < ms / 5; ++i) {
        if (done()) return true;
        ::usleep(5000);
    }
    return done();
}

class CgroupTest : public ::testing::Test {
protected:
    std::string mount_, home_, scratch_; // the hierarchy, our own cgroup (absolute), the scratch one

    void SetUp() override {
        auto m = v2_mount();
        auto own = own_path();
        if (!m || !own) GTEST_SKIP() << "no cgroup v2 hierarchy";
        mount_ = *m;
        home_ = mount_ + (*own == "/" ? "" : *own);
        scratch_ = home_ + "/watchd-test-" + std::to_string(::getpid());
        if (::mkdir(scratch_.c_str(), 0755) != 0) GTEST_SKIP() << "cannot make a cgroup in " << home_ << ": " << std::strerror(errno);
    }
    void TearDown() override {
        if (scratch_.empty()) return;
        write_file(home_ + "/cgroup.procs", std::to_string(::getpid())); // back home before removing the scratch one
        for (const char *leaf : {"/app-web", "/app-hog", "/supervisor"}) {
            const std::string d = scratch_ + leaf;
            if (::access(d.c_str(), F_OK) != 0) continue;
            write_file(d + "/cgroup.kill", "1");
            wait_until([&] { return slurp(d + "/cgroup.events").find("populated 0") != std::string::npos; });
            ::rmdir(d.c_str());
        }
        ::rmdir(scratch_.c_str());
    }
    bool mark_delegated() { return ::setxattr(scratch_.c_str(), "trusted.delegate", "1", 1, 0) == 0; }
};

TEST_F(CgroupTest, OnlyADelegatedCgroupIsTakenAndWatchdMovesIntoItsLeaf) {
    EXPECT_FALSE(delegated(scratch_));
    if (!mark_delegated()) GTEST_SKIP() << "cgroupfs here takes no trusted.* xattrs: " << std::strerror(errno);
    EXPECT_TRUE(delegated(scratch_));
    write_file(scratch_ + "/cgroup.procs", std::to_string(::getpid()));
    ASSERT_EQ(cgroup_of(::getpid()), scratch_.substr(mount_.size()));
    auto found = find_delegated();
    ASSERT_TRUE(found) << found.error().message();
    EXPECT_EQ(*found, scratch_);
    auto tree = Tree::setup(*found);
    ASSERT_TRUE(tree) << tree.error().message();
    EXPECT_EQ(cgroup_of(::getpid()), scratch_.substr(mount_.size()) + "/supervisor");
    // Found again from inside the leaf (a re-exec of watchd): the delegated cgroup, not the leaf.
    auto again = find_delegated();
    ASSERT_TRUE(again) << again.error().message();
    EXPECT_EQ(*again, scratch_);
}

TEST_F(CgroupTest, AnUndelegatedCgroupIsRefusedWithTheReason) {
    write_file(scratch_ + "/cgroup.procs", std::to_string(::getpid()));
    auto found = find_delegated();
    ASSERT_FALSE(found);
    EXPECT_NE(found.error().message().find("not delegated"), std::string::npos) << found.error().message();
}

TEST_F(CgroupTest, ASpawnedChildStartsInItsAppCgroupAndItsWholeTreeIsKilledThere) {
    Tree tree;
    {
        auto t = Tree::setup(scratch_);
        ASSERT_TRUE(t) << t.error().message();
        tree = std::move(*t);
    }
    auto app = tree.open_app("web");
    ASSERT_TRUE(app) << app.error().message();
    auto again = tree.open_app("web"); // opening it again finds the same one
    ASSERT_TRUE(again) << again.error().message();
    auto before = populated(app->get());
    ASSERT_TRUE(before);
    EXPECT_FALSE(*before);

    // A launcher that leaves a daemon behind in a new session (double fork + setsid) and exits.
    sys::ExecSpec x;
    x.path = "/bin/sh";
    x.argv = {"/bin/sh", "-c", "setsid sh -c 'sleep 600' & sleep 600 & exit 0"};
    x.cgroup_fd = app->get();
    auto child = sys::spawn(x);
    ASSERT_TRUE(child) << child.error().message();
    EXPECT_EQ(cgroup_of(child->pid), scratch_.substr(mount_.size()) + "/app-web");
    int st = 0;
    ASSERT_EQ(::waitpid(child->pid, &st, 0), child->pid);
    ASSERT_TRUE(wait_until([&] { auto p = procs(app->get()); return p && p->size() >= 2; }));
    auto left = procs(app->get());
    ASSERT_TRUE(left);
    for (pid_t pid : *left) EXPECT_EQ(cgroup_of(pid), scratch_.substr(mount_.size()) + "/app-web") << pid;
    auto now = populated(app->get());
    ASSERT_TRUE(now);
    EXPECT_TRUE(*now);

    auto watch = watch_events(app->get());
    ASSERT_TRUE(watch) << watch.error().message();
    auto u = usage(app->get());
    ASSERT_TRUE(u) << u.error().message();
    EXPECT_EQ(tree.remove_app("web").error().code.value(), EBUSY); // not while it holds processes
    ASSERT_TRUE(kill_all(app->get()));
    pollfd p{watch->get(), POLLIN, 0};
    EXPECT_EQ(::poll(&p, 1, 5000), 1) << "cgroup.events did not change";
    drain_events(watch->get());
    ASSERT_TRUE(wait_until([&] { auto e = populated(app->get()); return e && !*e; }));
    for (pid_t pid : *left) EXPECT_FALSE(alive(pid)) << pid << " survived";
    EXPECT_TRUE(tree.remove_app("web"));
    EXPECT_TRUE(tree.remove_app("web")); // gone already: done
}

TEST_F(CgroupTest, AfterAKillTheAppsNextProcessStartsAndRuns) {
    // Linux 6.x (cgroup.kill's kill_seq): a child cloned into a cgroup once killed, while watchd's own cgroup was
    // not, gets SIGKILL at birth. The next instance must start all the same.
    auto t = Tree::setup(scratch_);
    ASSERT_TRUE(t) << t.error().message();
    auto app = t->open_app("web");
    ASSERT_TRUE(app);
    sys::ExecSpec x;
    x.path = "/bin/sleep";
    x.argv = {"/bin/sleep", "600"};
    x.cgroup_fd = app->get();
    auto first = sys::spawn(x);
    ASSERT_TRUE(first) << first.error().message();
    ASSERT_TRUE(kill_all(app->get()));
    int st = 0;
    ASSERT_EQ(::waitpid(first->pid, &st, 0), first->pid);
    ASSERT_TRUE(wait_until([&] { auto e = populated(app->get()); return e && !*e; }));
    auto fresh = t->renew_app("web");
    ASSERT_TRUE(fresh) << fresh.error().message();
    x.cgroup_fd = fresh->get();
    auto second = sys::spawn(x);
    ASSERT_TRUE(second) << second.error().message();
    ::usleep(100000);
    EXPECT_EQ(::waitpid(second->pid, &st, WNOHANG), 0) << "the next instance died: " << st;
    EXPECT_EQ(cgroup_of(second->pid), scratch_.substr(mount_.size()) + "/app-web");
    ::kill(second->pid, SIGKILL);
    ::waitpid(second->pid, &st, 0);
}

TEST_F(CgroupTest, SignalAllReachesEveryProcessAndUsageCountsCpu) {
    auto t = Tree::setup(scratch_);
    ASSERT_TRUE(t) << t.error().message();
    auto app = t->open_app("hog");
    ASSERT_TRUE(app);
    sys::ExecSpec x;
    x.path = "/bin/sh";
    x.argv = {"/bin/sh", "-c", "trap 'exit 0' TERM; i=0; while [ $i -lt 200000 ]; do i=$((i+1)); done; sleep 600 & wait"};
    x.cgroup_fd = app->get();
    auto child = sys::spawn(x);
    ASSERT_TRUE(child) << child.error().message();
    // Both there, the second one exec'ed already: a signal to the shell's fork before its exec can be lost.
    ASSERT_TRUE(wait_until([&] {
        auto p = procs(app->get());
        return p && p->size() == 2 && std::any_of(p->begin(), p->end(), [](pid_t pid) {
                   return slurp("/proc/" + std::to_string(pid) + "/comm") == "sleep\n";
               });
    }, 20000));
    auto u = usage(app->get());
    ASSERT_TRUE(u);
    EXPECT_GT(u->cpu_usec, 10000u) << "a shell counting to 200000 used no CPU?";
    auto reached = signal_all(app->get(), SIGTERM);
    ASSERT_TRUE(reached);
    EXPECT_EQ(*reached, 2u);
    int st = 0;
    ASSERT_EQ(::waitpid(child->pid, &st, 0), child->pid);
    EXPECT_TRUE(WIFEXITED(st) || WIFSIGNALED(st));
    EXPECT_TRUE(wait_until([&] { auto e = populated(app->get()); return e && !*e; }));
}

} // namespace
} // namespace watchd::sys::cgroup
