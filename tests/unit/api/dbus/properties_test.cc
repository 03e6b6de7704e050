// The property tables: what PropertiesChanged carries for each change, the manager's counters, and that the
// vtables sd-bus serves agree with the tables (names, signatures, which ones emit).
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "api/dbus/context.h"

namespace watchd::api::dbus {
namespace {

using supervisor::UnitKind;
using supervisor::UnitState;

UnitObject app(const char *id) {
    UnitObject o;
    o.view.ref = {UnitKind::App, id};
    o.view.name = "Web";
    o.view.state = UnitState::Running;
    o.view.desired = supervisor::DesiredState::Up;
    o.view.pid = 100;
    o.view.instance_id = "i1";
    o.view.started = 1000;
    o.view.keepalive = supervisor::KeepAlive::Patrol;
    return o;
}

std::vector<std::string> changed(const UnitObject &a, const UnitObject &b) {
    std::vector<std::string> out;
    for (const char *n : changed_properties(a, b)) out.emplace_back(n);
    return out;
}

TEST(ChangedProperties, NothingForAnEqualSnapshot) { EXPECT_TRUE(changed(app("web"), app("web")).empty()); }

TEST(ChangedProperties, ARestartIsOneSignalWithEverythingThatMoved) {
    UnitObject before = app("web"), after = app("web");
    after.view.pid = 101;
    after.view.instance_id = "i2";
    after.view.started = 2000;
    after.view.restarts = 1;
    after.view.last_signal = 9;
    EXPECT_EQ(changed(before, after),
              (std::vector<std::string>{"PID", "InstanceID", "Started", "Restarts", "LastExit"}));
}

TEST(ChangedProperties, StateMovesStateAndActiveState) {
    UnitObject before = app("web"), after = app("web");
    after.view.state = UnitState::Failed;
    EXPECT_EQ(changed(before, after), (std::vector<std::string>{"State", "ActiveState"}));
    // backoff and starting are both "activating": only State moves
    before.view.state = UnitState::Backoff;
    after.view.state = UnitState::Starting;
    EXPECT_EQ(changed(before, after), (std::vector<std::string>{"State"}));
}

TEST(ChangedProperties, LastSeenIsNotSignalled) {
    // an http/udp app pings every few seconds: clients read LastSeen, they are not woken for it
    UnitObject before = app("web"), after = app("web");
    after.view.last_seen = 5000;
    EXPECT_TRUE(changed(before, after).empty());
}

TEST(ChangedProperties, KeyValueTogglesAndLogDirectory) {
    UnitObject before = app("web"), after = app("web");
    after.view.keyvalue["color"] = "\"red\"";
    after.view.disabled = true;
    after.view.desired = supervisor::DesiredState::Down;
    after.log_directory = "/srv/web/logs";
    EXPECT_EQ(changed(before, after), (std::vector<std::string>{"Desired", "Disabled", "KeyValue", "LogDirectory"}));
}

TEST(ChangedProperties, AppOnlyPropertiesNeverForOtherKinds) {
    UnitObject before = app("ssh"), after = app("ssh");
    before.view.ref.kind = after.view.ref.kind = UnitKind::Service;
    after.view.keepalive = supervisor::KeepAlive::Http;
    after.log_directory = "/x";
    after.view.name = "SSH";
    EXPECT_EQ(changed(before, after), (std::vector<std::string>{"Name"}));
}

TEST(Counts, PerKindAndState) {
    supervisor::SupervisorView v;
    v.units.push_back(app("a").view);
    v.units.push_back(app("b").view);
    v.units.back().state = UnitState::Failed;
    v.units.push_back(app("c").view);
    v.units.back().ref.kind = UnitKind::Check;
    v.units.back().state = UnitState::Inactive;
    const Counts c = count_units(v);
    EXPECT_EQ(c.apps, 2u);
    EXPECT_EQ(c.services, 0u);
    EXPECT_EQ(c.checks, 1u);
    EXPECT_EQ(c.states[static_cast<std::size_t>(UnitState::Running)], 1u);
    EXPECT_EQ(c.states[static_cast<std::size_t>(UnitState::Failed)], 1u);
    EXPECT_EQ(c.states[static_cast<std::size_t>(UnitState::Inactive)], 1u);
    Counts d = c;
    d.states[static_cast<std::size_t>(UnitState::Failed)] = 0;
    d.states[static_cast<std::size_t>(UnitState::Running)] = 2;
    d.shutting_down = true;
    std::vector<std::string> names;
    for (const char *n : changed_counts(c, d)) names.emplace_back(n);
    EXPECT_EQ(names, (std::vector<std::string>{"NRunning", "NFailed", "ShuttingDown"}));
}

struct VtableProperty {
    std::string name, signature;
    std::uint64_t flags;
};

std::vector<VtableProperty> properties_of(const sd_bus_vtable *vt) {
    std::vector<VtableProperty> out;
    for (; vt->type != _SD_BUS_VTABLE_END; ++vt)
        if (vt->type == _SD_BUS_VTABLE_PROPERTY)
            out.push_back({vt->x.property.member, vt->x.property.signature, vt->flags});
    return out;
}

TEST(Vtables, UnitInterfacesServeExactlyTheTable) {
    for (UnitKind kind : {UnitKind::App, UnitKind::Service}) {
        const auto props = properties_of(unit_vtable(kind));
        std::vector<const UnitProperty *> rows;
        for (const UnitProperty &p : unit_properties())
            if (has_property(kind, p)) rows.push_back(&p);
        const std::size_t live = kind == UnitKind::App ? std::size(kUsageProperties) : 0;
        ASSERT_EQ(props.size(), rows.size() + live);
        for (std::size_t i = 0; i < live; ++i) { // apps end with what their processes use, read live, no signal
            const VtableProperty &p = props[rows.size() + i];
            EXPECT_EQ(p.name, kUsageProperties[i]);
            EXPECT_EQ(p.signature, "t");
            EXPECT_EQ(p.flags & SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE, 0u) << p.name;
        }
        for (std::size_t i = 0; i < rows.size(); ++i) {
            SCOPED_TRACE(rows[i]->name);
            EXPECT_EQ(props[i].name, rows[i]->name);
            EXPECT_EQ(props[i].signature, rows[i]->signature);
            // PropertiesChanged may only name properties that the vtable says emit
            EXPECT_EQ((props[i].flags & SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE) != 0, rows[i]->emits);
        }
    }
    EXPECT_EQ(find_unit_property("PID")->signature, std::string("u"));
    EXPECT_EQ(find_unit_property("NoSuch"), nullptr);
}

TEST(Vtables, ManagerServesEveryCounter) {
    const auto props = properties_of(kManagerVtable);
    for (const ManagerCounter &c : manager_counters()) {
        auto it = std::find_if(props.begin(), props.end(), [&](const auto &p) { return p.name == c.name; });
        ASSERT_NE(it, props.end()) << c.name;
        EXPECT_EQ(it->signature, "u");
        EXPECT_TRUE(it->flags & SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE) << c.name;
    }
}

TEST(FlagNames, AsPatrolNamesThem) {
    model::PatrolFlags f;
    EXPECT_TRUE(flag_names(f).empty());
    f.disabled = f.run_once = true;
    EXPECT_EQ(flag_names(f), (std::vector<std::string>{"disabled", "run-once"}));
}

} // namespace
} // namespace watchd::api::dbus
