// The shared core of every unit kind: names, the announcement table, patrol's toggles and key/value, desired state,
// history; and the machines of the kinds not run yet (services, checks).
#include <gtest/gtest.h>

#include <set>
#include <string>

#include "model/app_machine.h"

namespace watchd::model {
namespace {

using base::kUsecPerSec;

TEST(UnitKind, NamesAndParsing) {
    EXPECT_EQ(to_string(UnitKind::App), "app");
    EXPECT_EQ(to_string(UnitKind::Service), "service");
    EXPECT_EQ(to_string(UnitKind::Check), "check");
    EXPECT_EQ(parse_unit_kind("apps"), UnitKind::App);
    EXPECT_EQ(parse_unit_kind("App"), UnitKind::App);
    EXPECT_EQ(parse_unit_kind("SERVICES"), UnitKind::Service);
    EXPECT_EQ(parse_unit_kind("check"), UnitKind::Check);
    EXPECT_EQ(parse_unit_kind("application"), std::nullopt);
    EXPECT_EQ(parse_unit_kind(""), std::nullopt);
    EXPECT_EQ(to_string(UnitRef{UnitKind::Service, "web"}), "service web");
    // an app and a service may share an id: they are different units
    EXPECT_NE((UnitRef{UnitKind::App, "web"}), (UnitRef{UnitKind::Service, "web"}));
    for (UnitKind k : {UnitKind::App, UnitKind::Service, UnitKind::Check}) EXPECT_TRUE(is_supervised(k)); // all run
}

TEST(Announcement, EveryKindHasANameAndARandomMessageId) {
    std::set<std::string_view> names, ids;
    for (std::size_t i = 0; i < kAnnouncementCount; ++i) {
        const auto a = static_cast<Announcement>(i);
        EXPECT_FALSE(to_string(a).empty());
        const auto id = message_id(a);
        ASSERT_EQ(id.size(), 32u) << to_string(a);
        EXPECT_EQ(id.find_first_not_of("0123456789abcdef"), std::string_view::npos) << id;
        EXPECT_EQ(id[12], '4') << "a UUIDv4, as `systemd-id128 new` makes: " << id;
        names.insert(to_string(a));
        ids.insert(id);
    }
    EXPECT_EQ(names.size(), kAnnouncementCount);
    EXPECT_EQ(ids.size(), kAnnouncementCount);
    EXPECT_EQ(to_string(Announcement::NotRun), "not-run");
    EXPECT_EQ(to_string(Announcement::Removed), "removed");
}

struct ToggleCase {
    Toggle toggle;
    bool live;
    bool disabled, restart, run_once, consumed; // flags after
    DesiredState desired;
};

TEST(Toggles, PatrolSemanticsAndTheDesiredStateTheyImply) {
    // Start from every flag set (disabled, restart, run-once consumed) so each toggle shows what it clears.
    const ToggleCase cases[] = {
        {Toggle::Enable, false, false, true, true, true, DesiredState::Down}, // its one run is used up
        {Toggle::Enable, true, false, true, true, true, DesiredState::Up},    // ... but the live one may finish
        {Toggle::Disable, true, true, false, false, false, DesiredState::Down},
        {Toggle::Restart, false, false, true, false, false, DesiredState::Up},
        {Toggle::RunOnceEnable, false, true, true, true, true, DesiredState::Down}, // still disabled
        {Toggle::RunOnceDisable, false, true, true, false, false, DesiredState::Down},
        {Toggle::EnableRunOnceEnable, true, false, true, true, true, DesiredState::Up},
        {Toggle::EnableRunOnceDisable, false, false, true, false, false, DesiredState::Up},
    };
    for (const auto &c : cases) {
        UnitCore u;
        u.disabled = u.restart = u.run_once = u.run_once_consumed = true;
        const auto cas = u.cas;
        apply_toggle(u, c.toggle, c.live);
        const std::string what = "toggle " + std::to_string(static_cast<int>(c.toggle)) + (c.live ? " live" : "");
        EXPECT_EQ(u.disabled, c.disabled) << what;
        EXPECT_EQ(u.restart, c.restart) << what;
        EXPECT_EQ(u.run_once, c.run_once) << what;
        EXPECT_EQ(u.run_once_consumed, c.consumed) << what;
        EXPECT_EQ(to_string(u.desired), to_string(c.desired)) << what;
        EXPECT_GT(u.cas, cas) << what;
    }
    // run-once on an instance that runs now is consumed by it; on a stopped unit it waits for the next start
    UnitCore live, idle;
    apply_toggle(live, Toggle::RunOnceEnable, true);
    apply_toggle(idle, Toggle::RunOnceEnable, false);
    EXPECT_TRUE(live.run_once_consumed);
    EXPECT_FALSE(idle.run_once_consumed);
    EXPECT_EQ(idle.desired, DesiredState::Up);
    // shutting down wins over every toggle
    UnitCore down;
    down.shutdown = true;
    apply_toggle(down, Toggle::Restart, true);
    EXPECT_EQ(down.desired, DesiredState::Down);
}

TEST(KeyValue, MergeKeepsNullsReplaceReplacesEmptyMergeChangesNothing) {
    UnitCore u;
    u.keyvalue = {{"a", "1"}, {"b", "\"x\""}};
    auto cas = u.cas;
    apply_keyvalue(u, {{{"b", "null"}, {"c", "[1,2]"}}, false});
    EXPECT_EQ(u.keyvalue, (KeyValue{{"a", "1"}, {"b", "null"}, {"c", "[1,2]"}}));
    EXPECT_GT(u.cas, cas);
    cas = u.cas;
    apply_keyvalue(u, {{}, false});
    EXPECT_EQ(u.cas, cas);
    apply_keyvalue(u, {{{"z", "true"}}, true});
    EXPECT_EQ(u.keyvalue, (KeyValue{{"z", "true"}}));
    apply_keyvalue(u, {{}, true});
    EXPECT_TRUE(u.keyvalue.empty());
    EXPECT_GT(u.cas, cas);
}

TEST(History, InstancesAreRecordedBoundedAndCounted) {
    UnitCore u;
    close_instance(u, 0, 0, {1, 1}, 3); // no instance: nothing
    EXPECT_TRUE(u.history.empty());
    for (int i = 0; i < 5; ++i) {
        begin_instance(u, "i" + std::to_string(i), {base::Usec(i * 10), base::Usec(1000 + i * 10)}, false);
        u.instance_pid = 100 + i;
        u.keyvalue["n"] = std::to_string(i);
        close_instance(u, i, 0, {base::Usec(i * 10 + 5), base::Usec(1000 + i * 10 + 5)}, 3);
    }
    ASSERT_EQ(u.history.size(), 3u);
    EXPECT_EQ(u.history_total, 5u);
    EXPECT_EQ(u.history.front().instance_id, "i2");
    EXPECT_EQ(u.history.back().pid, 104);
    EXPECT_EQ(u.history.back().started, 1040u);
    EXPECT_EQ(u.history.back().stopped, 1045u);
    EXPECT_EQ(u.history.back().exit_code, 4);
    EXPECT_EQ(u.history.back().keyvalue.at("n"), "4");
    EXPECT_TRUE(u.instance_id.empty());
    begin_instance(u, "j", {}, true);
    EXPECT_TRUE(u.keyvalue.empty()) << "keyvalue-clear empties it for each new instance";
}

} // namespace
} // namespace watchd::model
