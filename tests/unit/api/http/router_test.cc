// Routing as Go's ServeMux does it for patrol's handlers: subtrees, the bare-name redirect, path cleaning.
#include <gtest/gtest.h>

#include "api/http/router.h"

namespace watchd::api::http {
namespace {

TEST(Router, Endpoints) {
    EXPECT_EQ(route("/status/", "").endpoint, Endpoint::Status);
    EXPECT_EQ(route("/status/anything/below", "").endpoint, Endpoint::Status);
    EXPECT_EQ(route("/api/", "id=x").endpoint, Endpoint::Api);
    EXPECT_EQ(route("/api/x", "").endpoint, Endpoint::Api);
    EXPECT_EQ(route("/", "").endpoint, Endpoint::Index);
    EXPECT_EQ(route("/ui/app.js", "").endpoint, Endpoint::Ui);
    EXPECT_EQ(route("/ui/app.js", "").location, "app.js");
    EXPECT_EQ(route("/ui/events", "x=1").location, "events");
    EXPECT_EQ(route("/ui/", "").endpoint, Endpoint::NotFound);
    EXPECT_EQ(route("/ui/a/b", "").endpoint, Endpoint::NotFound);
    EXPECT_EQ(route("/ui/../metrics", "").endpoint, Endpoint::Redirect); // cleaned first, as ServeMux does
    EXPECT_EQ(route("/stdout/", "").endpoint, Endpoint::NotFound);
    EXPECT_EQ(route("/API/", "").endpoint, Endpoint::NotFound); // paths are case-sensitive
    EXPECT_EQ(route("/statusx", "").endpoint, Endpoint::NotFound);
}

TEST(Router, RedirectsKeepTheQuery) {
    const Route api = route("/api", "group=app&id=web");
    EXPECT_EQ(api.endpoint, Endpoint::Redirect);
    EXPECT_EQ(api.location, "/api/?group=app&id=web");
    EXPECT_EQ(route("/status", "").location, "/status/");
    EXPECT_EQ(route("//api/./", "").location, "/api/");
    EXPECT_EQ(route("/x/../status/", "").location, "/status/");
    EXPECT_EQ(route("/../api", "").location, "/api/");
    EXPECT_EQ(route("/a b/", "").location, ""); // clean already: not found, not redirected
    EXPECT_EQ(route("/a b//", "").location, "/a%20b/");
}

TEST(Router, CleanPathIsGos) {
    EXPECT_EQ(clean_path(""), "/");
    EXPECT_EQ(clean_path("api"), "/api");
    EXPECT_EQ(clean_path("/a//b/../c/"), "/a/c/");
    EXPECT_EQ(clean_path("/a/b/.."), "/a");
    EXPECT_EQ(clean_path("/.."), "/");
    EXPECT_EQ(clean_path("/./"), "/");
}

TEST(Router, Escaping) {
    EXPECT_EQ(escape_path("/a b/é?#!'()*$&+,:;=@~"), "/a%20b/%C3%A9%3F%23%21%27%28%29%2A$&+,:;=@~");
    EXPECT_EQ(html_escape("<a href=\"x\">&'"), "&lt;a href=&#34;x&#34;&gt;&amp;&#39;");
}

} // namespace
} // namespace watchd::api::http
