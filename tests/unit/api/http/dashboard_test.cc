// The dashboard's JSON (pure): what a card shows of each kind, timelines and their colours, text from apps and
// remote servers escaped, and the commands the page sends, each error naming its field.
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <csignal>

#include "api/http/dashboard.h"

namespace watchd::api::http {
namespace {

namespace json = boost::json;
using supervisor::UnitKind;
using supervisor::UnitState;
using supervisor::UnitView;

json::object parsed(const std::string &text) {
    json::value v = json::parse(text); // throws on invalid JSON: the test fails
    return v.as_object();
}

UnitView app() {
    UnitView u;
    u.ref = {UnitKind::App, "web"};
    u.name = "Web \"front\"\n</script><b>";
    u.state = UnitState::Running;
    u.desired = model::DesiredState::Up;
    u.pid = 4242;
    u.instance_id = "abc";
    u.started = 1'700'000'000'123'456;
    u.restarts = 3;
    u.last_exit_code = 2;
    u.keyvalue = {{"version", "\"1.2\""}};
    u.keepalive = model::KeepAlive::Http;
    model::HistoryEntry clean, crashed, stopped, disabled;
    clean.exit_code = 0;
    crashed.exit_code = 3;
    stopped.signal = SIGTERM;
    disabled.signal = SIGKILL;
    disabled.disabled = true;
    u.history = {clean, crashed, stopped, disabled};
    return u;
}

TEST(DashboardJson, AnAppsCard) {
    const json::object o = parsed(unit_json(app()));
    EXPECT_EQ(o.at("kind"), "app");
    EXPECT_EQ(o.at("id"), "web");
    EXPECT_EQ(o.at("name"), "Web \"front\"\n</script><b>"); // as text: the page never renders it as HTML
    EXPECT_EQ(o.at("state"), "running");
    EXPECT_EQ(o.at("active"), "active");
    EXPECT_EQ(o.at("tone"), "ok");
    EXPECT_EQ(o.at("pid"), 4242);
    EXPECT_EQ(o.at("started"), 1'700'000'000'123); // milliseconds
    EXPECT_EQ(o.at("restarts"), 3);
    EXPECT_EQ(o.at("last_exit"), 2);
    EXPECT_EQ(o.at("keepalive"), "http");
    EXPECT_EQ(o.at("keyvalue").at("version"), "\"1.2\"");
    EXPECT_FALSE(o.contains("check"));
    const json::array &t = o.at("timeline").as_array();
    ASSERT_EQ(t.size(), 4u);
    EXPECT_EQ(t[0].at("outcome"), "ok");      // exit 0
    EXPECT_EQ(t[1].at("outcome"), "failed");  // exit 3
    EXPECT_EQ(t[1].at("ok"), false);
    EXPECT_EQ(t[2].at("outcome"), "stopped"); // SIGTERM: a restart or a stop
    EXPECT_EQ(t[2].at("ok"), true);
    EXPECT_EQ(t[3].at("outcome"), "ok");      // killed while disabled: asked for
}

TEST(DashboardJson, TheTimelineKeepsTheNewest) {
    UnitView u = app();
    u.history.clear();
    for (int i = 0; i < 100; ++i) {
        model::HistoryEntry e;
        e.exit_code = i;
        u.history.push_back(e);
    }
    const json::array t = parsed(unit_json(u)).at("timeline").as_array();
    ASSERT_EQ(t.size(), kTimelineLength);
    EXPECT_EQ(t.back().at("exit"), 99);
    EXPECT_EQ(t.front().at("exit"), static_cast<int>(100 - kTimelineLength));
}

TEST(DashboardJson, TimelineEntriesAreNumberedAndSentFromANumberOn) {
    UnitView u = app(); // 4 entries in the history
    u.history_total = 10; // 6 more were dropped from the history before them
    json::object o = parsed(unit_json(u));
    EXPECT_EQ(o.at("timeline_seq"), 10);
    EXPECT_EQ(o.at("timeline_partial"), false);
    json::array t = o.at("timeline").as_array();
    ASSERT_EQ(t.size(), 4u);
    EXPECT_EQ(t.front().at("seq"), 7);
    EXPECT_EQ(t.back().at("seq"), 10);
    o = parsed(unit_json(u, 8)); // the page has up to 8: 9 and 10 are new
    EXPECT_EQ(o.at("timeline_partial"), true);
    t = o.at("timeline").as_array();
    ASSERT_EQ(t.size(), 2u);
    EXPECT_EQ(t[0].at("seq"), 9);
    EXPECT_EQ(t[0].at("outcome"), "stopped"); // the 3rd kept entry
    EXPECT_TRUE(parsed(unit_json(u, 10)).at("timeline").as_array().empty());
    EXPECT_EQ(parsed(unit_json(u, 3)).at("timeline").as_array().size(), 4u); // older than what is kept: all kept
    // A check's probes are numbered by its probe count.
    UnitView c;
    c.ref = {UnitKind::Check, "db"};
    c.check = UnitView::Check{};
    c.check->probes = 500;
    for (int i = 0; i < 100; ++i) c.check->samples.push_back({1'000'000ull * static_cast<unsigned>(i), true, 100, ""});
    t = parsed(unit_json(c)).at("timeline").as_array();
    ASSERT_EQ(t.size(), kTimelineLength);
    EXPECT_EQ(t.back().at("seq"), 500);
    EXPECT_EQ(t.front().at("seq"), static_cast<int>(500 - kTimelineLength + 1));
    t = parsed(unit_json(c, 499)).at("timeline").as_array();
    ASSERT_EQ(t.size(), 1u);
    EXPECT_EQ(t[0].at("seq"), 500);
}

TEST(DashboardJson, TonesByState) {
    UnitView u = app();
    const std::pair<UnitState, std::string_view> cases[] = {
        {UnitState::Running, "ok"},  {UnitState::Starting, "busy"}, {UnitState::Stopping, "busy"},
        {UnitState::Backoff, "bad"}, {UnitState::Failed, "bad"},    {UnitState::Inactive, "off"},
        {UnitState::Unavailable, "unknown"}};
    for (const auto &[state, want] : cases) {
        u.state = state;
        EXPECT_EQ(tone(u), want) << model::to_string(state);
    }
}

TEST(DashboardJson, ACheckWithItsErrorAndSince) {
    UnitView u;
    u.ref = {UnitKind::Check, "db"};
    u.state = UnitState::Failed;
    u.check = UnitView::Check{};
    u.check->protocol = "tcp";
    u.check->endpoint = "10.0.0.1:5432";
    u.check->last_latency = 1500;
    u.check->probes = 3;
    u.check->probes_failed = 2;
    u.check->samples = {{1'000'000, true, 900, ""}, {2'000'000, false, 1200, "old"},
                        {3'000'000, false, 1500, "connection refused"}};
    json::object o = parsed(unit_json(u));
    EXPECT_EQ(o.at("name"), "db"); // no name: the id
    EXPECT_EQ(o.at("tone"), "bad");
    const json::object &c = o.at("check").as_object();
    EXPECT_EQ(c.at("endpoint"), "10.0.0.1:5432");
    EXPECT_EQ(c.at("latency_us"), 1500);
    EXPECT_EQ(c.at("error"), "connection refused");
    EXPECT_EQ(c.at("since"), 2000);       // down since the first of the failures in a row (ms)
    EXPECT_EQ(c.at("since_known"), true); // an up probe comes before it
    const json::array &t = o.at("timeline").as_array();
    ASSERT_EQ(t.size(), 3u);
    EXPECT_EQ(t[0].at("ok"), true);
    EXPECT_FALSE(t[0].as_object().contains("error"));
    EXPECT_EQ(t[2].at("error"), "connection refused");
    // Up again: no error; every kept probe agrees, so "since" is only a lower bound.
    u.state = UnitState::Running;
    u.check->samples = {{5'000'000, true, 100, ""}, {6'000'000, true, 100, ""}};
    o = parsed(unit_json(u));
    EXPECT_EQ(o.at("check").at("error"), "");
    EXPECT_EQ(o.at("check").at("since"), 5000);
    EXPECT_EQ(o.at("check").at("since_known"), false);
}

TEST(DashboardJson, AServiceShowsItsSystemdUnit) {
    UnitView u;
    u.ref = {UnitKind::Service, "ssh"};
    u.systemd = UnitView::Systemd{"ssh.service", "loaded", "failed", "failed", "exit-code"};
    const json::object o = parsed(unit_json(u));
    EXPECT_EQ(o.at("systemd").at("unit"), "ssh.service");
    EXPECT_EQ(o.at("systemd").at("result"), "exit-code");
}

TEST(DashboardJson, Snapshot) {
    supervisor::SupervisorView v;
    v.instance_id = "i-1";
    v.started = 5'000'000;
    v.units = {app(), app()};
    v.units[1].ref.id = "api";
    const json::object o = parsed(snapshot_json(v, "host-a"));
    EXPECT_EQ(o.at("host"), "host-a");
    EXPECT_EQ(o.at("instance"), "i-1");
    EXPECT_EQ(o.at("started"), 5000);
    ASSERT_EQ(o.at("units").as_array().size(), 2u);
    EXPECT_EQ(o.at("units").as_array()[1].at("id"), "api");
}

TEST(UiCommand, Parsed) {
    auto r = parse_ui_command(R"({"kind":"app","id":"web","toggle":"restart","secret":"s"})");
    ASSERT_TRUE(std::holds_alternative<UiCommand>(r));
    const UiCommand &c = std::get<UiCommand>(r);
    EXPECT_EQ(c.ref.kind, UnitKind::App);
    EXPECT_EQ(c.ref.id, "web");
    EXPECT_EQ(c.cmd.toggle, model::Toggle::Restart);
    EXPECT_EQ(c.cmd.secret, "s");
    const std::pair<const char *, model::Toggle> toggles[] = {{"start", model::Toggle::Enable},
                                                              {"stop", model::Toggle::Disable},
                                                              {"run-once", model::Toggle::EnableRunOnceEnable}};
    for (const auto &[name, want] : toggles) {
        auto t = parse_ui_command(std::string(R"({"kind":"check","id":"db","toggle":")") + name + "\"}");
        ASSERT_TRUE(std::holds_alternative<UiCommand>(t)) << name;
        EXPECT_EQ(std::get<UiCommand>(t).cmd.toggle, want);
        EXPECT_EQ(std::get<UiCommand>(t).ref.kind, UnitKind::Check);
    }
}

TEST(UiCommand, ErrorsNameTheField) {
    const std::pair<const char *, const char *> cases[] = {
        {"not json", ""},
        {"[1]", ""},
        {R"({"kind":"app","id":"web","toggle":"restart","extra":1})", "extra"},
        {R"({"kind":"unit","id":"web","toggle":"restart"})", "kind"},
        {R"({"id":"web","toggle":"restart"})", "kind"},
        {R"({"kind":"app","id":"","toggle":"restart"})", "id"},
        {R"({"kind":"app","id":7,"toggle":"restart"})", "id"},
        {R"({"kind":"app","id":"web","toggle":"explode"})", "toggle"},
        {R"({"kind":"app","id":"web"})", "toggle"},
        {R"({"kind":"app","id":"web","toggle":"stop","secret":5})", "secret"},
    };
    for (const auto &[body, field] : cases) {
        auto r = parse_ui_command(body);
        ASSERT_TRUE(std::holds_alternative<UiCommandError>(r)) << body;
        EXPECT_EQ(std::get<UiCommandError>(r).field, field) << body;
        EXPECT_FALSE(std::get<UiCommandError>(r).message.empty());
    }
    EXPECT_EQ(ui_error_json("no \"x\"", "id"), R"({"error":"no \"x\"","field":"id"})");
}

} // namespace
} // namespace watchd::api::http
