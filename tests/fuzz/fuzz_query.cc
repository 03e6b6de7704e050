// libFuzzer target: the query string of GET /api/ (patrol's url.Values reading) and the HTTP router (Go's ServeMux
// path cleaning and redirects) on arbitrary bytes. Checks what every result must satisfy: a GET never pings, sends
// a PID or key/value; the command is within patrol's ranges; cleaning a path twice changes nothing, and a redirect
// leads to a path that routes without another redirect.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "api/http/router.h"
#include "api/patrol/json_doc.h"
#include "api/patrol/protocol.h"
#include "api/patrol/request.h"

namespace {

using namespace watchd::api;

[[noreturn]] void fail(const char *what, std::string_view detail = "") {
    std::fprintf(stderr, "fuzz-query: %s %.*s\n", what, static_cast<int>(detail.size()), detail.data());
    std::abort();
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t *data, std::size_t size) {
    const std::string_view input(reinterpret_cast<const char *>(data), size);

    const patrol::ApiRequest r = patrol::parse_query(input);
    if (r.ping || r.pid || r.keyvalue || r.keyvalue_replace) fail("a GET query set ping, pid or keyvalue");
    if (!(patrol::parse_query(input) == r)) fail("parsing is not deterministic");
    const auto t = patrol::translate(r, patrol::Endpoint::Http);
    if (const auto *target = std::get_if<patrol::Target>(&t)) {
        if (target->cmd.ping || target->cmd.pid || target->cmd.keyvalue) fail("a GET command pings or sets keyvalue");
        if (target->cmd.via != watchd::supervisor::Command::Via::Http) fail("a GET not marked as HTTP");
    }
    // What a client put in the query comes back in JSON: it must stay valid JSON.
    if (!patrol::parse_json(patrol::render_errors({r.id, r.group, r.secret}))) fail("invalid JSON from query strings");

    // The same bytes as a path (a path has no NUL: MHD stops at it) and as the query kept on a redirect.
    const std::string_view path = input.substr(0, input.find('\0'));
    const std::string clean = http::clean_path(path);
    if (clean.empty() || clean[0] != '/') fail("a clean path not rooted:", clean);
    if (http::clean_path(clean) != clean) fail("cleaning twice changed the path:", clean);
    if (clean.find("//") != std::string::npos) fail("a clean path with //:", clean);
    const http::Route route = http::route(path, "q");
    if (route.endpoint == http::Endpoint::Redirect) {
        if (route.location.empty() || route.location[0] != '/') fail("a redirect to a relative place:", route.location);
        if (!route.location.ends_with("?q")) fail("a redirect lost the query:", route.location);
        if (http::route(clean + (clean == "/api" || clean == "/status" ? "/" : ""), "").endpoint ==
            http::Endpoint::Redirect)
            fail("a redirect to a path that redirects again:", clean);
    } else if (clean != path) {
        fail("an unclean path was not redirected:", path);
    }
    return 0;
}
