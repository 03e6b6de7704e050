// Golden responses: API_Response, History and API_Status as patrol's HTTP endpoints write them (field order,
// omitempty, MarshalIndent with tabs, a trailing newline), the reduced UDP form, and errors.
#include <gtest/gtest.h>

#include <cstdlib>
#include <ctime>
#include <string>

#include "api/patrol/gossm_json.h"
#include "api/patrol/response.h"

namespace watchd::api::patrol {
namespace {

using supervisor::HistoryEntry;
using supervisor::KeepAlive;
using supervisor::UnitKind;
using supervisor::UnitView;

constexpr base::Usec kT0 = 1700000000000000; // 2023-11-14T22:13:20Z
constexpr base::Usec kSec = base::kUsecPerSec;

class ResponseTest : public ::testing::Test {
protected:
    void SetUp() override {
        ::setenv("TZ", "UTC", 1);
        ::tzset();
    }
    void TearDown() override {
        ::unsetenv("TZ");
        ::tzset();
    }
    RenderContext ctx{"", kT0 + 100 * kSec};

    static UnitView app(KeepAlive k) {
        UnitView v;
        v.ref = {UnitKind::App, "web"};
        v.name = "Web Server";
        v.keepalive = k;
        v.cas = 42;
        return v;
    }
    static UnitView running(KeepAlive k) {
        UnitView v = app(k);
        v.instance_id = "11111111-2222-4333-8444-555555555555";
        v.pid = 1234;
        v.started = kT0;
        v.last_seen = kT0; // the core starts it at `started`
        return v;
    }
};

TEST_F(ResponseTest, RunningPatrolAppWithHistoryAndKeyValue) {
    UnitView v = running(KeepAlive::Patrol);
    v.has_secret = true;
    v.restart = true;
    v.keyvalue = {{"b", "1E3"}, {"a", "{\"z\":null,\"c\":[true]}"}};
    HistoryEntry crashed;
    crashed.instance_id = "aaaaaaaa-0000-4000-8000-000000000001";
    crashed.pid = 1000;
    crashed.started = kT0 - 50 * kSec;
    crashed.last_seen = crashed.started;
    crashed.stopped = kT0 - 10 * kSec;
    crashed.exit_code = 3;
    HistoryEntry killed = crashed;
    killed.instance_id = "aaaaaaaa-0000-4000-8000-000000000002";
    killed.exit_code = -1;
    killed.signal = 9;
    killed.disabled = true;
    killed.keyvalue = {{"k", "\"v\""}};
    v.history = {crashed, killed};
    EXPECT_EQ(http_body(render_unit(v, Shape::Http, ctx)), R"({
	"id": "web",
	"instance-id": "11111111-2222-4333-8444-555555555555",
	"group": "app",
	"name": "Web Server",
	"pid": 1234,
	"started": "2023-11-14T22:13:20Z",
	"lastseen": "2023-11-14T22:15:00Z",
	"restart": true,
	"history": [
		{
			"instance-id": "aaaaaaaa-0000-4000-8000-000000000001",
			"pid": 1000,
			"started": "2023-11-14T22:12:30Z",
			"lastseen": "2023-11-14T22:13:10Z",
			"stopped": "2023-11-14T22:13:10Z",
			"exit-code": 3
		},
		{
			"instance-id": "aaaaaaaa-0000-4000-8000-000000000002",
			"pid": 1000,
			"started": "2023-11-14T22:12:30Z",
			"lastseen": "2023-11-14T22:13:10Z",
			"stopped": "2023-11-14T22:13:10Z",
			"disabled": true,
			"exit-code": 255,
			"keyvalue": {
				"k": "v"
			}
		}
	],
	"keyvalue": {
		"a": {
			"c": [
				true
			],
			"z": null
		},
		"b": 1000
	},
	"secret": true,
	"cas": 42
}
)");
}

TEST_F(ResponseTest, StoppedAppShowsNoInstance) {
    UnitView v = app(KeepAlive::Patrol);
    v.disabled = true;
    v.shutdown = true;
    EXPECT_EQ(render_unit(v, Shape::Http, ctx, true),
              R"({"id":"web","group":"app","name":"Web Server","disabled":true,"shutdown":true,"cas":42,)"
              R"("cas-invalid":true})");
}

TEST_F(ResponseTest, HttpAppHasNoPidOrLastSeenBeforeItsFirstPing) {
    UnitView v = running(KeepAlive::Http);
    v.pid = 0; // the launcher runs; no ping has named a PID yet
    EXPECT_EQ(render_unit(v, Shape::Http, ctx),
              R"({"id":"web","instance-id":"11111111-2222-4333-8444-555555555555","group":"app",)"
              R"("name":"Web Server","started":"2023-11-14T22:13:20Z","cas":42})");
    v.pid = 4321;
    v.last_seen = kT0 + 7 * kSec;
    EXPECT_EQ(render_unit(v, Shape::Http, ctx),
              R"({"id":"web","instance-id":"11111111-2222-4333-8444-555555555555","group":"app",)"
              R"("name":"Web Server","pid":4321,"started":"2023-11-14T22:13:20Z","lastseen":"2023-11-14T22:13:27Z",)"
              R"("cas":42})");
    // A ping timeout closes an instance never pinged: no lastseen; and no exit code, even though watchd's stop
    // signal ended it (patrol records exit codes of patrol-mode apps only).
    HistoryEntry h;
    h.instance_id = "i";
    h.started = h.last_seen = kT0;
    h.stopped = kT0 + 30 * kSec;
    h.signal = 15;
    EXPECT_EQ(render_history(h, KeepAlive::Http, ctx),
              R"({"instance-id":"i","started":"2023-11-14T22:13:20Z","stopped":"2023-11-14T22:13:50Z"})");
    h.signal = 0;
    h.exit_code = 3;
    EXPECT_NE(render_history(h, KeepAlive::Patrol, ctx).find("\"exit-code\":3"), std::string::npos);
    EXPECT_EQ(render_history(h, KeepAlive::PidFile, ctx).find("exit-code"), std::string::npos);
}

TEST_F(ResponseTest, PidFileAppIsSeenNowWhileItsPidIsWatched) {
    UnitView v = running(KeepAlive::PidFile);
    EXPECT_NE(render_unit(v, Shape::Http, ctx).find(R"("lastseen":"2023-11-14T22:15:00Z")"), std::string::npos);
    v.pid = 0; // launched, pid file not read yet
    EXPECT_EQ(render_unit(v, Shape::Http, ctx).find("lastseen"), std::string::npos);
}

TEST_F(ResponseTest, UdpIsReducedAndStatusEntriesHaveNoIdGroupOrShutdown) {
    UnitView v = running(KeepAlive::Udp);
    v.last_seen = kT0 + kSec;
    v.shutdown = true;
    v.keyvalue = {{"a", "1"}};
    v.history.resize(1);
    EXPECT_EQ(render_unit(v, Shape::Udp, ctx),
              R"({"id":"web","instance-id":"11111111-2222-4333-8444-555555555555","group":"app",)"
              R"("name":"Web Server","pid":1234,"started":"2023-11-14T22:13:20Z","lastseen":"2023-11-14T22:13:21Z",)"
              R"("shutdown":true,"cas":42})");
    const std::string status = render_unit(v, Shape::Status, ctx);
    EXPECT_EQ(status.find("\"id\""), std::string::npos);
    EXPECT_EQ(status.find("\"group\""), std::string::npos);
    EXPECT_EQ(status.find("\"shutdown\""), std::string::npos);
    EXPECT_NE(status.find("\"history\":[{}]"), std::string::npos);
    EXPECT_NE(status.find("\"keyvalue\":{\"a\":1}"), std::string::npos);
}

TEST_F(ResponseTest, ServicesHaveNoPid) {
    UnitView v;
    v.ref = {UnitKind::Service, "ssh"};
    v.name = "SSH";
    v.pid = 77;
    v.run_once = true;
    v.cas = 5;
    EXPECT_EQ(render_unit(v, Shape::Http, ctx),
              R"({"id":"ssh","group":"service","name":"SSH","run-once":true,"cas":5})");
}

TEST_F(ResponseTest, GossmJsonIsItsMapOfServersToStatusHistories) {
    supervisor::SupervisorView s;
    auto check = [](const char *id, const char *proto, const char *addr, std::uint16_t port) {
        UnitView v;
        v.ref = {UnitKind::Check, id};
        v.check = UnitView::Check{};
        v.check->protocol = proto;
        v.check->endpoint = std::string(addr) + ":" + std::to_string(port);
        return v;
    };
    s.units.push_back(check("b", "udp", "10.0.0.2", 53));
    s.units.push_back(check("a", "tcp", "10.0.0.1", 80));
    s.units[0].check->samples = {{1700000000123456, true, 5, ""}, {1700000001000000, false, 9, "refused"}};
    UnitView app;
    app.ref = {UnitKind::App, "web"}; // not a check: not there
    s.units.push_back(app);
    EXPECT_EQ(render_gossm_json(s),
              R"({"tcp 10.0.0.1:80":[],"udp 10.0.0.2:53":[{"time":"2023-11-14T22:13:20.123456Z","online":true},)"
              R"({"time":"2023-11-14T22:13:21Z","online":false}]})");
    EXPECT_EQ(render_gossm_json({}), "{}");
}

TEST_F(ResponseTest, AServiceThatCannotRunSaysWhyInErrors) {
    UnitView v;
    v.ref = {UnitKind::Service, "db"};
    v.name = "DB";
    v.state = supervisor::UnitState::Failed;
    v.last_error = "db.service: unit not found";
    v.cas = 5;
    EXPECT_EQ(render_unit(v, Shape::Http, ctx),
              R"({"id":"db","group":"service","name":"DB","errors":["db.service: unit not found"],"cas":5})");
    v.state = supervisor::UnitState::Running; // a running one's last error is history, not a present error
    EXPECT_EQ(render_unit(v, Shape::Http, ctx).find("errors"), std::string::npos);
}

TEST_F(ResponseTest, ServiceHistoryHasTheMainProcessExitAndSystemdsResult) {
    supervisor::HistoryEntry h;
    h.instance_id = "0123456789abcdef0123456789abcdef";
    h.pid = 40;
    h.exit_code = 3;
    h.result = "exit-code";
    const std::string out = render_history(h, std::nullopt, ctx);
    EXPECT_NE(out.find(R"("instance-id":"0123456789abcdef0123456789abcdef")"), std::string::npos) << out;
    EXPECT_NE(out.find(R"("exit-code":3,"result":"exit-code")"), std::string::npos) << out;
    h.exit_code = -1;
    h.signal = 9;
    h.result = "signal";
    EXPECT_NE(render_history(h, std::nullopt, ctx).find(R"("exit-code":255,"result":"signal")"), std::string::npos);
    // an app's history has no result
    h.result.clear();
    EXPECT_EQ(render_history(h, supervisor::KeepAlive::Patrol, ctx).find("result"), std::string::npos);
}

TEST_F(ResponseTest, StatusGolden) {
    supervisor::SupervisorView s;
    s.instance_id = "99999999-9999-4999-8999-999999999999";
    s.started = kT0;
    s.json_timestamp = "Mon, 02 Jan 2006 15:04:05 -0700";
    UnitView b = app(KeepAlive::Patrol), a = running(KeepAlive::Patrol);
    b.ref.id = "b";
    a.ref.id = "a";
    a.name = "";
    UnitView svc;
    svc.ref = {UnitKind::Service, "ssh"};
    svc.cas = 9;
    UnitView check;
    check.ref = {UnitKind::Check, "ping"};
    s.units = {b, a, svc, check};
    EXPECT_EQ(http_body(render_status(s, kT0 + 5 * kSec)), R"({
	"instance-id": "99999999-9999-4999-8999-999999999999",
	"apps": {
		"a": {
			"instance-id": "11111111-2222-4333-8444-555555555555",
			"pid": 1234,
			"started": "Tue, 14 Nov 2023 22:13:20 +0000",
			"lastseen": "Tue, 14 Nov 2023 22:13:25 +0000",
			"cas": 42
		},
		"b": {
			"name": "Web Server",
			"cas": 42
		}
	},
	"service": {
		"ssh": {
			"cas": 9
		}
	},
	"started": "Tue, 14 Nov 2023 22:13:20 +0000"
}
)");
    supervisor::SupervisorView empty;
    empty.shutting_down = true;
    EXPECT_EQ(render_status(empty, kT0), R"({"shutdown":true})");
}

TEST_F(ResponseTest, Errors) {
    EXPECT_EQ(http_body(render_errors({"Unknown App"})), "{\n\t\"errors\": [\n\t\t\"Unknown App\"\n\t]\n}\n");
    EXPECT_EQ(render_errors({"Services don't support Ping"}), R"({"errors":["Services don't support Ping"]})");
    EXPECT_EQ(render_errors({}), "{}");
}

} // namespace
} // namespace watchd::api::patrol
