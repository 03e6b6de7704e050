// Services through the supervisor, against the ManagerApi seam (a fake systemd): which unit is followed, which
// calls are made, what views show, and what a reload or the bus going away does. The same behaviours run against
// real systemd in tests/system/scenarios/services*.
#include <gtest/gtest.h>

#include "event/loop.h"
#include "fakes/fake_manager_api.h"
#include "supervisor/supervisor.h"
#include "sys/log.h"

namespace watchd::supervisor {
namespace {

using model::SystemdVerb;
using Calls = std::vector<std::pair<std::string, SystemdVerb>>;

model::SystemdUnit unit(std::string active, std::string invocation = {}, pid_t pid = 0) {
    model::SystemdUnit u;
    u.load_state = "loaded";
    u.active_state = std::move(active);
    u.sub_state = u.active_state == "active" ? "running" : "dead";
    u.invocation_id = std::move(invocation);
    u.main_pid = pid;
    u.result = "success";
    return u;
}

model::ServiceSpec service(const std::string &id, const std::string &unit_name, bool disabled = false) {
    model::ServiceSpec s;
    s.id = id;
    s.name = id;
    s.unit = unit_name;
    s.management = 1;
    s.disabled = disabled;
    return s;
}

model::Config config(std::vector<model::ServiceSpec> services) {
    model::Config c;
    c.services = std::move(services);
    return c;
}

class ServicesTest : public ::testing::Test {
protected:
    std::unique_ptr<event::Loop> loop;
    fakes::FakeManagerApi fake;
    std::unique_ptr<Supervisor> sup;

    void SetUp() override {
        sys::log::init(sys::log::Target::Stderr, 3, "");
        auto l = event::Loop::create();
        ASSERT_TRUE(l);
        loop = std::move(*l);
        SupervisorOptions o;
        o.manager = &fake;
        sup = std::make_unique<Supervisor>(*loop, o);
    }
    void TearDown() override {
        bool done = false;
        sup->shutdown([&] { done = true; });
        EXPECT_TRUE(done) << "services hold nothing that would delay a shutdown";
        sup.reset();
        EXPECT_EQ(fake.listener, nullptr) << "the supervisor leaves the manager when it goes";
    }
    UnitView view(const std::string &id) {
        auto v = sup->unit({UnitKind::Service, id});
        EXPECT_TRUE(v) << "no service " << id;
        return v ? *v : UnitView{};
    }
};

TEST_F(ServicesTest, FollowsTheUnitStartsItAndShowsIt) {
    sup->apply(config({service("web", "web.service")}));
    EXPECT_EQ(fake.watched, std::set<std::string>{"web.service"});
    EXPECT_EQ(view("web").state, UnitState::Starting);
    fake.bus(true);
    fake.state("web.service", unit("inactive"));
    EXPECT_EQ(fake.take_calls(), (Calls{{"web.service", SystemdVerb::Start}}));
    fake.job_done("web.service", SystemdVerb::Start, "done");
    fake.state("web.service", unit("active", "0123456789abcdef0123456789abcdef", 77));
    const UnitView v = view("web");
    EXPECT_EQ(v.state, UnitState::Running);
    EXPECT_EQ(v.pid, 77);
    EXPECT_EQ(v.instance_id, "0123456789abcdef0123456789abcdef");
    ASSERT_TRUE(v.systemd);
    EXPECT_EQ(v.systemd->unit, "web.service");
    EXPECT_EQ(v.systemd->active_state, "active");
    EXPECT_NE(sup->summary().find("1 service running"), std::string::npos) << sup->summary();
    // a crash: started again at once
    fake.state("web.service", unit("failed", "0123456789abcdef0123456789abcdef"));
    EXPECT_EQ(fake.take_calls(), (Calls{{"web.service", SystemdVerb::Start}}));
    EXPECT_EQ(view("web").restarts, 1u);
    EXPECT_EQ(view("web").history.size(), 1u);
}

TEST_F(ServicesTest, OtherUnitsAreNeverTouched) {
    sup->apply(config({service("web", "web.service")}));
    fake.bus(true);
    fake.state("other.service", unit("failed"));
    fake.state("web.service", unit("active", "aa", 5));
    EXPECT_TRUE(fake.take_calls().empty());
}

TEST_F(ServicesTest, TogglesBecomeCalls) {
    sup->apply(config({service("web", "web.service")}));
    fake.bus(true);
    fake.state("web.service", unit("active", "aa", 5));
    Command c;
    c.toggle = model::Toggle::Disable;
    ASSERT_TRUE(sup->submit({UnitKind::Service, "web"}, c).ok());
    EXPECT_EQ(fake.take_calls(), (Calls{{"web.service", SystemdVerb::Stop}}));
    fake.state("web.service", unit("inactive", "aa"));
    EXPECT_EQ(view("web").state, UnitState::Inactive);
    c.toggle = model::Toggle::Restart; // enables it again and starts it
    ASSERT_TRUE(sup->submit({UnitKind::Service, "web"}, c).ok());
    EXPECT_EQ(fake.take_calls(), (Calls{{"web.service", SystemdVerb::Start}}));
}

TEST_F(ServicesTest, ReloadDisablesRenamesAndRemoves) {
    sup->apply(config({service("web", "web.service")}));
    fake.bus(true);
    fake.state("web.service", unit("active", "aa", 5));
    sup->apply(config({service("web", "web.service", true)}));
    EXPECT_EQ(fake.take_calls(), (Calls{{"web.service", SystemdVerb::Stop}}));
    fake.state("web.service", unit("inactive", "aa"));
    // another unit for the same service: the old one is let go, the new one followed
    sup->apply(config({service("web", "www.service")}));
    EXPECT_EQ(fake.watched, std::set<std::string>{"www.service"});
    fake.state("www.service", unit("inactive"));
    EXPECT_EQ(fake.take_calls(), (Calls{{"www.service", SystemdVerb::Start}}));
    // removed: let go, and its unit is left as it is
    sup->apply(config({}));
    EXPECT_TRUE(fake.watched.empty());
    fake.state("www.service", unit("failed"));
    EXPECT_TRUE(fake.take_calls().empty());
    EXPECT_FALSE(sup->unit({UnitKind::Service, "web"}));
}

TEST_F(ServicesTest, UnavailableBusIsShownAndOutlived) {
    sup->apply(config({service("web", "web.service")}));
    fake.bus(false, "lost the system bus connection");
    EXPECT_EQ(view("web").state, UnitState::Unavailable);
    EXPECT_NE(view("web").last_error.find("lost the system bus"), std::string::npos);
    EXPECT_NE(sup->summary().find("1 unavailable"), std::string::npos) << sup->summary();
    fake.bus(true);
    fake.state("web.service", unit("inactive"));
    EXPECT_EQ(fake.take_calls(), (Calls{{"web.service", SystemdVerb::Start}}));
}

TEST(ServicesWithoutSystemd, AreUnavailableAndHarmNothing) {
    sys::log::init(sys::log::Target::Stderr, 3, "");
    auto loop = event::Loop::create();
    ASSERT_TRUE(loop);
    Supervisor sup(**loop);
    sup.apply(config({service("web", "web.service")}));
    auto v = sup.unit({UnitKind::Service, "web"});
    ASSERT_TRUE(v);
    EXPECT_EQ(v->state, UnitState::Unavailable);
    bool done = false;
    sup.shutdown([&] { done = true; });
    EXPECT_TRUE(done);
}

} // namespace
} // namespace watchd::supervisor
