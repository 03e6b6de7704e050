// The pure parts of notifications: alert texts (golden), request encodings, certificate times.
#include <gtest/gtest.h>

#include "net/http_request.h"
#include "notify/http_notifier.h"
#include "notify/render.h"

namespace watchd::notify {
namespace {

constexpr base::Usec kT0 = 1700000000000000; // 2023-11-14 22:13:20 UTC

TEST(Render, ACheckDownNamesTheServerSinceAndHost) {
    model::Alert a;
    a.unit = {model::UnitKind::Check, "db"};
    a.kind = model::AlertKind::Down;
    a.name = "db";
    a.target = "db (tcp 10.0.0.5:5432)";
    a.message = "not reached: connection refused";
    a.since = kT0;
    a.at = kT0 + 60 * base::kUsecPerSec;
    const Texts t = render(a, "web1");
    EXPECT_EQ(t.subject, "watchd: check db is down on web1");
    EXPECT_EQ(t.line, "DOWN: db (tcp 10.0.0.5:5432) not reached: connection refused");
    EXPECT_EQ(t.body, "DOWN: db (tcp 10.0.0.5:5432) not reached: connection refused\n"
                      "Since: 2023-11-14 22:13:20 UTC\n"
                      "At: 2023-11-14 22:14:20 UTC\n"
                      "Host: web1\n"
                      "Unit: check/db\n");
}

TEST(Render, AnAppThatFailedAndRecovered) {
    model::Alert a;
    a.unit = {model::UnitKind::App, "web"};
    a.kind = model::AlertKind::Failed;
    a.name = "Web server";
    a.message = "start limit hit: 10 starts within 1min";
    a.at = a.since = kT0;
    Texts t = render(a, "");
    EXPECT_EQ(t.subject, "watchd: app web is failed");
    EXPECT_EQ(t.line, "FAILED: app web (Web server) start limit hit: 10 starts within 1min");
    a.kind = model::AlertKind::Recovered;
    t = render(a, "h");
    EXPECT_EQ(t.body.find("Since"), std::string::npos) << "a recovery has no 'since'";
    EXPECT_EQ(t.line.substr(0, 10), "RECOVERED:");
}

TEST(Encodings, FormJsonUrls) {
    EXPECT_EQ(url_escape("a b&c=d/é~_.-"), "a%20b%26c%3Dd%2F%C3%A9~_.-");
    EXPECT_EQ(form({{"chat_id", "42"}, {"text", "x y"}}), "chat_id=42&text=x%20y");
    EXPECT_EQ(json_string("a\"b\\c\n\x01"), "\"a\\\"b\\\\c\\n\\u0001\"");
    EXPECT_EQ(join_url("https://api.example/", "/v1"), "https://api.example/v1");
    EXPECT_EQ(join_url("http://h:1", "/v1"), "http://h:1/v1");
}

TEST(Certificates, NotAfterAsCurlShowsIt) {
    EXPECT_EQ(net::parse_cert_time("Nov 14 22:13:20 2023 GMT"), kT0);
    EXPECT_EQ(net::parse_cert_time("garbage"), std::nullopt);
}

} // namespace
} // namespace watchd::notify
