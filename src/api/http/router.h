// Which handler a request path goes to: Go's http.ServeMux as patrol sets it up (the /status/ and /api/ subtrees,
// "/" for the index, anything else 404), with ServeMux's 301 redirects to the clean path ("/api" → "/api/",
// "//api/./" → "/api/"). Pure: no I/O.
#pragma once

#include <string>
#include <string_view>

namespace watchd::api::http {

enum class Endpoint {
    Status,   // /status/ and below: patrol's API_Status
    Api,      // /api/ and below: patrol's API_Request → API_Response
    Index,    // "/" exactly: the dashboard
    Ui,       // "/ui/<name>" (one name, no deeper path): the dashboard's files and JSON, `location` = name
    GossmJson, // "/json" exactly: gossm's check status history
    Metrics,  // "/metrics" exactly: Prometheus' text format
    NotFound, // anything else: Go's "404 page not found"
    Redirect, // 301 to `location`
};

struct Route {
    Endpoint endpoint = Endpoint::NotFound;
    std::string location; // Redirect: the clean path (escaped as Go escapes it) and the query; Ui: the name
};

// path: the request path, %-decoded; raw_query: the query string as sent (no '?'), kept on redirects.
Route route(std::string_view path, std::string_view raw_query);

// Go's path.Clean, with the trailing slash kept as ServeMux keeps it ("" → "/", "a//b/../c/" → "/a/c/").
std::string clean_path(std::string_view path);

// A path %-escaped as Go's url.URL.EscapedPath() escapes it (letters, digits, -_.~$&+,/:;=@ stay).
std::string escape_path(std::string_view path);

// Text made safe inside HTML, as Go's htmlEscape (& < > " ').
std::string html_escape(std::string_view s);

} // namespace watchd::api::http
