// config::load(): both seeds' documents, every rule with its pointer, collected errors, drop-ins.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "config/load.h"

namespace watchd::config {
namespace {

namespace fs = std::filesystem;

// patrol's documented config.json (seed), as valid JSON.
constexpr const char *kPatrol = R"({
  "apps": {
    "testapp": {
      "keepalive": 1, "name": "Test App", "binary": "testapp", "working-directory": "/opt/go/src/",
      "log-directory": "logs", "pid-path": "testapp.pid", "pid-verify": false, "disabled": false,
      "keyvalue-clear": true, "secret": "", "execute-timeout": 0, "args": [], "env": [], "env-parent": false,
      "std-merge": true
    }
  },
  "services": {
    "ssh": {"management": 1, "name": "SSH", "service": "ssh", "ignore-exit-codes": [], "disabled": false,
            "keyvalue-clear": true, "secret": ""}
  },
  "tick-every": 15, "history": 100, "json-timestamp": "Mon, 02 Jan 2006 15:04:05 -0700", "ping-timeout": 30,
  "listen-http": ["127.0.0.1:8421"], "listen-udp": ["127.0.0.1:8421"],
  "http": {"listen": ["127.0.0.1:8421"]}, "udp": {"listen": ["127.0.0.1:8421"]},
  "x": {"anything": [1, 2, 3]}
})";

// gossm's documented configs/default.json (seed), as valid JSON.
constexpr const char *kGossm = R"({
  "settings": {
    "notifications": {
      "email": [{"smtp": "smtp.gmail.com", "port": 587, "username": "a@example.com", "password": "pw",
                 "from": "a@example.com", "to": ["b@example.com"]}],
      "telegram": [{"botToken": "123456:ABC-DEF1234", "chatId": "12341234"}],
      "slack": [{"bearerToken": "bearerToken", "channelId": "channelId"}],
      "pushover": [{"userKey": "user_key", "appToken": "app_token"}],
      "webhook": [{"url": "url", "method": "GET"}],
      "sms": [{"sms": "todo"}]
    },
    "monitor": {"checkInterval": 15, "timeout": 5, "maxConnections": 50, "exponentialBackoffSeconds": 5}
  },
  "servers": [
    {"name": "Local Webserver 1", "ipAddress": "127.0.0.1", "port": 80, "protocol": "tcp", "checkInterval": 5, "timeout": 5},
    {"name": "Test server 1", "ipAddress": "192.0.2.1", "port": 80, "protocol": "tcp", "checkInterval": 5, "timeout": 5},
    {"name": "Test server 2", "ipAddress": "example.org", "port": 8080, "protocol": "udp"}
  ]
})";

std::string app_with(const std::string &fields) {
    return R"({"apps": {"web": {"keepalive": "patrol", "name": "Web", "working-directory": "/srv", "binary": "web")" +
           std::string(fields.empty() ? "" : ", ") + fields + "}}}";
}

std::vector<std::string> errors(const LoadResult &r) {
    std::vector<std::string> out;
    for (const auto &d : r.diagnostics) out.push_back(d.to_string());
    return out;
}

// Exactly one diagnostic, at `pointer`, whose message contains `needle`.
void expect_one(const std::string &json, const std::string &pointer, const std::string &needle) {
    auto r = load_from_string(json, "watchd.json");
    ASSERT_FALSE(r.ok()) << json;
    ASSERT_EQ(r.diagnostics.size(), 1u) << ::testing::PrintToString(errors(r));
    EXPECT_EQ(r.diagnostics[0].pointer, pointer);
    EXPECT_NE(r.diagnostics[0].message.find(needle), std::string::npos) << r.diagnostics[0].message;
    EXPECT_EQ(r.diagnostics[0].file, "watchd.json");
}

TEST(Load, PatrolSeedConfigLoadsUnchanged) {
    auto r = load_from_string(kPatrol, "config.json");
    ASSERT_TRUE(r.ok()) << ::testing::PrintToString(errors(r));
    const auto &c = *r.config;
    ASSERT_EQ(c.apps.size(), 1u);
    const auto &a = c.apps[0];
    EXPECT_EQ(a.id, "testapp");
    EXPECT_EQ(a.keepalive, model::KeepAlive::Patrol);
    EXPECT_EQ(a.exec_path(), "/opt/go/src/testapp");
    EXPECT_EQ(a.pid_file(), "/opt/go/src/testapp.pid");
    EXPECT_TRUE(a.std_merge);
    EXPECT_TRUE(a.keyvalue_clear);
    ASSERT_EQ(c.services.size(), 1u);
    EXPECT_EQ(c.services[0].unit, "ssh.service");
    EXPECT_EQ(c.services[0].management, 1);
    EXPECT_EQ(c.json_timestamp, "Mon, 02 Jan 2006 15:04:05 -0700");
    EXPECT_EQ(c.listen_http, std::vector<std::string>{"127.0.0.1:8421"});
}

TEST(Load, GossmSeedConfigLoadsUnchanged) {
    auto r = load_from_string(kGossm, "default.json");
    ASSERT_TRUE(r.ok()) << ::testing::PrintToString(errors(r));
    const auto &c = *r.config;
    ASSERT_EQ(c.checks.size(), 3u);
    EXPECT_EQ(c.checks[0].id, "local-webserver-1");
    EXPECT_EQ(c.checks[0].interval, 5 * base::kUsecPerSec);
    EXPECT_EQ(c.checks[2].interval, 15 * base::kUsecPerSec); // from settings.monitor
    EXPECT_EQ(c.checks[2].protocol, "udp");
    EXPECT_EQ(c.monitor.exponential_backoff_seconds, 5u);
    EXPECT_EQ(c.monitor.max_connections, 50u);
    ASSERT_EQ(c.notifiers.size(), 6u);
    EXPECT_EQ(c.notifiers[0].kind, "email");
    EXPECT_EQ(c.notifiers[0].fields.at("port"), "587");
    EXPECT_EQ(c.notifiers[0].to, std::vector<std::string>{"b@example.com"});
    EXPECT_EQ(c.notifiers[5].fields.at("sms"), "todo");
}

TEST(Load, Defaults) {
    auto r = load_from_string(app_with(""), "watchd.json");
    ASSERT_TRUE(r.ok()) << ::testing::PrintToString(errors(r));
    EXPECT_EQ(r.config->history, 100u);
    EXPECT_EQ(r.config->tick_every, 15 * base::kUsecPerSec);
    EXPECT_EQ(r.config->ping_timeout, 30 * base::kUsecPerSec);
    EXPECT_EQ(r.config->http_listen, std::vector<std::string>{"127.0.0.1:8421"});
    EXPECT_EQ(r.config->udp_listen, std::vector<std::string>{"127.0.0.1:8421"});
    EXPECT_EQ(r.config->listen_http, r.config->http_listen); // advertised to apps
    const auto &a = r.config->apps[0];
    EXPECT_EQ(a.stop_signal, SIGTERM);
    EXPECT_EQ(a.restart.start_limit_burst, 10u);
    EXPECT_TRUE(a.log_directory.empty()); // journal
}

TEST(Load, KeepaliveNumbersAndNames) {
    for (auto [text, mode] : std::vector<std::pair<std::string, model::KeepAlive>>{
             {"1", model::KeepAlive::Patrol}, {"\"patrol\"", model::KeepAlive::Patrol},
             {"3", model::KeepAlive::Http}, {"\"udp\"", model::KeepAlive::Udp}, {"4", model::KeepAlive::Udp}}) {
        std::string j = R"({"apps": {"a": {"keepalive": )" + text +
                        R"(, "name": "A", "working-directory": "/srv", "binary": "a"}}})";
        auto r = load_from_string(j, "w.json");
        ASSERT_TRUE(r.ok()) << text << ::testing::PrintToString(errors(r));
        EXPECT_EQ(r.config->apps[0].keepalive, mode);
    }
    expect_one(R"({"apps": {"a": {"keepalive": 0, "name": "A", "working-directory": "/srv", "binary": "a"}}})",
               "/apps/a/keepalive", "expected 1/\"patrol\"");
    expect_one(R"({"apps": {"a": {"keepalive": "forever", "name": "A", "working-directory": "/srv", "binary": "a"}}})",
               "/apps/a/keepalive", "got \"forever\"");
}

TEST(Load, EachRuleNamesItsPointer) {
    const std::string base = R"({"apps": {"web": {"keepalive": "patrol", "name": "Web", "binary": "web", )";
    expect_one(base + R"("working-directory": "srv"}}})", "/apps/web/working-directory",
               "must be absolute or start with ~/, got \"srv\"");
    expect_one(base + R"("working-directory": "/srv/../etc"}}})", "/apps/web/working-directory", "clean path");
    expect_one(base + R"("working-directory": "/srv//x"}}})", "/apps/web/working-directory", "clean path");
    expect_one(app_with(R"("log-directory": "./logs")"), "/apps/web/log-directory", "clean path");
    expect_one(app_with(R"("pid-path": "../web.pid")"), "/apps/web/pid-path", "clean path");
    expect_one(app_with(R"("secret": ")" + std::string(129, 's') + "\""), "/apps/web/secret", "at most 128 bytes");
    expect_one(app_with(R"("execute-timeout": -1)"), "/apps/web/execute-timeout", "non-negative");
    expect_one(app_with(R"("pid-wait": 0)"), "/apps/web/pid-wait", "more than 0");
    expect_one(app_with(R"("log-rate-limit-interval": "0s")"), "/apps/web/log-rate-limit-interval", "more than 0");
    expect_one(app_with(R"("log-rate-limit-burst": -1)"), "/apps/web/log-rate-limit-burst", "");
    expect_one(app_with(R"("args": ["ok", 5])"), "/apps/web/args/1", "expected a string, got a number");
    expect_one(app_with(R"("env": ["1BAD=x"])"), "/apps/web/env/0", "KEY=value");
    expect_one(app_with(R"("env-parent": "yes")"), "/apps/web/env-parent", "expected true or false, got a string");
    expect_one(app_with(R"("stop-signal": "SIGNOPE")"), "/apps/web/stop-signal", "signal name");
    expect_one(app_with(R"("stop-timeout": "0")"), "/apps/web/stop-timeout", "more than 0");
    expect_one(app_with(R"("restart": {"backoff-initial": "1m", "backoff-max": "1s"})"),
               "/apps/web/restart/backoff-initial", "must not be more than backoff-max");
    expect_one(app_with(R"("restart": {"burst": 1})"), "/apps/web/restart/burst", "unknown key");
    expect_one(app_with(R"("nmae": "x")"), "/apps/web/nmae", "unknown key: did you mean \"name\"? (valid here:");
    expect_one(R"({"apps": {"web": {"keepalive": 1, "working-directory": "/srv", "binary": "w"}}})", "/apps/web/name",
               "required");
    expect_one(R"({"apps": {"web": {"keepalive": 1, "name": ")" + std::string(256, 'n') +
                   R"(", "working-directory": "/srv", "binary": "w"}}})",
               "/apps/web/name", "at most 255 bytes");
    expect_one(R"({"apps": {"web": {"keepalive": "pidfile", "name": "W", "working-directory": "/srv", "binary": "w"}}})",
               "/apps/web/pid-path", "required with keepalive pidfile");
    expect_one(R"({"apps": {"bad_id": {}}})", "/apps/bad_id", "app id must be");
    expect_one(R"({"apps": {")" + std::string(64, 'a') + R"(": {}}})", "/apps/" + std::string(64, 'a'), "app id must be");
    expect_one(R"({"apps": {"Web": {"keepalive": 1, "name": "W", "working-directory": "/s", "binary": "w"},
                            "web": {"keepalive": 1, "name": "W", "working-directory": "/s", "binary": "w"}}})",
               "/apps/web", "duplicate app id");
    expect_one(app_with("") .substr(0, app_with("").size() - 1) + R"(, "history": 2})", "/history", "between 5 and 1000");
    expect_one(app_with("").substr(0, app_with("").size() - 1) + R"(, "tick-every": 121})", "/tick-every", "between 5 and 120");
    expect_one(app_with("").substr(0, app_with("").size() - 1) + R"(, "ping-timeout": 181})", "/ping-timeout",
               "between 5 and 180");
    expect_one(app_with("").substr(0, app_with("").size() - 1) + R"(, "listen-http": ["127.0.0.1:0"]})",
               "/listen-http/0", "port 1..65535");
    expect_one(app_with("").substr(0, app_with("").size() - 1) + R"(, "http": {"listen": "[::1:80"}})", "/http/listen",
               "host:port");
    expect_one(R"({})", "", "nothing to supervise");
    expect_one(R"([1, 2])", "", "expected a JSON object at the top, got an array");
}

TEST(Load, ServiceVerbsAndRestartBecomeCalls) {
    auto r = load_from_string(R"({"services": {"ssh": {"management": 2, "name": "N", "service": "ssh",
        "management-start-parameter": "start", "management-restart-parameter": "force-reload",
        "restart": {"backoff-initial": "1s", "start-limit-burst": 3}},
        "cron": {"management": 1, "name": "N", "service": "cron.timer", "management-restart-parameter": "try-restart"}}})",
                              "watchd.json");
    ASSERT_TRUE(r.ok()) << (r.diagnostics.empty() ? "" : r.diagnostics[0].to_string());
    ASSERT_EQ(r.config->services.size(), 2u);
    const auto &cron = r.config->services[0], &ssh = r.config->services[1];
    EXPECT_EQ(cron.unit, "cron.timer");
    EXPECT_EQ(cron.restart_call, model::SystemdVerb::TryRestart);
    EXPECT_EQ(ssh.start_call, model::SystemdVerb::Start);
    EXPECT_EQ(ssh.restart_call, model::SystemdVerb::ReloadOrRestart);
    EXPECT_EQ(ssh.restart.backoff_initial, base::kUsecPerSec);
    EXPECT_EQ(ssh.restart.start_limit_burst, 3u);
}

TEST(Load, GossmServersTakeTheGlobalValuesWhenTheirsAreMissingOrZero) {
    auto r = load_from_string(R"({"settings": {"monitor": {"checkInterval": 7, "timeout": 3, "maxConnections": 9,
        "exponentialBackoffSeconds": 0}},
      "servers": [{"name": "a", "ipAddress": "127.0.0.1", "port": 1, "protocol": "tcp", "checkInterval": 0},
                  {"name": "b", "ipAddress": "127.0.0.1", "port": 2, "protocol": "udp", "timeout": 1,
                   "payload": "ping", "disabled": true}]})",
                              "watchd.json");
    ASSERT_TRUE(r.ok()) << (r.diagnostics.empty() ? "" : r.diagnostics[0].to_string());
    const auto &c = r.config->checks;
    ASSERT_EQ(c.size(), 2u);
    EXPECT_EQ(c[0].interval, 7 * base::kUsecPerSec);
    EXPECT_EQ(c[0].timeout, 3 * base::kUsecPerSec); // gossm's switch would have left it 0
    EXPECT_EQ(c[1].timeout, 1 * base::kUsecPerSec);
    EXPECT_EQ(c[1].payload, "ping");
    EXPECT_TRUE(c[1].disabled);
    EXPECT_EQ(r.config->monitor.exponential_backoff_seconds, 0u);
    EXPECT_EQ(r.config->monitor.max_connections, 9u);
    auto rf = load_from_string(R"({"servers": [{"name": "a", "ipAddress": "127.0.0.1", "port": 1, "protocol": "tcp",
                                                "rise": 2, "fall": 3}]})", "watchd.json");
    ASSERT_TRUE(rf.ok());
    EXPECT_EQ(rf.config->checks[0].rise, 2u);
    EXPECT_EQ(rf.config->checks[0].fall, 3u);
    EXPECT_EQ(c[0].rise, 1u) << "one result decides, as in gossm, unless told otherwise";
    expect_one(R"({"servers": [{"name": "a", "ipAddress": "127.0.0.1", "port": 1, "protocol": "tcp", "fall": 0}]})",
               "/servers/0/fall", "1");
    expect_one(R"({"servers": [{"name": "a", "ipAddress": "127.0.0.1", "port": 1, "protocol": "tcp", "payload": "x"}]})",
               "/servers/0/payload", "only a udp check");
    // a regular expression that could take the loop's time or its stack is refused
    expect_one(R"x({"servers": [{"name": "w", "protocol": "http", "url": "http://h/", "bodyRegex": "(a+)+b"}]})x",
               "/servers/0/bodyRegex", "exponential time");
    expect_one(R"x({"servers": [{"name": "w", "protocol": "http", "url": "http://h/", "bodyRegex": "((((((((((a))))))))))"}]})x",
               "/servers/0/bodyRegex", "at most 8");
    expect_one(R"({"servers": [{"name": "w", "protocol": "http", "url": "http://h/", "bodyRegex": "[a"}]})",
               "/servers/0/bodyRegex", "not a regular expression");
    expect_one(R"({"servers": [{"name": "w", "protocol": "https", "url": "http://h/"}]})", "/servers/0/url",
               "must start with https://");
}

TEST(Load, AnHttpCheckURLsCredentialsAreNoPartOfItsAddress) {
    auto r = load_from_string(R"({"servers": [{"name": "w", "protocol": "https",
        "url": "https://monitor:CHANGE-ME@status.example.com:8443/health"}]})", "watchd.json");
    ASSERT_TRUE(r.ok()) << (r.diagnostics.empty() ? "" : r.diagnostics[0].to_string());
    EXPECT_EQ(r.config->checks[0].address, "status.example.com");
    EXPECT_EQ(r.config->checks[0].port, 8443);
    EXPECT_EQ(r.config->checks[0].endpoint(), "status.example.com:8443");
}

TEST(Load, HttpCheckSchemesInAnyCaseAndCertificatesOnlyForHttps) {
    auto r = load_from_string(R"({"servers": [{"name": "w", "protocol": "https", "url": "HTTPS://Status.example.com/"}]})",
                              "watchd.json");
    ASSERT_TRUE(r.ok()) << (r.diagnostics.empty() ? "" : r.diagnostics[0].to_string());
    EXPECT_EQ(r.config->checks[0].address, "Status.example.com");
    EXPECT_EQ(r.config->checks[0].port, 443);
    expect_one(R"({"servers": [{"name": "w", "protocol": "http", "url": "http://h/", "certExpiryWarningDays": 7}]})",
               "/servers/0/certExpiryWarningDays", "only an https");
}

TEST(Load, SmsEntriesAreGossmsStubOrWholeTwilioSettings) {
    auto r = load_from_string(R"({"settings": {"notifications": {"sms": [
        {"accountSid": "AC1", "authToken": "tok", "from": "+15550001", "to": "+15550002", "baseUrl": "http://127.0.0.1:9"}]}},
        "servers": [{"name": "a", "ipAddress": "127.0.0.1", "port": 1, "protocol": "tcp"}]})",
                              "watchd.json");
    ASSERT_TRUE(r.ok()) << (r.diagnostics.empty() ? "" : r.diagnostics[0].to_string());
    EXPECT_EQ(r.config->notifiers[0].fields.at("to"), "+15550002");
    expect_one(R"({"settings": {"notifications": {"sms": [{"accountSid": "AC1", "authToken": "t", "from": "+1"}]}}})",
               "/settings/notifications/sms/0/to", "required with the other Twilio keys");
    expect_one(R"({"settings": {"notifications": {"sms": [{"acountSid": "AC1"}]}}})",
               "/settings/notifications/sms/0/acountSid", "unknown");
    expect_one(R"({"settings": {"notifications": {"sms": [{"accountSid": "AC1", "authToken": "t", "from": "+1",
               "to": ["+2"]}]}}})", "/settings/notifications/sms/0/to", "string");
    expect_one(R"({"settings": {"notifications": {"sms": [{"accountSid": "AC1", "authToken": "t", "from": "+1",
               "to": "+2", "baseUrl": "ftp://x"}]}}})", "/settings/notifications/sms/0/baseUrl", "http");
}

TEST(Load, AlertmanagerEntriesAndTheirErrors) {
    auto r = load_from_string(R"({"settings": {"notifications": {"alertmanager": [
        {"urls": ["http://127.0.0.1:9093", "https://am.example.com/alertmanager/"], "resendInterval": "30s",
         "generatorURL": "https://watchd.example.com/", "labels": {"team": "ops", "env_2": "prod"}, "x": 1},
        {"urls": ["http://am:9093"]}]}},
        "http": {"listen": ["0.0.0.0:9000", "127.0.0.1:9001"]},
        "servers": [{"name": "a", "ipAddress": "127.0.0.1", "port": 1, "protocol": "tcp"}]})",
                              "watchd.json");
    ASSERT_TRUE(r.ok()) << ::testing::PrintToString(errors(r));
    const auto &n = r.config->notifiers;
    ASSERT_EQ(n.size(), 2u);
    EXPECT_EQ(n[0].kind, "alertmanager");
    EXPECT_EQ(n[0].urls, (std::vector<std::string>{"http://127.0.0.1:9093", "https://am.example.com/alertmanager/"}));
    EXPECT_EQ(n[0].resend_interval, 30 * base::kUsecPerSec);
    EXPECT_EQ(n[0].fields.at("generatorURL"), "https://watchd.example.com/");
    EXPECT_EQ(n[0].labels, (std::map<std::string, std::string>{{"env_2", "prod"}, {"team", "ops"}}));
    EXPECT_EQ(n[1].resend_interval, 60 * base::kUsecPerSec) << "1m by default";
    EXPECT_EQ(n[1].fields.count("generatorURL"), 0u);
    EXPECT_EQ(n[1].dashboard_port, 9000) << "the default generatorURL: the first http.listen address's port";
    EXPECT_TRUE(n[1].labels.empty());

    const std::string at = "/settings/notifications/alertmanager/0";
    auto am = [](const std::string &entry) {
        return R"({"settings": {"notifications": {"alertmanager": [)" + entry + "]}}}";
    };
    expect_one(am(R"({})"), at + "/urls", "required");
    expect_one(am(R"({"urls": []})"), at + "/urls", "1 to 8");
    expect_one(am(R"({"urls": ["http://a:1", "http://a:2", "http://a:3", "http://a:4", "http://a:5", "http://a:6",
                               "http://a:7", "http://a:8", "http://a:9"]})"), at + "/urls", "1 to 8");
    expect_one(am(R"({"urls": "http://a:1"})"), at + "/urls", "array");
    expect_one(am(R"({"urls": ["http://a:1", 9093]})"), at + "/urls/1", "string");
    expect_one(am(R"({"urls": ["ftp://a"]})"), at + "/urls/0", "http:// or https://");
    expect_one(am(R"({"urls": ["127.0.0.1:9093"]})"), at + "/urls/0", "http:// or https://");
    expect_one(am(R"({"urls": ["http://"]})"), at + "/urls/0", "host");
    expect_one(am(R"({"urls": ["http://a b:1"]})"), at + "/urls/0", "spaces");
    expect_one(am(R"({"urls": ["http://a:1/?x=1"]})"), at + "/urls/0", "without a query");
    expect_one(am(R"({"urls": ["http://a:1/#x"]})"), at + "/urls/0", "#fragment");
    expect_one(am(R"({"urls": ["http://a:1", "http://a:1"]})"), at + "/urls/1", "duplicate");
    expect_one(am(R"({"urls": ["http://a:1"], "resendInterval": "500ms"})"), at + "/resendInterval", "between 1s and 1h");
    expect_one(am(R"({"urls": ["http://a:1"], "resendInterval": "2h"})"), at + "/resendInterval", "between 1s and 1h");
    expect_one(am(R"({"urls": ["http://a:1"], "resendInterval": "soon"})"), at + "/resendInterval", "duration");
    expect_one(am(R"({"urls": ["http://a:1"], "generatorURL": "watchd:8421"})"), at + "/generatorURL", "http://");
    expect_one(am(R"({"urls": ["http://a:1"], "generatorURL": "http://h/#x"})"), at + "/generatorURL", "#fragment");
    expect_one(am(R"({"urls": ["http://a:1"], "labels": "team=ops"})"), at + "/labels", "object");
    expect_one(am(R"({"urls": ["http://a:1"], "labels": {"1team": "ops"}})"), at + "/labels/1team", "label name");
    expect_one(am(R"({"urls": ["http://a:1"], "labels": {"te-am": "ops"}})"), at + "/labels/te-am", "label name");
    expect_one(am(R"({"urls": ["http://a:1"], "labels": {"__name__": "x"}})"), at + "/labels/__name__", "__");
    expect_one(am(R"({"urls": ["http://a:1"], "labels": {"severity": "page"}})"), at + "/labels/severity",
               "watchd's own labels");
    expect_one(am(R"({"urls": ["http://a:1"], "labels": {"team": 1}})"), at + "/labels/team", "string");
    expect_one(am(R"({"urls": ["http://a:1"], "labels": {"team": ""}})"), at + "/labels/team", "empty");
    expect_one(am(R"({"urls": ["http://a:1"], "url": "http://a:2"})"), at + "/url", "did you mean \"urls\"");
    expect_one(am(R"({"urls": ["http://a:1"]}, {"urls": ["http://a:1"], "resendInterval": 0})"),
               "/settings/notifications/alertmanager/1/resendInterval", "between 1s and 1h");
    expect_one(R"({"settings": {"notifications": {"alertmanager": {"urls": ["http://a:1"]}}}})",
               "/settings/notifications/alertmanager", "expected an array");
}

TEST(Load, ExecChecksRunACommandAndNeedNoAddress) {
    auto r = load_from_string(R"({"servers": [
        {"name": "disk", "protocol": "exec", "command": ["/usr/lib/nagios/plugins/check_disk", "-w", "10%"],
         "user": "nobody", "expectExit": [0, 1], "timeout": 2},
        {"name": "true", "protocol": "exec", "command": ["/bin/true"]}]})",
                              "watchd.json");
    ASSERT_TRUE(r.ok()) << (r.diagnostics.empty() ? "" : r.diagnostics[0].to_string());
    const auto &c = r.config->checks;
    ASSERT_EQ(c.size(), 2u);
    EXPECT_EQ(c[0].command, (std::vector<std::string>{"/usr/lib/nagios/plugins/check_disk", "-w", "10%"}));
    EXPECT_EQ(c[0].user, "nobody");
    EXPECT_EQ(c[0].expect_exit, (std::vector<int>{0, 1}));
    EXPECT_EQ(c[0].timeout, 2 * base::kUsecPerSec);
    EXPECT_EQ(c[0].endpoint(), "/usr/lib/nagios/plugins/check_disk");
    EXPECT_EQ(c[1].expect_exit, (std::vector<int>{0}));
    expect_one(R"({"servers": [{"name": "x", "protocol": "exec"}]})", "/servers/0/command", "required");
    expect_one(R"({"servers": [{"name": "x", "protocol": "exec", "command": ["check_disk"]}]})", "/servers/0/command",
               "absolute path");
    expect_one(R"({"servers": [{"name": "x", "protocol": "exec", "command": []}]})", "/servers/0/command",
               "absolute path");
    expect_one(R"({"servers": [{"name": "x", "protocol": "exec", "command": ["/bin/true"], "expectExit": [0, 256]}]})",
               "/servers/0/expectExit/1", "exit code 0..255");
    expect_one(R"({"servers": [{"name": "x", "protocol": "exec", "command": ["/bin/true"], "expectExit": []}]})",
               "/servers/0/expectExit", "at least one");
    expect_one(R"({"servers": [{"name": "x", "protocol": "tcp", "ipAddress": "1.2.3.4", "port": 1,
                                "command": ["/bin/true"]}]})",
               "/servers/0/command", "unknown");
    expect_one(R"({"servers": [{"name": "x", "protocol": "exec", "command": ["/bin/true"], "port": 80}]})",
               "/servers/0/port", "no port");
    expect_one(R"({"servers": [{"name": "x", "protocol": "exec", "command": ["/bin/true"], "ipAddress": "10.0.0.1"}]})",
               "/servers/0/ipAddress", "no address");
    expect_one(R"({"servers": [{"name": "d", "protocol": "dns", "ipAddress": "example.org", "expectAddress": "not-an-ip"}]})",
               "/servers/0/expectAddress", "expected IP addresses");
    expect_one(R"({"servers": [{"name": "x", "protocol": "icmp", "ipAddress": "1.2.3.4", "port": 1}]})",
               "/servers/0/protocol", "\"exec\"");
}

TEST(Load, ServiceAndServerRules) {
    expect_one(R"({"services": {"ssh": {"name": "SSH", "service": "ssh"}}})", "/services/ssh/management", "required");
    expect_one(R"({"services": {"ssh": {"management": 3, "name": "SSH", "service": "ssh"}}})",
               "/services/ssh/management", "expected 1/\"service\" or 2/\"init.d\"");
    expect_one(R"({"services": {"ssh": {"management": 1, "name": "SSH", "service": ")" + std::string(64, 's') + "\"}}}",
               "/services/ssh/service", "at most 63 bytes");
    expect_one(R"({"services": {"ssh": {"management": 1, "name": "SSH", "service": "ssh", "ignore-exit-codes": [1, 1]}}})",
               "/services/ssh/ignore-exit-codes/1", "duplicate exit code 1");
    expect_one(R"({"services": {"ssh": {"management": 1, "name": "SSH", "service": "ssh", "ignore-exit-codes-stop": [0]}}})",
               "/services/ssh/ignore-exit-codes-stop/0", "1..255");
    expect_one(R"({"services": {"ssh": {"management-start": 1, "management-status": 2, "management-stop": 1,
                                        "name": "SSH", "service": "ssh"}}})",
               "/services/ssh/management-restart", "required when management is not set");
    // patrol's verbs have D-Bus calls, or are errors (they would silently do something else)
    expect_one(R"({"services": {"ssh": {"management": 1, "name": "N", "service": "ssh", "management-restart-parameter": "bounce"}}})",
               "/services/ssh/management-restart-parameter", "ReloadOrRestartUnit");
    expect_one(R"({"services": {"ssh": {"management": 1, "name": "N", "service": "ssh", "management-stop-parameter": "halt"}}})",
               "/services/ssh/management-stop-parameter", "StopUnit");
    expect_one(R"({"services": {"ssh": {"management": 1, "name": "N", "service": "ssh", "management-status-parameter": "x"}}})",
               "/services/ssh/management-status-parameter", "expected status");
    // one unit, one service
    expect_one(R"({"services": {"a": {"management": 1, "name": "N", "service": "ssh"}, "b": {"management": 1, "name": "N", "service": "ssh.service"}}})",
               "/services/b/service", "already kept by the service \"a\"");
    expect_one(R"({"services": {"ssh": {"management": 1, "name": "N", "service": "ssh", "restart": {"backoff-max": "1s",
                                        "backoff-initial": "2s"}}}})",
               "/services/ssh/restart/backoff-initial", "must not be more than backoff-max");
    expect_one(R"({"servers": [{"name": "a", "ipAddress": "1.2.3.4", "port": 80, "protocol": "tcp", "timeout": "5"}]})",
               "/servers/0/timeout", "positive number of seconds");
    expect_one(R"({"servers": [{"name": "a", "ipAddress": "1.2.3.4", "protocol": "tcp"}]})", "/servers/0/port",
               "required");
    expect_one(R"({"servers": [{"name": "a", "ipAddress": "1.2.3.4", "port": 1, "protocol": "tcp"}],
                  "settings": {"notifications": {"webhook": [{"url": "u", "method": "PUT"}]}}})",
               "/settings/notifications/webhook/0/method", "\"GET\" or \"POST\"");
    expect_one(R"({"servers": [{"name": "a", "ipAddress": "1.2.3.4", "port": 1, "protocol": "tcp"}],
                  "settings": {"notifications": {"telegram": [{"botToken": "t"}]}}})",
               "/settings/notifications/telegram/0/chatId", "required");
}

TEST(Load, AllErrorsAreCollected) {
    auto r = load_from_string(R"({"apps": {"a": {"keepalive": 7, "name": "", "working-directory": "x", "binary": "../b"},
                                            "b": {"keepalive": 1}}, "history": 1})",
                              "watchd.json");
    EXPECT_GE(r.diagnostics.size(), 8u) << ::testing::PrintToString(errors(r));
    EXPECT_FALSE(r.ok());
}

TEST(Load, SyntaxErrorsHaveLineAndColumn) {
    auto r = load_from_string("{\n  \"apps\": {\n    \"web\": [1,, 2]\n}", "watchd.json");
    ASSERT_EQ(r.diagnostics.size(), 1u);
    EXPECT_NE(r.diagnostics[0].to_string().find("watchd.json: line 3 column 15"), std::string::npos)
        << r.diagnostics[0].to_string();
}

TEST(Load, CommentsAndTrailingCommasAreAccepted) {
    auto r = load_from_string("{ // watchd\n \"apps\": {\"a\": {\"keepalive\": 1, \"name\": \"A\", /* x */ "
                              "\"working-directory\": \"/s\", \"binary\": \"a\",},},}",
                              "w.json");
    EXPECT_TRUE(r.ok()) << ::testing::PrintToString(errors(r));
}

TEST(Load, HomeExpansion) {
    ::setenv("HOME", "/home/tester", 1);
    auto r = load_from_string(R"({"apps": {"a": {"keepalive": 1, "name": "A", "working-directory": "~/apps/a", "binary": "run"}}})",
                              "w.json");
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r.config->apps[0].working_directory, "/home/tester/apps/a");
    EXPECT_EQ(r.config->apps[0].exec_path(), "/home/tester/apps/a/run");
}

TEST(Load, KeyValueIsKeptAsJson) {
    auto r = load_from_string(app_with(R"("keyvalue": {"n": 1, "s": "x", "o": {"a": [true]}})"), "w.json");
    ASSERT_TRUE(r.ok());
    const auto &kv = r.config->apps[0].keyvalue;
    EXPECT_EQ(kv.at("n"), "1");
    EXPECT_EQ(kv.at("s"), "\"x\"");
    EXPECT_EQ(kv.at("o"), "{\"a\":[true]}");
}

class DropIns : public ::testing::Test {
protected:
    fs::path dir;
    void SetUp() override {
        char t[] = "/tmp/watchd-cfg-XXXXXX";
        ASSERT_NE(mkdtemp(t), nullptr);
        dir = t;
        fs::create_directory(dir / "watchd.d");
    }
    void TearDown() override { fs::remove_all(dir); }
    void write(const fs::path &p, const std::string &text) { std::ofstream(p) << text; }
};

TEST_F(DropIns, MergeOverrideAddDelete) {
    write(dir / "watchd.json", R"({"apps": {
        "a": {"keepalive": 1, "name": "A", "working-directory": "/s", "binary": "a"},
        "b": {"keepalive": 1, "name": "B", "working-directory": "/s", "binary": "b"}}, "history": 10})");
    write(dir / "watchd.d" / "10-name.json", R"({"apps": {"a": {"name": "Renamed"}}, "history": 20})");
    write(dir / "watchd.d" / "20-more.json", R"({"apps": {"c": {"keepalive": 1, "name": "C", "working-directory": "/s",
        "binary": "c"}, "b": null}})");
    write(dir / "watchd.d" / "30-later.json", R"({"history": 30})");
    write(dir / "watchd.d" / "ignored.txt", "not json");
    auto r = load((dir / "watchd.json").string());
    ASSERT_TRUE(r.ok()) << ::testing::PrintToString(errors(r));
    ASSERT_EQ(r.config->apps.size(), 2u);
    EXPECT_EQ(r.config->apps[0].name, "Renamed");
    EXPECT_EQ(r.config->apps[1].id, "c");
    EXPECT_EQ(r.config->history, 30u); // lexical order: the last drop-in wins
}

TEST_F(DropIns, ErrorsNameTheFileThatSuppliedTheValue) {
    write(dir / "watchd.json", R"({"apps": {"a": {"keepalive": 1, "name": "A", "working-directory": "/s", "binary": "a"}}})");
    write(dir / "watchd.d" / "50-bad.json", R"({"apps": {"a": {"binary": "../escape"}}, "history": 1})");
    auto r = load((dir / "watchd.json").string());
    ASSERT_EQ(r.diagnostics.size(), 2u) << ::testing::PrintToString(errors(r));
    for (const auto &d : r.diagnostics) EXPECT_EQ(d.file, (dir / "watchd.d" / "50-bad.json").string()) << d.to_string();
    // values from the main file are still blamed on the main file
    write(dir / "watchd.d" / "50-bad.json", R"({"apps": {"a": {"name": "ok"}}})");
    write(dir / "watchd.json", R"({"apps": {"a": {"keepalive": 1, "name": "A", "working-directory": "rel", "binary": "a"}}})");
    r = load((dir / "watchd.json").string());
    ASSERT_EQ(r.diagnostics.size(), 1u);
    EXPECT_EQ(r.diagnostics[0].file, (dir / "watchd.json").string());
}

TEST_F(DropIns, SyntaxErrorInADropInIsReportedAndNothingLoads) {
    write(dir / "watchd.json", R"({"apps": {"a": {"keepalive": 1, "name": "A", "working-directory": "/s", "binary": "a"}}})");
    write(dir / "watchd.d" / "bad.json", "{ nope");
    auto r = load((dir / "watchd.json").string());
    ASSERT_FALSE(r.ok());
    ASSERT_EQ(r.diagnostics.size(), 1u);
    EXPECT_EQ(r.diagnostics[0].file, (dir / "watchd.d" / "bad.json").string());
}

TEST_F(DropIns, MissingFileIsAClearError) {
    auto r = load((dir / "nope.json").string());
    ASSERT_EQ(r.diagnostics.size(), 1u);
    EXPECT_NE(r.diagnostics[0].to_string().find("nope.json: cannot read: No such file or directory"), std::string::npos)
        << r.diagnostics[0].to_string();
}

TEST(AppKeys, PidWaitAndOutputRateLimit) {
    auto r = load_from_string(app_with(R"("pid-wait": "2.5s", "log-rate-limit-burst": 50, "log-rate-limit-interval": "5s")"),
                              "watchd.json");
    ASSERT_TRUE(r.ok()) << ::testing::PrintToString(errors(r));
    EXPECT_EQ(r.config->apps[0].pid_wait, 2500 * base::kUsecPerMsec);
    EXPECT_EQ(r.config->apps[0].log_rate_burst, 50u);
    EXPECT_EQ(r.config->apps[0].log_rate_interval, 5 * base::kUsecPerSec);
    auto d = load_from_string(app_with(""), "watchd.json");
    ASSERT_TRUE(d.ok());
    EXPECT_EQ(d.config->apps[0].pid_wait, 10 * base::kUsecPerSec);
    EXPECT_EQ(d.config->apps[0].log_rate_burst, 10000u);
    EXPECT_EQ(d.config->apps[0].log_rate_interval, 30 * base::kUsecPerSec);
}

TEST(AppKeys, RestartIfAndLimits) {
    auto r = load_from_string(app_with(R"("restart-if": {"memory-above": "200M", "cpu-above": "80%", "tasks-above": 64,
                                                          "for": 2, "every": "500ms"},
                                         "limits": {"memory-max": "1.5G", "tasks-max": 100, "cpu-max": "150%"})"),
                              "watchd.json");
    ASSERT_TRUE(r.ok()) << ::testing::PrintToString(errors(r));
    const auto &a = r.config->apps[0];
    EXPECT_EQ(a.restart_if.memory_above, 200ULL << 20);
    EXPECT_EQ(a.restart_if.cpu_above, 80u);
    EXPECT_EQ(a.restart_if.tasks_above, 64u);
    EXPECT_EQ(a.restart_if.checks, 2u);
    EXPECT_EQ(a.restart_if.every, 500 * base::kUsecPerMsec);
    EXPECT_EQ(a.limits.memory_max, 3ULL << 29);
    EXPECT_EQ(a.limits.tasks_max, 100u);
    EXPECT_EQ(a.limits.cpu_max, 150u);
    auto d = load_from_string(app_with(R"("restart-if": {"memory-above": 1048576})"), "watchd.json");
    ASSERT_TRUE(d.ok()) << ::testing::PrintToString(errors(d));
    EXPECT_EQ(d.config->apps[0].restart_if.checks, 3u); // monit-like: one spike does not restart
    EXPECT_EQ(d.config->apps[0].restart_if.every, 10 * base::kUsecPerSec);
    EXPECT_FALSE(d.config->apps[0].limits.any());

    auto bad = errors(load_from_string(
        app_with(R"("restart-if": {"memory-above": "lots", "cpu-above": 80, "for": 0, "every": "10ms", "mem": 1},
                    "limits": {"cpu-max": "0%", "memory-max": "-1M"})"),
        "watchd.json"));
    auto has = [&](const std::string &text) {
        return std::any_of(bad.begin(), bad.end(), [&](const std::string &e) { return e.find(text) != std::string::npos; });
    };
    EXPECT_TRUE(has("/apps/web/restart-if/memory-above: expected a size such as \"200M\"")) << ::testing::PrintToString(bad);
    EXPECT_TRUE(has("/apps/web/restart-if/cpu-above: expected a percentage of one CPU such as \"80%\"")) << ::testing::PrintToString(bad);
    EXPECT_TRUE(has("/apps/web/restart-if/for: ")) << ::testing::PrintToString(bad);
    EXPECT_TRUE(has("/apps/web/restart-if/every: must be at least 100ms")) << ::testing::PrintToString(bad);
    EXPECT_TRUE(has("/apps/web/restart-if/mem: unknown key")) << ::testing::PrintToString(bad);
    EXPECT_TRUE(has("/apps/web/limits/cpu-max: ")) << ::testing::PrintToString(bad);
    EXPECT_TRUE(has("/apps/web/limits/memory-max: ")) << ::testing::PrintToString(bad);
    const auto empty = errors(load_from_string(app_with(R"("restart-if": {"for": 2})"), "watchd.json"));
    ASSERT_EQ(empty.size(), 1u) << ::testing::PrintToString(empty);
    EXPECT_NE(empty[0].find("/apps/web/restart-if: names no rule: expected memory-above, cpu-above or tasks-above"),
              std::string::npos) << empty[0];
}

} // namespace
} // namespace watchd::config
